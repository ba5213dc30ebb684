//! The event loop of a running node: joins inputs by task id, runs callbacks up to
//! the concurrency limit, publishes their outputs and statuses, evicts incomplete
//! tasks and applies NodeControl commands.
//!
//! What each command does (one status sample per task it takes away, TASK_ERROR with
//! the reason; the node-wide sample follows every command):
//!
//! - STOP_NODE: no task starts until START_NODE; inputs are still joined, running
//!   callbacks finish and are reported. The node reports NODE_INACTIVE, with
//!   "stopped by STOP_NODE from <source_node>" first in its `error_description`,
//!   in every sample until START_NODE brings it back to IDLE (or RUNNING).
//! - RESET_NODE: drops every task the node holds: half-joined ("task dropped by
//!   RESET_NODE from <source> while waiting for inputs"), complete but not started
//!   ("… before it ran"), and running (cancelled; "task dropped by RESET_NODE from
//!   <source>" once the callback returns, its output discarded). It clears the ERROR
//!   state; it does not start a stopped node. Inputs of a dropped task sent again
//!   join again.
//! - TERMINATE_NODE: the node exits (TERMINATING).
//! - STOP_TASK / PREEMPT_TASK: a running callback is cancelled (cooperatively) and
//!   reported when it returns, "task stopped" / "task preempted", its output
//!   discarded; a queued task is dropped ("task stopped before it ran"), a half-joined
//!   one loses its inputs ("task stopped while waiting for inputs"; its inputs sent
//!   again join again).
//! - TERMINATE_TASK: ends the task for good: reported at once, "task terminated by
//!   TERMINATE_TASK from <source>", without waiting for a running callback (it is
//!   cancelled, keeps its concurrency slot until it returns, and its result is
//!   discarded); the task id is remembered like a completed task, so no later or
//!   duplicate input of it starts it again.
//! - RESET_TASK: forgets the task so that its inputs, sent again, run it again. What
//!   the node held of it is dropped and reported ("task reset by RESET_TASK from
//!   <source>", with "before it ran" / "while waiting for inputs"); a running
//!   callback is cancelled, reported when it returns and forgotten then. A task that
//!   already ended is forgotten silently.
//!
//! A task taken away by a command is not the node's failure: the node does not turn
//! ERROR for it.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sustainml_dds::{Participant, Publisher};
use sustainml_types::topics::{self, TopicInfo};
use sustainml_types::{
    CmdNode, CmdTask, NodeControlImpl, Status, TaskData, TaskIdImpl, TaskStatus,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::inputs::{Arrival, InputSet};
use crate::join::{Evicted, Joined, Joiner};
use crate::options::{NodeError, NodeOptions};
use crate::status::StatusReporter;
use crate::task::{Callback, TaskContext, TaskError, TaskResult};

pub(crate) fn spawn_control_reader(
    participant: &Participant,
    name: Arc<str>,
    tx: mpsc::Sender<NodeControlImpl>,
) -> Result<tokio::task::JoinHandle<()>, NodeError> {
    let mut subscriber = participant
        .subscriber_with_qos::<NodeControlImpl>(topics::CONTROL, sustainml_dds::qos::commands())?;
    Ok(tokio::spawn(async move {
        while let Ok(r) = subscriber.recv().await {
            let target = r.value.target_node.as_str();
            if (target == &*name || target.is_empty()) && tx.send(r.value).await.is_err() {
                break;
            }
        }
    }))
}

/// Why a command took a running task away.
struct Stopped {
    /// The task's TASK_ERROR description.
    reason: String,
    /// Already reported (TERMINATE_TASK): say nothing when the callback returns.
    reported: bool,
    /// Forget the task once the callback returns (RESET_TASK).
    forget: bool,
}

struct Running {
    cancel: CancellationToken,
    stopped: Option<Stopped>,
}

type Completion<O> = (TaskIdImpl, String, TaskResult<O>);

/// Where outputs go.
// The test-only variant is the small one; production has only `Dds`.
#[cfg_attr(test, allow(clippy::large_enum_variant))]
pub(crate) enum Output<O: TaskData> {
    Dds(Publisher<O>),
    /// In-process tests of the event loop.
    #[cfg(test)]
    Memory(mpsc::UnboundedSender<O>),
}

impl<O: TaskData> Output<O> {
    async fn write(&self, value: O) -> Result<(), sustainml_dds::Error> {
        match self {
            Output::Dds(p) => p.write(value).await,
            #[cfg(test)]
            Output::Memory(tx) => {
                let _ = tx.send(value);
                Ok(())
            }
        }
    }

    async fn flush(&self, timeout: Duration) {
        match self {
            Output::Dds(p) => {
                let _ = p.wait_for_acknowledgments(timeout).await;
            }
            #[cfg(test)]
            Output::Memory(_) => {}
        }
    }
}

pub(crate) struct Loop<I, O: TaskData> {
    name: Arc<str>,
    inputs: Vec<TopicInfo>,
    options: NodeOptions,
    callback: Callback<I, O>,
    output: Output<O>,
    status: StatusReporter,
    joiner: Joiner,
    ready: VecDeque<(TaskIdImpl, I)>,
    running: HashMap<TaskIdImpl, Running>,
    /// Who stopped the node (STOP_NODE), until START_NODE.
    stopped_by: Option<String>,
    last_failed: bool,
}

/// One thing for the loop to handle.
pub(crate) enum Next<O> {
    Arrival(Arrival),
    Control(NodeControlImpl),
    Done(Completion<O>),
    /// Time to evict the tasks incomplete since before `input_timeout` ago.
    Tick(Instant),
    Stop,
}

/// Where a task was when a command took it away.
#[derive(Clone, Copy)]
enum Held {
    Queued,
    Joining,
}

impl Held {
    fn suffix(self) -> &'static str {
        match self {
            Held::Queued => " before it ran",
            Held::Joining => " while waiting for inputs",
        }
    }
}

