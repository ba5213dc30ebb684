//! Protects the node runtime's behaviour when things go wrong, across processes: a
//! failing or panicking callback gives TASK_ERROR with its message and no output while
//! the node serves other tasks; a callback that never returns times out and the node
//! stays responsive; incomplete tasks are evicted naming the missing inputs; malformed
//! samples are counted in the node's status; control commands stop, resume, preempt,
//! reset and terminate, and the node's status says so (a stopped node is
//! NODE_INACTIVE, not IDLE; RESET reports each task it drops); Ctrl-C exits cleanly
//! after TERMINATING; a reader that joins after hundreds of tasks still learns the
//! node's state.

use std::path::Path;
use std::time::{Duration, Instant};

use sustainml_dds::{Participant, Subscriber};
use sustainml_tests::{assert_isolated, decode_lines, sample_line, temp_file, Peer};
use sustainml_types::topics::{self, TopicInfo};
use sustainml_types::*;

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");
const NODE: &str = env!("CARGO_BIN_EXE_sustainml-test-node");

fn node(domain: u16, args: &[&str]) -> Peer {
    let mut all = vec!["--kind"];
    all.extend_from_slice(args);
    Peer::spawn(args[0], Path::new(NODE), &all, domain, &[])
}

fn user_inputs(problems: impl IntoIterator<Item = u32>) -> Vec<String> {
    problems
        .into_iter()
        .map(|p| sample_line(topics::USER_INPUT, samples::user_input(), p, 1))
        .collect()
}

fn publish(domain: u16, name: &str, lines: &[String]) {
    let file = temp_file(&format!("{name}-{domain}.txt"), lines);
    Peer::spawn(
        "pub",
        Path::new(PEER),
        &["pub", "--input", file.to_str().expect("path")],
        domain,
        &[],
    )
    .finish(Duration::from_secs(60));
}

/// A subscriber that collects `topic` for `secs` seconds (or until `expect` samples).
fn collect(domain: u16, topic: TopicInfo, expect: usize, secs: u64) -> Peer {
    let sub = Peer::spawn(
        "sub",
        Path::new(PEER),
        &[
            "sub",
            "--topics",
            topic.name,
            "--expect",
            &expect.to_string(),
            "--timeout",
            &secs.to_string(),
        ],
        domain,
        &[],
    );
    sub.expect_line("READY", Duration::from_secs(20));
    sub
}

fn statuses(sub: Peer, secs: u64) -> Vec<NodeStatusImpl> {
    let (_, lines, _) = sub.outcome(Duration::from_secs(secs + 30));
    decode_lines::<NodeStatusImpl>(&lines, topics::STATUS)
}

/// The latest node-wide status (task_id {0,0}).
fn last_node_status(statuses: &[NodeStatusImpl]) -> &NodeStatusImpl {
    statuses
        .iter()
        .rev()
        .find(|s| s.task_id == TaskIdImpl::default())
        .expect("a node status")
}

/// A reader of `/sustainml/status` in this process, waited on by condition.
struct StatusWatch {
    runtime: tokio::runtime::Runtime,
    subscriber: Subscriber<NodeStatusImpl>,
    _participant: Participant,
    /// Everything received so far, in arrival order.
    seen: Vec<NodeStatusImpl>,
}

impl StatusWatch {
    fn new(domain: u16) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let (participant, subscriber) = runtime.block_on(async {
            let participant = Participant::builder()
                .name("STATUS_WATCH")
                .domain(domain)
                .build()
                .expect("participant");
            let subscriber = participant
                .subscriber::<NodeStatusImpl>(topics::STATUS)
                .expect("status reader");
            (participant, subscriber)
        });
        Self {
            runtime,
            subscriber,
            _participant: participant,
            seen: Vec::new(),
        }
    }

    /// Waits until a status satisfying `want` has arrived (it may have already) and
    /// returns its index in `seen`; fails the test after `timeout`.
    fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        want: impl Fn(&NodeStatusImpl) -> bool,
    ) -> usize {
        self.wait_after(0, what, timeout, want)
    }

    /// [`wait_for`](Self::wait_for), among the statuses from index `from` on.
    fn wait_after(
        &mut self,
        from: usize,
        what: &str,
        timeout: Duration,
        want: impl Fn(&NodeStatusImpl) -> bool,
    ) -> usize {
        if let Some(i) = self.seen.iter().skip(from).position(&want) {
            return from + i;
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let got = self
                .runtime
                .block_on(async { tokio::time::timeout(left, self.subscriber.recv()).await });
            match got {
                Ok(Ok(r)) => {
                    self.seen.push(r.value);
                    if want(self.seen.last().expect("just pushed")) {
                        return self.seen.len() - 1;
                    }
                }
                Ok(Err(e)) => panic!("status reader failed: {e}"),
                Err(_) => panic!(
                    "no status {what} within {timeout:?}; seen:\n{:#?}",
                    self.seen
                ),
            }
        }
    }

    /// The node-wide samples (task_id {0,0}) seen from index `from` to `to`.
    fn node_wide(&self, from: usize, to: usize) -> Vec<&NodeStatusImpl> {
        self.seen[from..=to]
            .iter()
            .filter(|s| s.task_id == TaskIdImpl::default())
            .collect()
    }

    /// The samples about task {problem, 1}.
    fn of_task(&self, problem: u32) -> Vec<&NodeStatusImpl> {
        self.seen
            .iter()
            .filter(|s| s.task_id == TaskIdImpl::new(problem, 1))
            .collect()
    }
}

