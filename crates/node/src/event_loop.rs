//! The event loop of a running node: joins inputs by task id, runs callbacks up to
//! the concurrency limit, publishes their outputs and statuses, evicts incomplete
//! tasks and applies NodeControl commands.

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

struct Running {
    cancel: CancellationToken,
    stopped_by: Option<&'static str>,
}

type Completion<O> = (TaskIdImpl, String, TaskResult<O>);

pub(crate) struct Loop<I, O: TaskData> {
    name: Arc<str>,
    inputs: Vec<TopicInfo>,
    options: NodeOptions,
    callback: Callback<I, O>,
    output: Publisher<O>,
    status: StatusReporter,
    joiner: Joiner,
    ready: VecDeque<(TaskIdImpl, I)>,
    running: HashMap<TaskIdImpl, Running>,
    accepting: bool,
    last_failed: bool,
}

enum Next<O> {
    Arrival(Arrival),
    Control(NodeControlImpl),
    Done(Completion<O>),
    Tick,
    Stop,
}

impl<I: InputSet, O: TaskData + Default> Loop<I, O> {
    pub(crate) fn new(
        name: Arc<str>,
        inputs: Vec<TopicInfo>,
        options: NodeOptions,
        callback: Callback<I, O>,
        output: Publisher<O>,
        status: StatusReporter,
    ) -> Self {
        let joiner = Joiner::new(I::LEN, options.input_timeout, options.max_pending);
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
            accepting: true,
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
        let _ = self.output.wait_for_acknowledgments(flush).await;
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
                _ = tick.tick() => Next::Tick,
                () = &mut stop => Next::Stop,
            };
            match next {
                Next::Arrival(a) => self.arrive(a).await,
                Next::Control(c) => {
                    if self.control(c).await {
                        return Ok(());
                    }
                }
                Next::Done((task, message, result)) => self.finish(task, message, result).await,
                Next::Tick => {
                    let evicted = self.joiner.evict_expired(Instant::now());
                    self.report_evicted(evicted).await;
                }
                Next::Stop => return Ok(()),
            }
            self.dispatch(&done_tx).await;
        }
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

    fn node_state(&self) -> Status {
        if !self.running.is_empty() {
            Status::Running
        } else if self.last_failed {
            Status::Error
        } else {
            Status::Idle
        }
    }

    async fn dispatch(&mut self, done: &mpsc::UnboundedSender<Completion<O>>) {
        while self.accepting && self.running.len() < self.options.concurrency {
            let Some((task, inputs)) = self.ready.pop_front() else {
                break;
            };
            let cancel = CancellationToken::new();
            self.running.insert(
                task,
                Running {
                    cancel: cancel.clone(),
                    stopped_by: None,
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
        let result = match running.stopped_by {
            Some(why) => Err(TaskError(format!("task {why}"))),
            None => result,
        };
        match result {
            Ok(mut out) => {
                out.set_task_id(task);
                match self.output.write(out).await {
                    Ok(()) => {
                        self.last_failed = false;
                        self.status
                            .task(task, TaskStatus::Succeeded, &message)
                            .await;
                    }
                    Err(e) => {
                        self.last_failed = true;
                        let text = format!("cannot publish the output: {e}");
                        tracing::error!(%task, "{text}");
                        self.status.task(task, TaskStatus::Error, &text).await;
                    }
                }
            }
            Err(e) => {
                self.last_failed = true;
                tracing::warn!(%task, "task failed: {e}");
                self.status.task(task, TaskStatus::Error, &e.0).await;
            }
        }
        let state = self.node_state();
        self.status.node(state).await;
    }

    /// Applies a command; true if the node must terminate.
    async fn control(&mut self, c: NodeControlImpl) -> bool {
        tracing::info!(from = c.source_node, cmd_node = %c.cmd_node, cmd_task = %c.cmd_task, task = %c.task_id, "control command");
        match c.cmd_node {
            CmdNode::NoCmd => {}
            CmdNode::Start => self.accepting = true,
            CmdNode::Stop => self.accepting = false,
            CmdNode::Reset => {
                let pending = self.joiner.clear();
                let ready = self.ready.len();
                self.ready.clear();
                tracing::info!(pending, ready, "reset: dropped pending tasks");
            }
            CmdNode::Terminate => return true,
        }
        let task = c.task_id;
        match c.cmd_task {
            CmdTask::NoCmd => {}
            CmdTask::Stop | CmdTask::Preempt | CmdTask::Terminate => {
                let why = match c.cmd_task {
                    CmdTask::Preempt => "preempted",
                    _ => "stopped",
                };
                if let Some(r) = self.running.get_mut(&task) {
                    r.stopped_by = Some(why);
                    r.cancel.cancel();
                } else if let Some(pos) = self.ready.iter().position(|(t, _)| *t == task) {
                    self.ready.remove(pos);
                    self.status
                        .task(
                            task,
                            TaskStatus::Error,
                            &format!("task {why} before it ran"),
                        )
                        .await;
                } else if self.joiner.remove_pending(task) {
                    self.status
                        .task(
                            task,
                            TaskStatus::Error,
                            &format!("task {why} while waiting for inputs"),
                        )
                        .await;
                } else {
                    tracing::info!(%task, "nothing to stop: the task is not pending or running here");
                }
            }
            CmdTask::Reset => {
                self.ready.retain(|(t, _)| *t != task);
                self.joiner.forget(task);
            }
        }
        let state = if self.accepting {
            self.node_state()
        } else {
            Status::Idle
        };
        self.status.node(state).await;
        false
    }
}