impl<I: InputSet, O: TaskData + Default> Loop<I, O> {
    pub(crate) fn new(
        name: Arc<str>,
        inputs: Vec<TopicInfo>,
        options: NodeOptions,
        callback: Callback<I, O>,
        output: Output<O>,
        status: StatusReporter,
    ) -> Self {
        let joiner = Joiner::new(inputs.len(), options.input_timeout, options.max_pending);
        Self {
            name,
            inputs,
            options,
            callback,
            output,
            status,
            joiner,
            ready: VecDeque::new(),
            running: HashMap::new(),
            stopped_by: None,
            last_failed: false,
        }
    }

    /// Publishes IDLE: the node takes tasks from now on.
    pub(crate) async fn ready(&mut self) {
        self.status.node(Status::Idle).await;
    }

    /// Publishes TERMINATING, asks running callbacks to stop and flushes the writers.
    pub(crate) async fn shut_down(&mut self) {
        self.status.node(Status::Terminating).await;
        for task in self.running.values() {
            task.cancel.cancel();
        }
        let flush = Duration::from_secs(2);
        self.output.flush(flush).await;
        self.status.flush(flush).await;
    }

    pub(crate) async fn serve(
        &mut self,
        mut arrivals: mpsc::Receiver<Arrival>,
        mut control: mpsc::Receiver<NodeControlImpl>,
        stop: impl Future<Output = ()> + Send,
    ) -> Result<(), NodeError> {
        let (done_tx, mut done) = mpsc::unbounded_channel::<Completion<O>>();
        let tick_every = (self.options.input_timeout / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(1));
        let mut tick = tokio::time::interval(tick_every);
        let mut stop: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(stop);
        loop {
            let next = tokio::select! {
                Some(a) = arrivals.recv() => Next::Arrival(a),
                Some(c) = control.recv() => Next::Control(c),
                Some(d) = done.recv() => Next::Done(d),
                _ = tick.tick() => Next::Tick(Instant::now()),
                () = &mut stop => Next::Stop,
            };
            if !self.handle(next, &done_tx).await {
                return Ok(());
            }
        }
    }

    /// Handles one event, then starts what may start; false when the node must end.
    pub(crate) async fn handle(
        &mut self,
        next: Next<O>,
        done: &mpsc::UnboundedSender<Completion<O>>,
    ) -> bool {
        match next {
            Next::Arrival(a) => self.arrive(a).await,
            Next::Control(c) => {
                if self.control(c).await {
                    return false;
                }
            }
            Next::Done((task, message, result)) => self.finish(task, message, result).await,
            Next::Tick(now) => {
                let evicted = self.joiner.evict_expired(now);
                self.report_evicted(evicted).await;
            }
            Next::Stop => return false,
        }
        self.dispatch(done).await;
        true
    }

