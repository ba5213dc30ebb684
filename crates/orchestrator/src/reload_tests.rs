// Protects an orchestrator restart: a task still running keeps the deadline it had
// (failing at once, saying so, when it passed while the orchestrator was down), a
// task whose outputs are all stored is done, and an unstopped optimisation run waits
// again for its problem's last iteration or stops with a reason.

use super::*;
use crate::optimize::IterationRecord;

const DEADLINE: Duration = Duration::from_secs(30);

fn task(created_ms: u64, outputs: &[(NodeId, Option<f64>)]) -> RunningTask {
    RunningTask {
        task_id: TaskIdImpl::new(4, 1),
        created_ms,
        outputs: outputs.to_vec(),
    }
}

#[test]
fn a_task_within_its_deadline_runs_for_what_is_left_of_it() {
    let t = task(1_000, &[(NodeId::AppRequirements, None)]);
    match plan_task(&t, DEADLINE, 11_000) {
        TaskPlan::Resume {
            remaining,
            received,
            carbon,
        } => {
            assert_eq!(remaining, Duration::from_secs(20));
            assert_eq!(received, BTreeSet::from([NodeId::AppRequirements]));
            assert_eq!(carbon, None);
        }
        other => panic!("{other:?}"),
    }
    // A start in the future (the clock went back) leaves the whole deadline.
    match plan_task(&t, DEADLINE, 500) {
        TaskPlan::Resume { remaining, .. } => assert_eq!(remaining, DEADLINE),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_task_whose_deadline_passed_while_down_fails_saying_so() {
    let t = task(
        1_000,
        &[(NodeId::AppRequirements, None), (NodeId::MlModel, None)],
    );
    let TaskPlan::Expired(reason) = plan_task(&t, DEADLINE, 41_000) else {
        panic!("not expired")
    };
    assert!(
        reason.starts_with("deadline of 30s passed while the orchestrator was down"),
        "{reason}"
    );
    assert!(
        reason.contains("started 40.0 s before the restart"),
        "{reason}"
    );
    assert!(
        reason.ends_with(
            "no output from: HW_CONSTRAINTS_NODE, ML_MODEL_METADATA_NODE, HW_RESOURCES_NODE, \
             CARBON_FOOTPRINT_NODE"
        ),
        "{reason}"
    );
    // Exactly at the deadline is past it.
    assert!(matches!(
        plan_task(&t, DEADLINE, 31_000),
        TaskPlan::Expired(_)
    ));
}

#[test]
fn a_task_with_every_output_stored_is_done_and_one_with_its_footprint_waits_for_stragglers() {
    let all: Vec<(NodeId, Option<f64>)> = OUTPUT_NODES
        .iter()
        .map(|n| (*n, (*n == NodeId::CarbonFootprint).then_some(7.5)))
        .collect();
    // Done even long past the deadline: the outputs came in time.
    assert_eq!(
        plan_task(&task(0, &all), DEADLINE, 999_000),
        TaskPlan::Done(7.5)
    );
    let some = [
        (NodeId::MlModel, None),
        (NodeId::CarbonFootprint, Some(2.0)),
    ];
    match plan_task(&task(0, &some), DEADLINE, 999_000) {
        TaskPlan::Resume {
            remaining, carbon, ..
        } => {
            assert_eq!(remaining, Duration::ZERO);
            assert_eq!(carbon, Some(2.0));
        }
        other => panic!("{other:?}"),
    }
}

fn report(iterations: &[u32]) -> OptimizationReport {
    OptimizationReport {
        problem_id: 3,
        target: 1.0,
        iterations: iterations
            .iter()
            .map(|i| IterationRecord {
                task_id: TaskIdImpl::new(3, *i),
                carbon_footprint: Some(10.0),
            })
            .collect(),
        stopped: None,
        best: None,
        budget: None,
    }
}

#[test]
fn an_unstopped_run_waits_again_for_its_last_iteration() {
    // Iteration 2 was running: the run waits for it, two iterations started.
    match plan_run(report(&[1]), Some(2)) {
        RunPlan::Resume {
            report,
            current,
            submitted,
        } => {
            assert_eq!(current, TaskIdImpl::new(3, 2));
            assert_eq!(submitted, 2);
            assert_eq!(report.iterations.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    // Iteration 2 was recorded just before the stop: it is judged again.
    match plan_run(report(&[1, 2]), Some(2)) {
        RunPlan::Resume {
            report, current, ..
        } => {
            assert_eq!(current, TaskIdImpl::new(3, 2));
            assert_eq!(report.iterations.len(), 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_run_without_iterations_left_stops_with_a_reason() {
    let RunPlan::Stop(stopped) = plan_run(report(&[1]), None) else {
        panic!("not stopped")
    };
    let stop = stopped.stopped.expect("a stop");
    assert_eq!(stop.kind, StopKind::Error);
    assert!(
        stop.message.contains("no iteration of problem 3 is left"),
        "{}",
        stop.message
    );
}