fn node_wide_is(s: &NodeStatusImpl, state: Status) -> bool {
    s.task_id == TaskIdImpl::default() && s.node_status == state
}

fn task_is(s: &NodeStatusImpl, problem: u32, status: TaskStatus) -> bool {
    s.task_id == TaskIdImpl::new(problem, 1) && s.task_status == status
}

fn task_error(statuses: &[NodeStatusImpl], problem: u32) -> Option<&NodeStatusImpl> {
    statuses
        .iter()
        .find(|s| s.task_id.problem_id == problem && s.task_status == TaskStatus::Error)
}

#[test]
fn failing_and_panicking_callbacks_give_task_errors_and_no_output() {
    assert_isolated();
    let d = 90;
    let _node = node(
        d,
        &[
            "app_requirements",
            "--fail-problem",
            "3",
            "--panic-problem",
            "5",
        ],
    );
    let out = collect(d, topics::APP_REQUIREMENTS_OUTPUT, 8, 10);
    let status = collect(d, topics::STATUS, 10_000, 14);
    publish(d, "fail", &user_inputs(1..=10));
    let out = out.finish(Duration::from_secs(40));
    let outputs = decode_lines::<AppRequirementsImpl>(&out, topics::APP_REQUIREMENTS_OUTPUT);
    let mut done: Vec<u32> = outputs.iter().map(|o| o.task_id.problem_id).collect();
    done.sort_unstable();
    assert_eq!(
        done,
        vec![1, 2, 4, 6, 7, 8, 9, 10],
        "no output for the failed tasks"
    );
    let st = statuses(status, 14);
    let failed = task_error(&st, 3).expect("task 3 reported");
    assert_eq!(failed.error_code, ErrorCode::InternalError);
    assert_eq!(failed.error_description, "refusing problem 3 on purpose");
    let panicked = task_error(&st, 5).expect("task 5 reported");
    assert!(
        panicked
            .error_description
            .contains("callback panicked: panicking on problem 5"),
        "{panicked:?}"
    );
    assert!(st
        .iter()
        .any(|s| s.task_id.problem_id == 10 && s.task_status == TaskStatus::Succeeded));
}

#[test]
fn a_callback_that_never_returns_times_out_and_the_node_stays_responsive() {
    assert_isolated();
    let d = 91;
    let _node = node(
        d,
        &[
            "ml_model_metadata",
            "--hang-problem",
            "1",
            "--task-timeout-ms",
            "1500",
            "--concurrency",
            "1",
        ],
    );
    let out = collect(d, topics::ML_MODEL_METADATA_OUTPUT, 3, 30);
    let status = collect(d, topics::STATUS, 10_000, 16);
    publish(d, "hang", &user_inputs(1..=4));
    let lines = out.finish(Duration::from_secs(60));
    let done = decode_lines::<MLModelMetadataImpl>(&lines, topics::ML_MODEL_METADATA_OUTPUT);
    assert_eq!(
        done.len(),
        3,
        "tasks 2..4 ran after task 1 timed out (concurrency 1)"
    );
    let request = Peer::spawn(
        "request",
        Path::new(PEER),
        &[
            "request",
            "--node-id",
            "4",
            "--configuration",
            "modality",
            "--timeout",
            "10",
        ],
        d,
        &[],
    );
    request.finish(Duration::from_secs(30));
    let st = statuses(status, 16);
    let timed_out = task_error(&st, 1).expect("task 1 reported");
    assert!(
        timed_out
            .error_description
            .contains("did not return within"),
        "{timed_out:?}"
    );
}

