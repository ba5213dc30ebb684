//! The event loop driven in-process: statuses and outputs go to channels, events are
//! handed to [`Loop::handle`] one at a time, so every step is deterministic.

use std::time::Duration;

use sustainml_types::{
    AppRequirementsImpl, ErrorCode, HWResourceImpl, NodeStatusImpl, TaskIdImpl, UserInputImpl,
};
use tokio::sync::{mpsc, watch};

use super::*;

type In = (UserInputImpl, HWResourceImpl);
type Out = AppRequirementsImpl;

const SOURCE: &str = "ORCHESTRATOR_NODE";

/// Problem ids below 100 finish at once; 100..200 wait for `release` or their
/// cancellation; 200 and above wait for `release` only (they ignore cancellation).
fn callback(release: watch::Receiver<bool>) -> Callback<In, Out> {
    Callback::asynchronous(move |_: In, ctx: TaskContext| {
        let mut release = release.clone();
        async move {
            let p = ctx.task_id().problem_id;
            if p >= 200 {
                let _ = release.wait_for(|r| *r).await;
            } else if p >= 100 {
                tokio::select! {
                    _ = release.wait_for(|r| *r) => {}
                    () = ctx.cancelled() => return Err(TaskError::new("cancelled")),
                }
            }
            Ok(AppRequirementsImpl {
                app_requirements: vec![format!("done {p}")],
                ..Default::default()
            })
        }
    })
}

struct Harness {
    node: Loop<In, Out>,
    done_tx: mpsc::UnboundedSender<Completion<Out>>,
    done_rx: mpsc::UnboundedReceiver<Completion<Out>>,
    statuses: mpsc::UnboundedReceiver<NodeStatusImpl>,
    outputs: mpsc::UnboundedReceiver<Out>,
    release: watch::Sender<bool>,
}

impl Harness {
    /// A two-input node (USER_INPUT, HW_RESOURCES) that has published IDLE.
    async fn new(concurrency: usize) -> Self {
        let (status_tx, statuses) = mpsc::unbounded_channel();
        let (output_tx, outputs) = mpsc::unbounded_channel();
        let (release, release_rx) = watch::channel(false);
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let options = NodeOptions::default()
            .concurrency(concurrency)
            .input_timeout(Duration::from_secs(60));
        let mut node = Loop::new(
            Arc::from("TEST_NODE"),
            vec![topics::USER_INPUT, topics::HW_RESOURCES_OUTPUT],
            options,
            callback(release_rx),
            Output::Memory(output_tx),
            StatusReporter::in_memory("TEST_NODE", status_tx),
        );
        node.ready().await;
        let mut h = Self {
            node,
            done_tx,
            done_rx,
            statuses,
            outputs,
            release,
        };
        assert_eq!(node_states(&h.drain()), vec![Status::Idle]);
        h
    }

    async fn handle(&mut self, next: Next<Out>) {
        assert!(self.node.handle(next, &self.done_tx).await, "node ended");
    }

    /// One input of task {p, 1}.
    async fn input(&mut self, p: u32, slot: usize) {
        let sample: Box<dyn std::any::Any + Send> = match slot {
            0 => Box::new(UserInputImpl::default()),
            _ => Box::new(HWResourceImpl::default()),
        };
        let a = Arrival {
            slot,
            task_id: TaskIdImpl::new(p, 1),
            sample,
        };
        self.handle(Next::Arrival(a)).await;
    }

    /// Both inputs of task {p, 1}.
    async fn task(&mut self, p: u32) {
        self.input(p, 0).await;
        self.input(p, 1).await;
    }

    async fn command(&mut self, cmd_node: CmdNode, cmd_task: CmdTask, p: u32) {
        let c = NodeControlImpl {
            cmd_node,
            cmd_task,
            target_node: "TEST_NODE".into(),
            source_node: SOURCE.into(),
            task_id: TaskIdImpl::new(p, if p == 0 { 0 } else { 1 }),
        };
        self.handle(Next::Control(c)).await;
    }

    /// Waits for the next callback to return and handles its completion.
    async fn complete_one(&mut self) {
        let done = tokio::time::timeout(Duration::from_secs(10), self.done_rx.recv())
            .await
            .expect("a callback returned within 10 s")
            .expect("completion channel open");
        self.handle(Next::Done(done)).await;
    }

    /// Every status published so far (all of them: the sinks are synchronous).
    fn drain(&mut self) -> Vec<NodeStatusImpl> {
        std::iter::from_fn(|| self.statuses.try_recv().ok()).collect()
    }

    fn outputs(&mut self) -> Vec<u32> {
        std::iter::from_fn(|| self.outputs.try_recv().ok())
            .map(|o| o.task_id.problem_id)
            .collect()
    }
}