    async fn arrive(&mut self, a: Arrival) {
        if !a.task_id.is_valid() {
            tracing::warn!(task = %a.task_id, topic = self.inputs[a.slot].name, "ignored an input with an invalid task id");
            return;
        }
        let mut evicted = Vec::new();
        match self
            .joiner
            .insert(a.task_id, a.slot, a.sample, Instant::now(), &mut evicted)
        {
            Joined::Complete(slots) => match I::from_slots(slots) {
                Some(inputs) => self.ready.push_back((a.task_id, inputs)),
                None => {
                    tracing::error!(task = %a.task_id, "inputs of the wrong type (internal error)")
                }
            },
            Joined::Pending => {}
            Joined::Duplicate => {
                tracing::debug!(task = %a.task_id, topic = self.inputs[a.slot].name, "duplicate input ignored")
            }
        }
        self.report_evicted(evicted).await;
    }

    async fn report_evicted(&mut self, evicted: Vec<Evicted>) {
        if evicted.is_empty() {
            return;
        }
        self.status.count_evicted(evicted.len() as u64);
        for e in evicted {
            let missing: Vec<String> = e
                .missing
                .iter()
                .map(|&i| format!("{} ({})", self.inputs[i].name, self.inputs[i].type_name))
                .collect();
            let text = format!("{}; missing inputs: {}", e.reason, missing.join(", "));
            tracing::warn!(task = %e.task_id, "{text}");
            self.status.task(e.task_id, TaskStatus::Error, &text).await;
        }
        let state = self.node_state();
        self.status.node(state).await;
    }

    /// The node's state: INACTIVE while stopped, else RUNNING while a callback runs,
    /// else ERROR if the last task failed, else IDLE.
    fn node_state(&self) -> Status {
        if self.stopped_by.is_some() {
            Status::Inactive
        } else if !self.running.is_empty() {
            Status::Running
        } else if self.last_failed {
            Status::Error
        } else {
            Status::Idle
        }
    }

    async fn dispatch(&mut self, done: &mpsc::UnboundedSender<Completion<O>>) {
        while self.stopped_by.is_none() && self.running.len() < self.options.concurrency {
            let Some((task, inputs)) = self.ready.pop_front() else {
                break;
            };
            let cancel = CancellationToken::new();
            self.running.insert(
                task,
                Running {
                    cancel: cancel.clone(),
                    stopped: None,
                },
            );
            if self.status.state() != Status::Running {
                self.status.node(Status::Running).await;
            }
            self.status.task(task, TaskStatus::Running, "").await;
            let ctx = TaskContext::new(task, Arc::clone(&self.name), cancel);
            let callback = self.callback.clone();
            let timeout = self.options.task_timeout;
            let done = done.clone();
            tokio::spawn(async move {
                let (message, result) =
                    match tokio::time::timeout(timeout, callback.run(inputs, ctx)).await {
                        Ok(r) => r,
                        Err(_) => (
                            String::new(),
                            Err(TaskError(format!(
                                "the callback did not return within {timeout:?}"
                            ))),
                        ),
                    };
                let _ = done.send((task, message, result));
            });
        }
    }

    async fn finish(&mut self, task: TaskIdImpl, message: String, result: TaskResult<O>) {
        let Some(running) = self.running.remove(&task) else {
            return;
        };
        let report = match running.stopped {
            Some(stopped) => {
                if stopped.forget {
                    self.joiner.forget(task);
                }
                (!stopped.reported).then_some((TaskStatus::Error, stopped.reason))
            }
            None => Some(self.publish(task, message, result).await),
        };
        let state = self.node_state();
        self.status.set_state(state);
        if let Some((status, text)) = report {
            self.status.task(task, status, &text).await;
        }
        self.status.node(state).await;
    }

    /// Publishes a finished task's output; the task's status and its text.
    async fn publish(
        &mut self,
        task: TaskIdImpl,
        message: String,
        result: TaskResult<O>,
    ) -> (TaskStatus, String) {
        self.last_failed = true;
        match result {
            Ok(mut out) => {
                out.set_task_id(task);
                match self.output.write(out).await {
                    Ok(()) => {
                        self.last_failed = false;
                        (TaskStatus::Succeeded, message)
                    }
                    Err(e) => {
                        let text = format!("cannot publish the output: {e}");
                        tracing::error!(%task, "{text}");
                        (TaskStatus::Error, text)
                    }
                }
            }
            Err(e) => {
                tracing::warn!(%task, "task failed: {e}");
                (TaskStatus::Error, e.0)
            }
        }
    }