#[test]
fn incomplete_tasks_are_evicted_naming_the_missing_inputs() {
    assert_isolated();
    let d = 92;
    let _node = node(d, &["hw_resources", "--input-timeout-ms", "1000"]);
    let status = collect(d, topics::STATUS, 10_000, 14);
    let lines: Vec<String> = (1..=3)
        .map(|p| sample_line(topics::ML_MODEL_OUTPUT, samples::ml_model(), p, 1))
        .collect();
    publish(d, "evict", &lines);
    let st = statuses(status, 14);
    for p in 1..=3 {
        let e = task_error(&st, p).expect("evicted task reported");
        assert_eq!(
            e.error_description,
            "timed out waiting for inputs; missing inputs: /sustainml/app_requirements/output (AppRequirementsImpl), /sustainml/hw_constraints/output (HWConstraintsImpl)"
        );
    }
    let node_level = last_node_status(&st);
    assert!(
        node_level
            .error_description
            .contains("3 incomplete tasks evicted"),
        "{node_level:?}"
    );
}

#[test]
fn malformed_samples_are_counted_in_the_node_status() {
    assert_isolated();
    let d = 93;
    let _node = node(d, &["app_requirements"]);
    let status = collect(d, topics::STATUS, 10_000, 14);
    Peer::spawn(
        "pub-raw",
        Path::new(PEER),
        &[
            "pub-raw",
            "--topic",
            topics::USER_INPUT.name,
            "--body",
            "ffffffff",
            "--body",
            "01",
            "--linger",
            "0",
        ],
        d,
        &[],
    )
    .finish(Duration::from_secs(30));
    publish(d, "after-garbage", &user_inputs([1]));
    let st = statuses(status, 14);
    let node_level = last_node_status(&st);
    assert!(
        node_level
            .error_description
            .contains("2 malformed samples dropped"),
        "{node_level:?}"
    );
    assert!(st
        .iter()
        .any(|s| s.task_id.problem_id == 1 && s.task_status == TaskStatus::Succeeded));
}

fn control(cmd_node: CmdNode, cmd_task: CmdTask, task: (u32, u32), seq: u32) -> String {
    let c = NodeControlImpl {
        cmd_node,
        cmd_task,
        target_node: "APP_REQUIREMENTS_NODE".into(),
        source_node: format!("TEST_{seq}"),
        task_id: TaskIdImpl::new(task.0, task.1),
    };
    sample_line(topics::CONTROL, c, task.0, task.1)
}

#[test]
fn stop_and_start_node_pause_and_resume_taking_tasks() {
    assert_isolated();
    let d = 94;
    let _node = node(d, &["app_requirements"]);
    publish(
        d,
        "stop",
        &[control(CmdNode::Stop, CmdTask::NoCmd, (0, 0), 1)],
    );
    let quiet = collect(d, topics::APP_REQUIREMENTS_OUTPUT, 1, 3);
    publish(d, "inputs", &user_inputs(1..=3));
    let (got_one, _, _) = quiet.outcome(Duration::from_secs(30));
    assert!(!got_one, "a stopped node published an output");
    let out = collect(d, topics::APP_REQUIREMENTS_OUTPUT, 3, 20);
    publish(
        d,
        "start",
        &[control(CmdNode::Start, CmdTask::NoCmd, (0, 0), 2)],
    );
    let lines = out.finish(Duration::from_secs(40));
    assert_eq!(
        decode_lines::<AppRequirementsImpl>(&lines, topics::APP_REQUIREMENTS_OUTPUT).len(),
        3
    );
}

#[test]
fn preempting_a_running_task_discards_its_output() {
    assert_isolated();
    let d = 95;
    let _node = node(d, &["app_requirements", "--delay-ms", "10000"]);
    // 20 s of statuses: long enough for the callback's 10 s to end, so an output
    // published after the preemption would show as TASK_SUCCEEDED.
    let status = collect(d, topics::STATUS, 10_000, 20);
    let mut watch = StatusWatch::new(d);
    publish(d, "inputs", &user_inputs([2]));
    // PREEMPT acts on a task that runs: wait until the node says it does.
    watch.wait_for("task 2 RUNNING", Duration::from_secs(30), |s| {
        task_is(s, 2, TaskStatus::Running)
    });
    publish(
        d,
        "preempt",
        &[control(CmdNode::NoCmd, CmdTask::Preempt, (2, 1), 3)],
    );
    let st = statuses(status, 20);
    let e = task_error(&st, 2).expect("task 2 reported");
    assert_eq!(e.error_description, "task preempted");
    assert!(!st
        .iter()
        .any(|s| s.task_id.problem_id == 2 && s.task_status == TaskStatus::Succeeded));
}