fn node_states(st: &[NodeStatusImpl]) -> Vec<Status> {
    st.iter()
        .filter(|s| !s.task_id.is_valid())
        .map(|s| s.node_status)
        .collect()
}

/// (problem, task status, description, node status) of each task sample.
fn tasks(st: &[NodeStatusImpl]) -> Vec<(u32, TaskStatus, String, Status)> {
    st.iter()
        .filter(|s| s.task_id.is_valid())
        .map(|s| {
            (
                s.task_id.problem_id,
                s.task_status,
                s.error_description.clone(),
                s.node_status,
            )
        })
        .collect()
}

fn last_node(st: &[NodeStatusImpl]) -> &NodeStatusImpl {
    st.iter()
        .rev()
        .find(|s| !s.task_id.is_valid())
        .expect("a node-wide status")
}

/// A stopped node says NODE_INACTIVE (not IDLE) and who stopped it; START brings IDLE back.
#[tokio::test]
async fn stop_node_reports_inactive_and_start_brings_idle_back() {
    let mut h = Harness::new(2).await;
    h.command(CmdNode::Stop, CmdTask::NoCmd, 0).await;
    let st = h.drain();
    assert_eq!(node_states(&st), vec![Status::Inactive]);
    let stopped = last_node(&st);
    assert_eq!(
        stopped.error_description,
        "stopped by STOP_NODE from ORCHESTRATOR_NODE"
    );
    assert_eq!(stopped.error_code, ErrorCode::NoError);
    h.task(1).await;
    assert!(h.drain().is_empty(), "a stopped node started a task");
    h.command(CmdNode::Start, CmdTask::NoCmd, 0).await;
    let st = h.drain();
    assert_eq!(node_states(&st), vec![Status::Idle, Status::Running]);
    assert_eq!(last_node(&st).error_description, "");
    assert_eq!(
        tasks(&st),
        vec![(1, TaskStatus::Running, String::new(), Status::Running)]
    );
    h.complete_one().await;
    let st = h.drain();
    assert_eq!(
        tasks(&st),
        vec![(1, TaskStatus::Succeeded, String::new(), Status::Idle)]
    );
    assert_eq!(node_states(&st), vec![Status::Idle]);
    assert_eq!(h.outputs(), vec![1]);
}

/// While stopped, a task that finishes and a task evicted both keep the node INACTIVE.
#[tokio::test]
async fn statuses_published_while_stopped_keep_the_node_inactive() {
    let mut h = Harness::new(2).await;
    h.task(100).await;
    h.command(CmdNode::Stop, CmdTask::NoCmd, 0).await;
    assert_eq!(
        node_states(&h.drain()),
        vec![Status::Running, Status::Inactive]
    );
    h.release.send_replace(true);
    h.complete_one().await;
    let st = h.drain();
    assert_eq!(
        tasks(&st),
        vec![(100, TaskStatus::Succeeded, String::new(), Status::Inactive)]
    );
    assert_eq!(node_states(&st), vec![Status::Inactive]);
    assert_eq!(h.outputs(), vec![100], "a running task finishes after STOP");
    h.input(5, 0).await;
    h.handle(Next::Tick(Instant::now() + Duration::from_secs(120)))
        .await;
    let st = h.drain();
    let evicted = tasks(&st);
    assert_eq!(evicted.len(), 1);
    assert_eq!(
        (evicted[0].0, evicted[0].1, evicted[0].3),
        (5, TaskStatus::Error, Status::Inactive)
    );
    assert_eq!(node_states(&st), vec![Status::Inactive]);
    assert_eq!(
        last_node(&st).error_description,
        "stopped by STOP_NODE from ORCHESTRATOR_NODE; 1 incomplete tasks evicted; 1 tasks failed"
    );
    h.command(CmdNode::Start, CmdTask::NoCmd, 0).await;
    assert_eq!(node_states(&h.drain()), vec![Status::Idle]);
}