    /// Applies a command; true if the node must terminate.
    async fn control(&mut self, c: NodeControlImpl) -> bool {
        tracing::info!(from = c.source_node, cmd_node = %c.cmd_node, cmd_task = %c.cmd_task, task = %c.task_id, "control command");
        let source = if c.source_node.is_empty() {
            "an unnamed node"
        } else {
            c.source_node.as_str()
        };
        // Task statuses to publish once the node's new state is known.
        let mut reports: Vec<(TaskIdImpl, String)> = Vec::new();
        match c.cmd_node {
            CmdNode::NoCmd => {}
            CmdNode::Start => {
                self.stopped_by = None;
                self.status.set_note(None);
            }
            CmdNode::Stop => {
                self.stopped_by = Some(source.to_owned());
                self.status
                    .set_note(Some(format!("stopped by {} from {source}", c.cmd_node)));
            }
            CmdNode::Reset => self.reset_node(source, &mut reports),
            CmdNode::Terminate => return true,
        }
        match c.cmd_task {
            CmdTask::NoCmd => {}
            cmd => self.task_command(cmd, c.task_id, source, &mut reports),
        }
        let state = self.node_state();
        self.status.set_state(state);
        for (task, text) in reports {
            tracing::info!(%task, "{text}");
            self.status.task(task, TaskStatus::Error, &text).await;
        }
        self.status.node(state).await;
        false
    }

    /// RESET_NODE: drops every task held, cancels the running ones.
    fn reset_node(&mut self, source: &str, reports: &mut Vec<(TaskIdImpl, String)>) {
        let reason = format!("task dropped by {} from {source}", CmdNode::Reset);
        let queued: Vec<TaskIdImpl> = self.ready.drain(..).map(|(t, _)| t).collect();
        let joining = self.joiner.clear();
        tracing::info!(
            running = self.running.len(),
            queued = queued.len(),
            joining = joining.len(),
            "reset: dropping every task"
        );
        for r in self.running.values_mut() {
            if r.stopped.is_none() {
                r.stopped = Some(Stopped {
                    reason: reason.clone(),
                    reported: false,
                    forget: false,
                });
            }
            r.cancel.cancel();
        }
        for t in queued {
            reports.push((t, format!("{reason}{}", Held::Queued.suffix())));
        }
        for t in joining {
            reports.push((t, format!("{reason}{}", Held::Joining.suffix())));
        }
        self.last_failed = false;
    }

    /// STOP_TASK, PREEMPT_TASK, TERMINATE_TASK, RESET_TASK on one task.
    fn task_command(
        &mut self,
        cmd: CmdTask,
        task: TaskIdImpl,
        source: &str,
        reports: &mut Vec<(TaskIdImpl, String)>,
    ) {
        let reason = match cmd {
            CmdTask::Stop => "task stopped".to_owned(),
            CmdTask::Preempt => "task preempted".to_owned(),
            CmdTask::Terminate => format!("task terminated by {cmd} from {source}"),
            CmdTask::Reset => format!("task reset by {cmd} from {source}"),
            CmdTask::NoCmd => return,
        };
        if let Some(r) = self.running.get_mut(&task) {
            r.cancel.cancel();
            let stopped = r.stopped.get_or_insert(Stopped {
                reason: reason.clone(),
                reported: false,
                forget: false,
            });
            match cmd {
                CmdTask::Terminate if !stopped.reported => {
                    stopped.reason.clone_from(&reason);
                    stopped.reported = true;
                    stopped.forget = false;
                    reports.push((task, reason));
                }
                CmdTask::Reset => stopped.forget = true,
                _ => {}
            }
            return;
        }
        let held = if let Some(pos) = self.ready.iter().position(|(t, _)| *t == task) {
            self.ready.remove(pos);
            Some(Held::Queued)
        } else if self.joiner.remove_pending(task) {
            Some(Held::Joining)
        } else {
            None
        };
        match cmd {
            CmdTask::Terminate => self.joiner.remember(task),
            CmdTask::Reset => {
                self.joiner.forget(task);
            }
            _ => {}
        }
        match held {
            Some(held) => reports.push((task, format!("{reason}{}", held.suffix()))),
            None => tracing::info!(%task, %cmd, "the task is not pending or running here"),
        }
    }
}

#[cfg(test)]
mod tests;