#[test]
fn terminate_node_and_ctrl_c_exit_cleanly_after_terminating() {
    assert_isolated();
    for (d, how) in [(96u16, "terminate"), (97, "sigint")] {
        let n = node(d, &["app_requirements"]);
        let status = collect(d, topics::STATUS, 10_000, 14);
        publish(d, "warmup", &user_inputs([1]));
        match how {
            "terminate" => publish(
                d,
                "terminate",
                &[control(CmdNode::Terminate, CmdTask::NoCmd, (0, 0), 4)],
            ),
            _ => {
                let pid = n.pid().to_string();
                let ok = std::process::Command::new("kill")
                    .args(["-INT", &pid])
                    .status()
                    .expect("kill");
                assert!(ok.success());
            }
        }
        let (ok, _, stderr) = n.outcome(Duration::from_secs(20));
        assert!(ok, "{how}: exit code 0 expected:\n{stderr}");
        let st = statuses(status, 14);
        let last = last_node_status(&st);
        assert_eq!(last.node_status, Status::Terminating, "{how}");
    }
}

/// RESET_NODE drops the tasks waiting to run and reports each one once, by name of the command and its sender.
#[test]
fn reset_node_drops_the_tasks_waiting_to_run() {
    assert_isolated();
    let d = 98;
    let _node = node(d, &["app_requirements"]);
    let mut watch = StatusWatch::new(d);
    watch.wait_for("IDLE", Duration::from_secs(30), |s| {
        node_wide_is(s, Status::Idle)
    });
    publish(
        d,
        "stop",
        &[control(CmdNode::Stop, CmdTask::NoCmd, (0, 0), 5)],
    );
    watch.wait_for("INACTIVE", Duration::from_secs(30), |s| {
        node_wide_is(s, Status::Inactive)
    });
    // `publish` returns once the node's reader acknowledged every input; the reset
    // comes from a later writer.
    publish(d, "inputs", &user_inputs(1..=3));
    publish(
        d,
        "reset",
        &[control(CmdNode::Reset, CmdTask::NoCmd, (0, 0), 6)],
    );
    for p in 1..=3 {
        watch.wait_for(
            "TASK_ERROR for a dropped task",
            Duration::from_secs(30),
            |s| task_is(s, p, TaskStatus::Error),
        );
    }
    let after_reset = watch.wait_for("INACTIVE after the reset", Duration::from_secs(30), |s| {
        node_wide_is(s, Status::Inactive) && s.error_description.contains("3 tasks failed")
    });
    let out = collect(d, topics::APP_REQUIREMENTS_OUTPUT, 1, 20);
    publish(
        d,
        "start",
        &[control(CmdNode::Start, CmdTask::NoCmd, (0, 0), 7)],
    );
    publish(d, "after", &user_inputs([4]));
    let lines = out.finish(Duration::from_secs(40));
    let done: Vec<u32> =
        decode_lines::<AppRequirementsImpl>(&lines, topics::APP_REQUIREMENTS_OUTPUT)
            .iter()
            .map(|o| o.task_id.problem_id)
            .collect();
    assert_eq!(done, vec![4], "tasks 1..3 were dropped by RESET_NODE");
    watch.wait_after(after_reset, "task 4 done", Duration::from_secs(30), |s| {
        task_is(s, 4, TaskStatus::Succeeded)
    });
    for p in 1..=3 {
        let said = watch.of_task(p);
        assert_eq!(said.len(), 1, "one status for dropped task {p}: {said:#?}");
        assert_eq!(
            said[0].error_description,
            "task dropped by RESET_NODE from TEST_6 before it ran"
        );
        assert_eq!(said[0].error_code, ErrorCode::InternalError);
        assert_eq!(said[0].node_status, Status::Inactive, "still stopped");
    }
}

