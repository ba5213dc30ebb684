//! Protects the orchestrator across processes: a task runs through the six nodes and
//! everything is stored, iterations get the previous outputs as baselines, failures and
//! deadlines fail tasks with a reason, the store survives a restart, configuration
//! requests are answered or time out clearly, a killed node turns INACTIVE, automatic
//! optimisation stops on its target, its budget or NO_MODEL, a new orchestrator never
//! reuses a task id the running nodes already did, node states are remembered, and a
//! cancelled task is stopped on its node.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sustainml_dds::Participant;
use sustainml_node::NodeKind;
use sustainml_orchestrator::{
    Budget, Error, Orchestrator, OrchestratorOptions, StopKind, TaskState, OUTPUT_NODES,
};
use sustainml_tests::{assert_isolated, repo_root, Peer};
use sustainml_types::topics;
use sustainml_types::{ErrorCode, MLModelImpl, NodeId, TaskIdImpl, UserInputImpl};

const NODE: &str = env!("CARGO_BIN_EXE_sustainml-test-node");
const WAIT: Duration = Duration::from_secs(60);

/// One graph at a time: six node processes per graph on a 2-core machine.
static ONE_GRAPH_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A fresh data directory under target/test-data.
fn data_dir(name: &str) -> PathBuf {
    let dir = repo_root().join(format!(
        "target/test-data/orchestrator-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Starts node processes: (kind, extra arguments).
fn nodes(domain: u16, kinds: &[(NodeKind, &[&str])]) -> Vec<Peer> {
    kinds
        .iter()
        .map(|(kind, extra)| {
            let mut args = vec!["--kind", kind.node_name()];
            args.extend_from_slice(extra);
            Peer::spawn(kind.node_name(), Path::new(NODE), &args, domain, &[])
        })
        .collect()
}

fn all_six(domain: u16) -> Vec<Peer> {
    all_six_with(domain, None)
}

/// The six nodes, one of them started with extra arguments.
fn all_six_with(domain: u16, special: Option<(NodeKind, &[&str])>) -> Vec<Peer> {
    let kinds: Vec<(NodeKind, &[&str])> = NodeKind::ALL
        .iter()
        .map(|k| match special {
            Some((kind, args)) if kind == *k => (*k, args),
            _ => (*k, &[][..]),
        })
        .collect();
    nodes(domain, &kinds)
}

fn logs(nodes: &[Peer]) -> String {
    nodes
        .iter()
        .map(Peer::stderr_text)
        .collect::<Vec<_>>()
        .join("\n")
}

fn options(dir: &Path, domain: u16) -> OrchestratorOptions {
    OrchestratorOptions::new(dir).domain(domain)
}

/// Waits for the six nodes and the orchestrator's writers to match.
async fn ready(orch: &Orchestrator, nodes: &[Peer]) {
    if let Err(e) = orch.wait_ready(WAIT).await {
        panic!("{e}\nnode logs:\n{}", logs(nodes));
    }
}

/// Waits until the registry lists `names` alive, then lets discovery settle.
async fn seen(orch: &Orchestrator, names: &[NodeId]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let statuses = orch.node_statuses();
        if names
            .iter()
            .all(|n| statuses.get(n.rest_key()).is_some_and(|i| i.alive))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nodes not seen: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn problem(modality: &str) -> UserInputImpl {
    UserInputImpl {
        modality: modality.into(),
        problem_short_description: "classify birds".into(),
        geo_location_region: "France".into(),
        extra_data: br#"{"goal":"image-classification"}"#.to_vec(),
        ..Default::default()
    }
}

async fn done(orch: &Orchestrator, id: TaskIdImpl, nodes: &[Peer]) {
    match orch.wait_task(id, WAIT).await {
        Ok(TaskState::Done) => {}
        other => panic!("task {id}: {other:?}\nnode logs:\n{}", logs(nodes)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_and_its_next_iteration_run_through_the_six_nodes() {
    assert_isolated();
    let _one = ONE_GRAPH_AT_A_TIME.lock().await;
    let domain = 120;
    let graph = all_six(domain);
    let orch = Orchestrator::start(options(&data_dir("iterations"), domain))
        .await
        .expect("start");
    ready(&orch, &graph).await;

    let first = orch.new_task(problem("images")).await.expect("new task");
    assert_eq!(first, TaskIdImpl::new(1, 1));
    done(&orch, first, &graph).await;
    let task = orch.task(first).await.expect("query").expect("stored");
    assert_eq!(task.outputs.len(), 6, "{:?}", task.outputs.keys());
    assert_eq!(task.summary.carbon_footprint, Some(10.0));
    let json = task.to_json();
    assert_eq!(
        json["outputs"]["ML_MODEL"]["model"], "ML_MODEL_NODE@1.1",
        "{json}"
    );
    // Statuses travel on their own topic: the last one may land just after the task
    // is done.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let task = orch.task(first).await.expect("query").expect("stored");
        if task
            .statuses
            .iter()
            .any(|s| s.node_name == "CARBON_FOOTPRINT_NODE" && s.task_status == "TASK_SUCCEEDED")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no TASK_SUCCEEDED from CARBON_FOOTPRINT_NODE: {:?}",
            task.statuses
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Watch the model baseline the next iteration publishes.
    let watcher = Participant::builder()
        .name("baseline-watcher")
        .domain(domain)
        .build()
        .expect("participant");
    let mut baselines = watcher
        .subscriber::<MLModelImpl>(topics::ML_MODEL_BASELINE)
        .expect("subscriber");
    baselines
        .wait_for_writers(1, WAIT)
        .await
        .expect("baseline writer");

    let second = orch.new_iteration(1, None).await.expect("new iteration");
    assert_eq!(second, TaskIdImpl::new(1, 2));
    done(&orch, second, &graph).await;
    let baseline = tokio::time::timeout(WAIT, async {
        loop {
            let b = baselines.recv().await.expect("baseline").value;
            if b.task_id == second {
                return b;
            }
        }
    })
    .await
    .expect("the baseline of 1.2");
    // Iteration 2's baseline is iteration 1's model, stamped 1.2.
    assert_eq!(baseline.model, "ML_MODEL_NODE@1.1");
    let input = orch
        .user_input(second)
        .await
        .expect("query")
        .expect("input");
    assert_eq!(input.modality, "images");
    assert_eq!(input.previous_iteration, 1);
    let models = orch
        .output(second, NodeId::MlModel)
        .await
        .expect("query")
        .expect("model of 1.2");
    assert_eq!(models.to_json()["model"], "ML_MODEL_NODE@1.2");
    // And the node received it: the test node names its baseline.
    let properties = models.to_json()["model_properties"].to_string();
    assert!(
        properties.contains("baseline=ML_MODEL_NODE@1.1"),
        "{properties}"
    );
    orch.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_node_fails_the_task_with_its_reason() {
    assert_isolated();
    let _one = ONE_GRAPH_AT_A_TIME.lock().await;
    let domain = 121;
    let mut kinds: Vec<(NodeKind, &[&str])> = NodeKind::ALL
        .iter()
        .filter(|k| **k != NodeKind::HwResources)
        .map(|k| (*k, &[][..]))
        .collect();
    kinds.push((NodeKind::HwResources, &["--fail-problem", "1"]));
    let graph = nodes(domain, &kinds);
    let orch = Orchestrator::start(options(&data_dir("failing"), domain))
        .await
        .expect("start");
    ready(&orch, &graph).await;
    let id = orch.new_task(problem("images")).await.expect("new task");
    let state = orch.wait_task(id, WAIT).await.expect("finished");
    let TaskState::Failed { reason } = state else {
        panic!("not failed: {state:?}");
    };
    assert!(reason.contains("HW_RESOURCES_NODE"), "{reason}");
    assert!(reason.contains("refusing problem 1 on purpose"), "{reason}");
    let stored = orch.tasks().await.expect("tasks");
    assert_eq!(stored[0].state, TaskState::Failed { reason });
    orch.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_fails_at_its_deadline_naming_the_silent_node() {
    assert_isolated();
    let _one = ONE_GRAPH_AT_A_TIME.lock().await;
    let domain = 122;
    let kinds: Vec<(NodeKind, &[&str])> = NodeKind::ALL
        .iter()
        .filter(|k| **k != NodeKind::CarbonFootprint)
        .map(|k| (*k, &[][..]))
        .collect();
    let graph = nodes(domain, &kinds);
    let opts = options(&data_dir("deadline"), domain).deadline(Duration::from_secs(8));
    let orch = Orchestrator::start(opts).await.expect("start");
    let five: Vec<NodeId> = kinds.iter().map(|(k, _)| k.id()).collect();
    seen(&orch, &five).await;
    let id = orch.new_task(problem("images")).await.expect("new task");
    let state = orch.wait_task(id, WAIT).await.expect("finished");
    let TaskState::Failed { reason } = state else {
        panic!("not failed: {state:?}\n{}", logs(&graph));
    };
    assert!(reason.contains("deadline"), "{reason}");
    assert!(reason.contains("CARBON_FOOTPRINT_NODE"), "{reason}");
    assert!(!reason.contains("APP_REQUIREMENTS_NODE"), "{reason}");
    orch.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_survive_an_orchestrator_restart() {
    assert_isolated();
    let _one = ONE_GRAPH_AT_A_TIME.lock().await;
    let domain = 123;
    let dir = data_dir("restart");
    let graph = all_six(domain);
    let orch = Orchestrator::start(options(&dir, domain))
        .await
        .expect("start");
    ready(&orch, &graph).await;
    let id = orch.new_task(problem("audio")).await.expect("new task");
    done(&orch, id, &graph).await;

    // A second orchestrator on the same directory is refused, naming the file.
    let err = Orchestrator::start(options(&dir, domain))
        .await
        .expect_err("the store is locked");
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert!(err.to_string().contains("locked"), "{err}");
    assert!(err.to_string().contains("orchestrator.sqlite3"), "{err}");

    orch.close().await;
    let orch = Orchestrator::start(options(&dir, domain))
        .await
        .expect("restart");
    let tasks = orch.tasks().await.expect("tasks");
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].task_id, id);
    assert_eq!(tasks[0].state, TaskState::Done);
    assert_eq!(tasks[0].outputs, 6);
    let task = orch.task(id).await.expect("query").expect("stored");
    assert_eq!(
        task.user_input.map(|u| u.modality).as_deref(),
        Some("audio")
    );
    assert_eq!(task.outputs.len(), 6);
    // Problem ids continue after the highest stored.
    ready(&orch, &graph).await;
    let next = orch.new_task(problem("audio")).await.expect("new task");
    assert_eq!(next, TaskIdImpl::new(2, 1));
    done(&orch, next, &graph).await;
    orch.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_requests_are_answered_or_time_out_clearly() {
    assert_isolated();
    let _one = ONE_GRAPH_AT_A_TIME.lock().await;
    let domain = 124;
    let graph = nodes(
        domain,
        &[
            (NodeKind::MlModelMetadata, &[]),
            (NodeKind::HwResources, &[]),
        ],
    );
    let orch = Orchestrator::start(options(&data_dir("config"), domain))
        .await
        .expect("start");
    seen(&orch, &[NodeId::MlModelMetadata, NodeId::HwResources]).await;
    // Two nodes asked at once; each answers its own request.
    let (md, hw) = tokio::join!(
        orch.configuration_request(NodeId::MlModelMetadata, "modality"),
        orch.configuration_request(NodeId::HwResources, "hardwares"),
    );
    let (md, hw) = (md.expect("metadata answers"), hw.expect("hw answers"));
    assert_ne!(md.transaction_id, hw.transaction_id);
    assert!(md.success && hw.success);
    let md: serde_json::Value = serde_json::from_str(&md.configuration).expect("JSON");
    assert_eq!(md["node"], "ML_MODEL_METADATA_NODE");
    assert_eq!(md["request"], "modality");
    let hw: serde_json::Value = serde_json::from_str(&hw.configuration).expect("JSON");
    assert_eq!(hw["node"], "HW_RESOURCES_NODE");
    // The node's failure comes back as it sent it.
    let failed = orch
        .configuration_request(NodeId::HwResources, "fail")
        .await
        .expect("an answer");
    assert!(!failed.success);
    assert_eq!(failed.err_code, ErrorCode::InternalError);
    assert!(failed.configuration.contains("asked to fail"));
    // Nobody serves CARBON_FOOTPRINT here.
    let err = orch
        .configuration_request(NodeId::CarbonFootprint, "anything")
        .await
        .expect_err("no such node");
    assert!(matches!(err, Error::ConfigTimeout { .. }), "{err:?}");
    assert!(err.to_string().contains("CARBON_FOOTPRINT_NODE"), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    drop(graph);
    orch.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_becomes_inactive() {
    assert_isolated();
    let _one = ONE_GRAPH_AT_A_TIME.lock().await;
    let domain = 125;
    let mut graph = nodes(
        domain,
        &[
            (NodeKind::AppRequirements, &[]),
            (NodeKind::HwConstraints, &[]),
        ],
    );
    let orch = Orchestrator::start(options(&data_dir("killed"), domain))
        .await
        .expect("start");
    seen(&orch, &[NodeId::AppRequirements, NodeId::HwConstraints]).await;
    assert_eq!(orch.node_statuses()["APP_REQUIREMENTS"].status, "IDLE");
    // Drop kills the process (SIGKILL): no goodbye, only the lease tells.
    drop(graph.remove(0));
    // rustdds participants announce a 50 s lease.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let statuses = orch.node_statuses();
        let app = &statuses["APP_REQUIREMENTS"];
        if app.status == "INACTIVE" {
            assert!(!app.alive);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {}",
            app.status
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The other node is still alive.
    assert!(orch.node_statuses()["HW_CONSTRAINTS"].alive);
    orch.close().await;
}

fn auto(target: f64) -> UserInputImpl {
    UserInputImpl {
        optimize_carbon_footprint_auto: true,
        desired_carbon_footprint: target,
        ..problem("images")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_optimisation_stops_at_its_target() {
    assert_isolated();
    let _one = ONE_GRAPH_AT_A_TIME.lock().await;
    let domain = 126;
    let graph = all_six(domain);
    let orch = Orchestrator::start(options(&data_dir("auto-target"), domain))
        .await
        .expect("start");
    ready(&orch, &graph).await;
    let mut events = orch.subscribe();
    // The test nodes give problem 1 a footprint of 10.
    let id = orch.new_task(auto(15.0)).await.expect("new task");
    let report = orch
        .wait_optimization(id.problem_id, WAIT)
        .await
        .expect("run stops");
    let stop = report.stopped.expect("stopped");
    assert_eq!(stop.kind, StopKind::TargetReached, "{}", stop.message);
    assert_eq!(report.iterations.len(), 1);
    assert_eq!(report.best, Some(id));
    // Progress was announced.
    let mut metrics = 0;
    while let Ok(e) = events.try_recv() {
        if matches!(e, sustainml_orchestrator::Event::Iteration(_)) {
            metrics += 1;
        }
    }
    assert_eq!(metrics, 1);
    orch.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_optimisation_stops_when_its_budget_is_spent() {
    assert_isolated();
    let _one = ONE_GRAPH_AT_A_TIME.lock().await;
    let domain = 127;
    let graph = all_six(domain);
    let dir = data_dir("auto-budget");
    let budget = Budget {
        max_iterations: 3,
        max_time: Duration::from_secs(300),
    };
    let orch = Orchestrator::start(options(&dir, domain).budget(budget))
        .await
        .expect("start");
    ready(&orch, &graph).await;
    // A footprint of 10 never reaches 5.
    let id = orch.new_task(auto(5.0)).await.expect("new task");
    let report = orch
        .wait_optimization(id.problem_id, Duration::from_secs(180))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", logs(&graph)));
    let stop = report.stopped.clone().expect("stopped");
    assert_eq!(stop.kind, StopKind::IterationsExhausted, "{}", stop.message);
    let ids: Vec<TaskIdImpl> = report.iterations.iter().map(|i| i.task_id).collect();
    assert_eq!(
        ids,
        vec![
            TaskIdImpl::new(1, 1),
            TaskIdImpl::new(1, 2),
            TaskIdImpl::new(1, 3)
        ]
    );
    assert!(report
        .iterations
        .iter()
        .all(|i| i.carbon_footprint == Some(10.0)));
    // The run's report is stored too.
    orch.close().await;
    let orch = Orchestrator::start(options(&dir, domain))
        .await
        .expect("restart");
    let stored = orch.optimization(1).await.expect("query").expect("stored");
    assert_eq!(stored, report);
    orch.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_optimisation_stops_when_ml_model_has_no_model() {
    assert_isolated();
    let _one = ONE_GRAPH_AT_A_TIME.lock().await;
    let domain = 129;
    let graph = all_six_with(
        domain,
        Some((NodeKind::MlModel, &["--no-model-from-iteration", "2"])),
    );
    let orch = Orchestrator::start(options(&data_dir("auto-no-model"), domain))
        .await
        .expect("start");
    ready(&orch, &graph).await;
    // A footprint of 10 never reaches 5; iteration 2 finds no smaller model.
    let id = orch.new_task(auto(5.0)).await.expect("new task");
    let report = orch
        .wait_optimization(id.problem_id, Duration::from_secs(180))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", logs(&graph)));
    let stop = report.stopped.clone().expect("stopped");
    assert_eq!(stop.kind, StopKind::NoModel, "{}", stop.message);
    assert!(
        stop.message
            .contains("nothing smaller than ML_MODEL_NODE@1.1"),
        "the node's reason is kept: {}",
        stop.message
    );
    let ids: Vec<TaskIdImpl> = report.iterations.iter().map(|i| i.task_id).collect();
    assert_eq!(ids, vec![TaskIdImpl::new(1, 1), TaskIdImpl::new(1, 2)]);
    // The iteration without a model has no footprint; the best is the one before.
    assert_eq!(report.iterations[1].carbon_footprint, None);
    assert_eq!(report.best, Some(TaskIdImpl::new(1, 1)));
    orch.close().await;
}

/// Protects task numbering across orchestrators (the reference's update_task_id): the
/// nodes outlive an orchestrator and ignore task ids they already did, so a new one
/// with an empty store continues after the ids the nodes report. Also: the node
/// states an orchestrator saw are remembered across its restarts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_orchestrator_numbers_after_the_tasks_the_nodes_did() {
    assert_isolated();
    let _one = ONE_GRAPH_AT_A_TIME.lock().await;
    let domain = 130;
    let graph = all_six(domain);
    let first = Orchestrator::start(options(&data_dir("ids-first"), domain))
        .await
        .expect("start");
    ready(&first, &graph).await;
    for expected in [TaskIdImpl::new(1, 1), TaskIdImpl::new(2, 1)] {
        let id = first.new_task(problem("images")).await.expect("new task");
        assert_eq!(id, expected);
        done(&first, id, &graph).await;
    }
    first.close().await;

    // A fresh store: only the nodes know problems 1 and 2 were done.
    let dir = data_dir("ids-second");
    let second = Orchestrator::start(options(&dir, domain))
        .await
        .expect("start");
    let id = second.new_task(problem("audio")).await.expect("new task");
    assert_eq!(id, TaskIdImpl::new(3, 1));
    done(&second, id, &graph).await;
    second.close().await;

    // With the nodes gone, a restart still lists them, INACTIVE, with when they were
    // last heard from.
    drop(graph);
    let third = Orchestrator::start(options(&dir, domain))
        .await
        .expect("restart");
    let statuses = third.node_statuses();
    for key in OUTPUT_NODES.map(NodeId::rest_key) {
        let node = statuses
            .get(key)
            .unwrap_or_else(|| panic!("{key} not remembered: {statuses:?}"));
        assert!(!node.alive, "{node:?}");
        assert_eq!(node.status, "INACTIVE");
        assert!(node.last_seen_ms > 0, "{node:?}");
    }
    third.close().await;
}

/// Protects cancelling: the orchestrator's NodeControl command reaches the node that
/// is running the task, which stops it, and the task fails as cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_task_is_stopped_on_the_node_running_it() {
    assert_isolated();
    let _one = ONE_GRAPH_AT_A_TIME.lock().await;
    let domain = 131;
    let graph = all_six_with(
        domain,
        Some((
            NodeKind::HwResources,
            &["--use-async", "--delay-ms", "600000"],
        )),
    );
    let orch = Orchestrator::start(options(&data_dir("cancel"), domain))
        .await
        .expect("start");
    ready(&orch, &graph).await;
    let id = orch.new_task(problem("images")).await.expect("new task");
    let node_said = |want: &'static str| {
        let orch = &orch;
        async move {
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                let task = orch.task(id).await.expect("query").expect("stored");
                if let Some(s) = task
                    .statuses
                    .iter()
                    .find(|s| s.node_name == "HW_RESOURCES_NODE" && s.task_status == want)
                {
                    return s.description.clone();
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "HW_RESOURCES_NODE never said {want}: {:?}",
                    task.statuses
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    node_said("TASK_RUNNING").await;
    assert!(orch.cancel_task(id).await.expect("cancel"));
    match orch.wait_task(id, WAIT).await {
        Ok(TaskState::Failed { reason }) => assert_eq!(reason, "cancelled"),
        other => panic!("{other:?}"),
    }
    let why = node_said("TASK_ERROR").await;
    assert_eq!(why, "task stopped");
    // Cancelling again does nothing; an unknown task is an error.
    assert!(!orch.cancel_task(id).await.expect("cancel again"));
    let unknown = orch.cancel_task(TaskIdImpl::new(99, 1)).await;
    assert!(matches!(unknown, Err(Error::UnknownTask(_))), "{unknown:?}");
    orch.close().await;
}

/// Protects a late-joining orchestrator (the reference's AlateJoinerOrchestrator
/// scenario): started after the nodes, it still sees all six as IDLE, from the
/// statuses they published before it existed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_orchestrator_sees_every_node_idle() {
    assert_isolated();
    let _one = ONE_GRAPH_AT_A_TIME.lock().await;
    let domain = 128;
    let nodes = all_six(domain);
    // The nodes are up and have published IDLE before the orchestrator exists.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let dir = data_dir("late");
    let orch = Orchestrator::start(options(&dir, domain))
        .await
        .expect("orchestrator");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let statuses = orch.node_statuses();
        let idle = OUTPUT_NODES.iter().all(|n| {
            statuses
                .get(n.rest_key())
                .is_some_and(|i| i.alive && i.status == "IDLE")
        });
        if idle {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every node IDLE: {statuses:#?}\nnode logs:\n{}",
            logs(&nodes)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    orch.close().await;
}
