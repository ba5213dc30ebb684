//! Protects an orchestrator restart: tasks the store still marks running are taken
//! up again with the deadline they had (one that passed while the orchestrator was
//! down fails at once, saying so), outputs the nodes wrote meanwhile complete them,
//! cancel works on them, and an unstopped optimisation run goes on from its last
//! iteration. Runs inside scripts/isolated (it opens DDS participants). Domain 186.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sustainml_dds::Participant;
use sustainml_orchestrator::optimize::IterationRecord;
use sustainml_orchestrator::store::Store;
use sustainml_orchestrator::types::{
    topics, AppRequirementsImpl, CO2FootprintImpl, HWConstraintsImpl, HWResourceImpl, MLModelImpl,
    MLModelMetadataImpl, TaskIdImpl, UserInputImpl,
};
use sustainml_orchestrator::{
    Budget, NodeOutput, OptimizationReport, Orchestrator, OrchestratorOptions, StopKind, TaskState,
};

const DOMAIN: u16 = 186;
const DEADLINE: Duration = Duration::from_secs(30);
const WAIT: Duration = Duration::from_secs(60);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../target/test-data/orchestrator-restart-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn input(problem: u32, iteration: u32) -> UserInputImpl {
    UserInputImpl {
        modality: "images".into(),
        task_id: TaskIdImpl::new(problem, iteration),
        ..Default::default()
    }
}

/// What an orchestrator killed mid-stream leaves in its store, `now` ms.
fn killed_orchestrator_store(dir: &std::path::Path, now: u64) {
    let store = Store::open(dir).expect("open the store");
    // Problem 1 optimises automatically: 1.1 done (footprint 50), 1.2 running.
    store.insert_task(&input(1, 1), now - 20_000).expect("1.1");
    let co2 = NodeOutput::CarbonFootprint(CO2FootprintImpl {
        carbon_footprint: 50.0,
        task_id: TaskIdImpl::new(1, 1),
        ..Default::default()
    });
    store.put_output(&co2, now - 15_000).expect("1.1 output");
    store
        .set_state(TaskIdImpl::new(1, 1), &TaskState::Done, now - 15_000)
        .expect("1.1 done");
    store.insert_task(&input(1, 2), now - 10_000).expect("1.2");
    let report = OptimizationReport {
        problem_id: 1,
        target: 1.0,
        iterations: vec![IterationRecord {
            task_id: TaskIdImpl::new(1, 1),
            carbon_footprint: Some(50.0),
        }],
        stopped: None,
        best: Some(TaskIdImpl::new(1, 1)),
        budget: None,
    };
    let json = serde_json::to_string(&report).expect("report JSON");
    store.put_run(1, &json).expect("the run");
    // 2.1 started before its deadline could be met; 3.1 is to be cancelled; 4.1
    // has a second of its deadline left.
    store.insert_task(&input(2, 1), now - 45_000).expect("2.1");
    store.insert_task(&input(3, 1), now - 1_000).expect("3.1");
    store.insert_task(&input(4, 1), now - 29_000).expect("4.1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_orchestrator_takes_up_its_running_tasks_and_runs() {
    assert_eq!(
        std::env::var("SUSTAINML_ISOLATED").as_deref(),
        Ok("1"),
        "this test opens DDS participants: run it inside scripts/isolated"
    );
    let dir = data_dir();
    killed_orchestrator_store(&dir, now_ms());

    // The nodes answered 1.2 while the orchestrator was down: their writers keep it.
    let nodes = Participant::builder()
        .name("FAKE_NODES")
        .domain(DOMAIN)
        .build()
        .expect("participant");
    let id = TaskIdImpl::new(1, 2);
    macro_rules! answer {
        ($topic:expr, $value:expr) => {{
            let p = nodes.publisher($topic).expect("publisher");
            p.write($value).await.expect("write");
            p
        }};
    }
    let _writers = (
        answer!(
            topics::APP_REQUIREMENTS_OUTPUT,
            AppRequirementsImpl {
                task_id: id,
                ..Default::default()
            }
        ),
        answer!(
            topics::HW_CONSTRAINTS_OUTPUT,
            HWConstraintsImpl {
                task_id: id,
                ..Default::default()
            }
        ),
        answer!(
            topics::ML_MODEL_METADATA_OUTPUT,
            MLModelMetadataImpl {
                task_id: id,
                ..Default::default()
            }
        ),
        answer!(
            topics::ML_MODEL_OUTPUT,
            MLModelImpl {
                model: "smaller".into(),
                task_id: id,
                ..Default::default()
            }
        ),
        answer!(
            topics::HW_RESOURCES_OUTPUT,
            HWResourceImpl {
                task_id: id,
                ..Default::default()
            }
        ),
        answer!(
            topics::CARBON_FOOTPRINT_OUTPUT,
            CO2FootprintImpl {
                carbon_footprint: 20.0,
                task_id: id,
                ..Default::default()
            }
        ),
    );

    let budget = Budget {
        max_iterations: 2,
        max_time: Duration::from_secs(600),
    };
    let options = OrchestratorOptions::new(&dir)
        .domain(DOMAIN)
        .deadline(DEADLINE)
        .budget(budget);
    let started = tokio::time::Instant::now();
    let orch = Orchestrator::start(options).await.expect("restart");

    // 2.1's deadline passed while the orchestrator was down.
    let expired = orch.task(TaskIdImpl::new(2, 1)).await.expect("2.1");
    match expired.map(|t| t.summary.state) {
        Some(TaskState::Failed { reason }) => assert!(
            reason.contains("passed while the orchestrator was down")
                && reason.contains("no output from: APP_REQUIREMENTS_NODE"),
            "{reason}"
        ),
        other => panic!("2.1 is {other:?}"),
    }
    // A reloaded task can be cancelled.
    let three = TaskIdImpl::new(3, 1);
    assert!(orch.cancel_task(three).await.expect("cancel 3.1"));
    let cancelled = orch.task(three).await.expect("3.1").expect("stored");
    assert_eq!(
        cancelled.summary.state,
        TaskState::Failed {
            reason: "cancelled".into()
        }
    );
    // 4.1 keeps its stored deadline: it fails in about a second, not in 30.
    let four = orch
        .wait_task(TaskIdImpl::new(4, 1), Duration::from_secs(15))
        .await
        .expect("4.1 ends within its old deadline");
    match four {
        TaskState::Failed { reason } => assert!(reason.contains("deadline of 30s"), "{reason}"),
        other => panic!("4.1 is {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(15));

    // 1.2 completes from the replayed outputs, and its run stops on its budget.
    assert_eq!(
        orch.wait_task(id, WAIT).await.expect("1.2"),
        TaskState::Done
    );
    let report = orch.wait_optimization(1, WAIT).await.expect("the run");
    let ids: Vec<TaskIdImpl> = report.iterations.iter().map(|i| i.task_id).collect();
    assert_eq!(ids, vec![TaskIdImpl::new(1, 1), id]);
    assert_eq!(report.best, Some(id));
    let stop = report.stopped.expect("stopped");
    assert_eq!(stop.kind, StopKind::IterationsExhausted, "{}", stop.message);
    orch.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