/// RESET_NODE cancels a running task and reports it failed with the reason; the node is IDLE, not ERROR.
#[test]
fn reset_node_cancels_a_running_task_and_reports_it() {
    assert_isolated();
    let d = 101;
    let _node = node(
        d,
        &["app_requirements", "--use-async", "--delay-ms", "600000"],
    );
    let mut watch = StatusWatch::new(d);
    publish(d, "inputs", &user_inputs([1]));
    watch.wait_for("task 1 RUNNING", Duration::from_secs(30), |s| {
        task_is(s, 1, TaskStatus::Running)
    });
    publish(
        d,
        "reset",
        &[control(CmdNode::Reset, CmdTask::NoCmd, (0, 0), 8)],
    );
    let failed = watch.wait_for("task 1 TASK_ERROR", Duration::from_secs(30), |s| {
        task_is(s, 1, TaskStatus::Error)
    });
    assert_eq!(
        watch.seen[failed].error_description,
        "task dropped by RESET_NODE from TEST_8"
    );
    assert_eq!(watch.seen[failed].node_status, Status::Idle);
    watch.wait_for("IDLE after the reset", Duration::from_secs(30), |s| {
        node_wide_is(s, Status::Idle) && s.error_description == "1 tasks failed"
    });
    assert_eq!(watch.of_task(1).len(), 2, "RUNNING, then one TASK_ERROR");
}

/// A node stopped with STOP_NODE reports NODE_INACTIVE (never IDLE) in every status, also when a task ends, until START_NODE.
#[test]
fn a_stopped_node_reports_inactive_until_started() {
    assert_isolated();
    let d = 100;
    let _node = node(
        d,
        &["app_requirements", "--use-async", "--delay-ms", "600000"],
    );
    let mut watch = StatusWatch::new(d);
    publish(d, "inputs", &user_inputs([1]));
    watch.wait_for("task 1 RUNNING", Duration::from_secs(30), |s| {
        task_is(s, 1, TaskStatus::Running)
    });
    publish(
        d,
        "stop",
        &[control(CmdNode::Stop, CmdTask::NoCmd, (0, 0), 11)],
    );
    let stopped = watch.wait_for("INACTIVE", Duration::from_secs(30), |s| {
        node_wide_is(s, Status::Inactive)
    });
    assert_eq!(
        watch.seen[stopped].error_description,
        "stopped by STOP_NODE from TEST_11"
    );
    // A task that ends while the node is stopped keeps it INACTIVE.
    publish(
        d,
        "stop-task",
        &[control(CmdNode::NoCmd, CmdTask::Stop, (1, 1), 12)],
    );
    let ended = watch.wait_for("task 1 TASK_ERROR", Duration::from_secs(30), |s| {
        task_is(s, 1, TaskStatus::Error)
    });
    assert_eq!(watch.seen[ended].error_description, "task stopped");
    assert_eq!(watch.seen[ended].node_status, Status::Inactive);
    publish(d, "while-stopped", &user_inputs([2]));
    publish(
        d,
        "start",
        &[control(CmdNode::Start, CmdTask::NoCmd, (0, 0), 13)],
    );
    let started = watch.wait_after(stopped, "IDLE after START", Duration::from_secs(30), |s| {
        s.task_id == TaskIdImpl::default() && s.node_status != Status::Inactive
    });
    assert_eq!(watch.seen[started].node_status, Status::Idle);
    assert_eq!(watch.seen[started].error_description, "1 tasks failed");
    // The node-wide samples come from one writer, in order: all INACTIVE until START.
    for s in watch.node_wide(stopped, started - 1) {
        assert_eq!(s.node_status, Status::Inactive, "{s:?}");
        assert!(
            s.error_description
                .starts_with("stopped by STOP_NODE from TEST_11"),
            "{s:?}"
        );
    }
    watch.wait_for("task 2 RUNNING after START", Duration::from_secs(30), |s| {
        task_is(s, 2, TaskStatus::Running)
    });
}

/// A reader that joins after a node ran 300 tasks (1 200 status samples) still learns the node's state.
#[test]
fn a_late_reader_learns_the_node_state_after_hundreds_of_tasks() {
    assert_isolated();
    let d = 102;
    let _node = node(d, &["app_requirements"]);
    let tasks = 300;
    let out = collect(d, topics::APP_REQUIREMENTS_OUTPUT, tasks, 120);
    publish(d, "many", &user_inputs(1..=tasks as u32));
    let lines = out.finish(Duration::from_secs(180));
    assert_eq!(
        decode_lines::<AppRequirementsImpl>(&lines, topics::APP_REQUIREMENTS_OUTPUT).len(),
        tasks
    );
    // Joins now: what it gets of the node's state is what the node's writers kept.
    let mut late = StatusWatch::new(d);
    let idle = late.wait_for("APP_REQUIREMENTS_NODE IDLE", Duration::from_secs(30), |s| {
        s.node_name == "APP_REQUIREMENTS_NODE" && node_wide_is(s, Status::Idle)
    });
    assert_eq!(late.seen[idle].error_description, "");
    assert_eq!(late.seen[idle].error_code, ErrorCode::NoError);
}