/// RESET_NODE reports each task it drops (joining, queued, running) once, with the reason.
#[tokio::test]
async fn reset_node_reports_every_task_it_drops() {
    let mut h = Harness::new(1).await;
    h.task(100).await; // running
    h.task(2).await; // queued behind it (concurrency 1)
    h.task(3).await;
    h.input(4, 0).await; // half-joined
    h.drain();
    h.command(CmdNode::Reset, CmdTask::NoCmd, 0).await;
    let st = h.drain();
    let why = "task dropped by RESET_NODE from ORCHESTRATOR_NODE";
    assert_eq!(
        tasks(&st),
        vec![
            (
                2,
                TaskStatus::Error,
                format!("{why} before it ran"),
                Status::Running
            ),
            (
                3,
                TaskStatus::Error,
                format!("{why} before it ran"),
                Status::Running
            ),
            (
                4,
                TaskStatus::Error,
                format!("{why} while waiting for inputs"),
                Status::Running
            ),
        ]
    );
    assert_eq!(
        node_states(&st),
        vec![Status::Running],
        "task 100 still returning"
    );
    h.complete_one().await; // task 100, cancelled
    let st = h.drain();
    assert_eq!(
        tasks(&st),
        vec![(100, TaskStatus::Error, why.to_owned(), Status::Idle)]
    );
    assert_eq!(
        node_states(&st),
        vec![Status::Idle],
        "a reset is not a failure"
    );
    assert!(h.outputs().is_empty());
    // The inputs of a dropped task, sent again, join again.
    h.task(4).await;
    assert_eq!(
        tasks(&h.drain()),
        vec![(4, TaskStatus::Running, String::new(), Status::Running)]
    );
}

/// TERMINATE_TASK reports at once, discards the late result, and never runs the task again.
#[tokio::test]
async fn terminate_task_reports_at_once_and_never_runs_the_task_again() {
    let mut h = Harness::new(1).await;
    h.task(200).await; // ignores cancellation
    h.drain();
    h.command(CmdNode::NoCmd, CmdTask::Terminate, 200).await;
    let st = h.drain();
    let why = "task terminated by TERMINATE_TASK from ORCHESTRATOR_NODE";
    assert_eq!(
        tasks(&st),
        vec![(200, TaskStatus::Error, why.to_owned(), Status::Running)]
    );
    h.release.send_replace(true);
    h.complete_one().await;
    let st = h.drain();
    assert!(tasks(&st).is_empty(), "reported twice: {st:?}");
    assert_eq!(node_states(&st), vec![Status::Idle]);
    assert!(
        h.outputs().is_empty(),
        "a terminated task's output was published"
    );
    h.task(200).await;
    h.input(7, 0).await;
    h.command(CmdNode::NoCmd, CmdTask::Terminate, 7).await;
    assert_eq!(
        tasks(&h.drain()),
        vec![(
            7,
            TaskStatus::Error,
            format!("{why} while waiting for inputs"),
            Status::Idle
        )]
    );
    h.task(7).await;
    assert!(h.drain().is_empty(), "a terminated task ran again");
}

/// STOP_TASK waits for the callback, does not turn the node ERROR, and a half-joined task can join again.
#[tokio::test]
async fn stop_task_cancels_cooperatively_and_a_half_joined_task_joins_again() {
    let mut h = Harness::new(2).await;
    h.task(100).await;
    h.drain();
    h.command(CmdNode::NoCmd, CmdTask::Stop, 100).await;
    assert!(
        tasks(&h.drain()).is_empty(),
        "reported before the callback returned"
    );
    h.complete_one().await;
    let st = h.drain();
    assert_eq!(
        tasks(&st),
        vec![(
            100,
            TaskStatus::Error,
            "task stopped".to_owned(),
            Status::Idle
        )]
    );
    assert_eq!(node_states(&st), vec![Status::Idle]);
    h.input(8, 0).await;
    h.command(CmdNode::NoCmd, CmdTask::Stop, 8).await;
    assert_eq!(
        tasks(&h.drain()),
        vec![(
            8,
            TaskStatus::Error,
            "task stopped while waiting for inputs".to_owned(),
            Status::Idle
        )]
    );
    h.task(8).await;
    h.complete_one().await;
    assert_eq!(h.outputs(), vec![8]);
}

/// RESET_TASK forgets a task so that its inputs, sent again, run it again; what it drops is reported.
#[tokio::test]
async fn reset_task_forgets_a_task_so_it_runs_again() {
    let mut h = Harness::new(1).await;
    h.task(1).await;
    h.complete_one().await;
    h.drain();
    h.task(1).await;
    assert!(h.drain().is_empty(), "a duplicate ran");
    h.command(CmdNode::NoCmd, CmdTask::Reset, 1).await;
    assert!(
        tasks(&h.drain()).is_empty(),
        "nothing held: nothing to report"
    );
    h.task(1).await;
    h.complete_one().await;
    assert_eq!(h.outputs(), vec![1, 1]);
    h.task(100).await;
    h.task(2).await;
    h.drain();
    h.command(CmdNode::NoCmd, CmdTask::Reset, 2).await;
    assert_eq!(
        tasks(&h.drain()),
        vec![(
            2,
            TaskStatus::Error,
            "task reset by RESET_TASK from ORCHESTRATOR_NODE before it ran".to_owned(),
            Status::Running
        )]
    );
}
