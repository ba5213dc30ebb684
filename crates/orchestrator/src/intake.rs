//! What the orchestrator hears: node outputs, node statuses, participants lost, and
//! the clock (deadlines).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sustainml_dds::{ParticipantEvent, ParticipantId, Subscriber};
use sustainml_types::topics::TopicInfo;
use sustainml_types::{NodeId, NodeStatusImpl, TaskData, TaskIdImpl, TaskStatus};
use tokio::task::JoinHandle;

use crate::error::Result;
use crate::model::{now_ms, Event, NodeInfo, TaskNodeStatus, TaskState};
use crate::orchestrator::Inner;
use crate::output::{output_topic, NodeOutput, OUTPUT_NODES};

/// How long a task whose footprint arrived waits for outputs still on their way on
/// other topics (topics are not ordered with each other) before it is done anyway.
const STRAGGLERS: Duration = Duration::from_secs(2);

/// Starts the listeners; returns their tasks.
pub(crate) fn spawn(inner: &Arc<Inner>) -> Result<Vec<JoinHandle<()>>> {
    let mut tasks = Vec::new();
    for node in OUTPUT_NODES {
        tasks.push(match node {
            NodeId::AppRequirements => output(inner, node, NodeOutput::AppRequirements)?,
            NodeId::HwConstraints => output(inner, node, NodeOutput::HwConstraints)?,
            NodeId::MlModelMetadata => output(inner, node, NodeOutput::MlModelMetadata)?,
            NodeId::MlModel => output(inner, node, NodeOutput::MlModel)?,
            NodeId::HwResources => output(inner, node, NodeOutput::HwResources)?,
            _ => output(inner, node, NodeOutput::CarbonFootprint)?,
        });
    }
    let mut statuses: Subscriber<NodeStatusImpl> = inner
        .participant
        .subscriber(sustainml_types::topics::STATUS)?;
    let i = Arc::clone(inner);
    tasks.push(tokio::spawn(async move {
        while let Ok(r) = statuses.recv().await {
            i.on_status(r.value, r.writer.participant());
        }
    }));
    let mut lost = inner.participant.participant_events();
    let i = Arc::clone(inner);
    tasks.push(tokio::spawn(async move {
        while let Some(e) = lost.recv().await {
            if let ParticipantEvent::Lost { id, reason } = e {
                i.on_lost(id, &reason);
            }
        }
    }));
    if let Some(keep) = inner.options.keep_for {
        tasks.push(tokio::spawn(prune(Arc::clone(inner), keep)));
    }
    let i = Arc::clone(inner);
    let every =
        (inner.options.deadline / 8).clamp(Duration::from_millis(50), Duration::from_millis(500));
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            i.check_deadlines(Instant::now());
        }
    }));
    Ok(tasks)
}

/// Deletes the tasks that ended more than `keep` ago, now and then periodically.
async fn prune(inner: Arc<Inner>, keep: Duration) {
    let every = (keep / 10).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    let keep_ms = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX);
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let before = now_ms().saturating_sub(keep_ms);
        match inner.db.call(move |s| s.prune(before)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("deleted {n} task(s) that ended more than {keep:?} ago"),
            Err(e) => tracing::error!("cannot delete old tasks: {e}"),
        }
    }
}

fn output<T: TaskData>(
    inner: &Arc<Inner>,
    node: NodeId,
    wrap: fn(T) -> NodeOutput,
) -> Result<JoinHandle<()>> {
    let topic: Option<TopicInfo> = output_topic(node);
    let topic = topic.unwrap_or(sustainml_types::topics::CARBON_FOOTPRINT_OUTPUT);
    let mut sub: Subscriber<T> = inner.participant.subscriber(topic)?;
    let i = Arc::clone(inner);
    Ok(tokio::spawn(async move {
        while let Ok(r) = sub.recv().await {
            i.on_output(wrap(r.value));
        }
    }))
}

impl Inner {
    fn on_output(&self, out: NodeOutput) {
        let id = out.task_id();
        let node = out.node();
        let now = now_ms();
        let (active, done) = {
            let mut st = self.state();
            if st.observe(id) {
                tracing::info!(task = %id, %node, "next problem id raised above a node's output");
            }
            match st.active.get_mut(&id) {
                None => (false, None),
                Some(a) => {
                    a.received.insert(node);
                    if let Some(c) = out.carbon_footprint() {
                        a.carbon = Some((Instant::now(), c));
                    }
                    let complete = a.received.len() == OUTPUT_NODES.len();
                    match a.carbon {
                        Some((_, c)) if complete => {
                            st.active.remove(&id);
                            (true, Some(c))
                        }
                        _ => (true, None),
                    }
                }
            }
        };
        if !active {
            // A late output of a finished task is still kept; one of a task we never
            // started (another orchestrator's, or a replay) is not.
            tracing::debug!(task = %id, %node, "output for a task that is not running");
        }
        self.db.send("storing an output", move |s| {
            s.put_output(&out, now).map(|_| ())
        });
        if active {
            self.emit(Event::Output {
                task_id: id,
                node: node.rest_key().to_owned(),
            });
        }
        if let Some(c) = done {
            self.finish(id, TaskState::Done, Some(c));
        }
    }

    /// Records a task's end (the caller removed it from the active set).
    pub(crate) fn finish(&self, id: TaskIdImpl, state: TaskState, carbon: Option<f64>) {
        let now = now_ms();
        let stored = state.clone();
        self.db.send("recording a task's end", move |s| {
            s.set_state(id, &stored, now)
        });
        match state {
            TaskState::Failed { reason } => {
                tracing::warn!(task = %id, "task failed: {reason}");
                self.emit(Event::TaskFailed {
                    task_id: id,
                    reason,
                });
            }
            _ => {
                tracing::info!(task = %id, "task done");
                self.emit(Event::TaskDone {
                    task_id: id,
                    carbon_footprint: carbon.unwrap_or_default(),
                });
            }
        }
    }

    /// Fails a running task (no effect if it is not running).
    pub(crate) fn fail(&self, id: TaskIdImpl, reason: String) {
        if self.state().active.remove(&id).is_some() {
            self.finish(id, TaskState::Failed { reason }, None);
        }
    }

    fn on_status(&self, s: NodeStatusImpl, participant: ParticipantId) {
        let now = now_ms();
        let changed = self.state().registry.on_status(&s, participant, now);
        if let Some(info) = changed {
            tracing::debug!(node = info.node_name, status = info.status, "node status");
            self.remember(&info);
            self.emit(Event::Node(info));
        }
        if !s.task_id.is_valid() {
            return;
        }
        let id = s.task_id;
        if self.state().observe(id) {
            tracing::info!(task = %id, node = s.node_name, "next problem id raised above a node's status");
        }
        let status = TaskNodeStatus {
            node_name: s.node_name.clone(),
            task_status: s.task_status.idl_name().to_owned(),
            description: s.error_description.clone(),
            updated_ms: now,
        };
        let stored = status.clone();
        self.db.send("storing a task status", move |st| {
            st.put_task_status(id, &stored)
        });
        let active = self.state().active.contains_key(&id);
        if !active {
            return;
        }
        self.emit(Event::TaskStatus {
            task_id: id,
            status,
        });
        if s.task_status == TaskStatus::Error {
            let what = if s.error_description.is_empty() {
                "TASK_ERROR without a description".to_owned()
            } else {
                s.error_description
            };
            self.fail(id, format!("{}: {what}", s.node_name));
        }
    }

    /// Persists a node's new state.
    fn remember(&self, info: &NodeInfo) {
        let stored = info.clone();
        self.db
            .send("storing a node's state", move |s| s.put_node(&stored));
    }

    fn on_lost(&self, participant: ParticipantId, reason: &str) {
        let lost = self.state().registry.on_lost(participant);
        for info in lost {
            tracing::warn!(node = info.node_name, "node lost ({reason}): INACTIVE");
            self.remember(&info);
            self.emit(Event::Node(info));
        }
    }

    fn check_deadlines(&self, now: Instant) {
        let mut finished = Vec::new();
        {
            let mut st = self.state();
            let due: Vec<TaskIdImpl> = st
                .active
                .iter()
                .filter(|(_, a)| {
                    a.deadline <= now || a.carbon.is_some_and(|(at, _)| at + STRAGGLERS <= now)
                })
                .map(|(id, _)| *id)
                .collect();
            for id in due {
                let Some(a) = st.active.remove(&id) else {
                    continue;
                };
                let missing: Vec<&str> = OUTPUT_NODES
                    .iter()
                    .filter(|n| !a.received.contains(n))
                    .map(|n| n.node_name())
                    .collect();
                let (state, carbon) = match a.carbon {
                    Some((_, c)) => {
                        tracing::warn!(task = %id, ?missing, "done without some outputs");
                        (TaskState::Done, Some(c))
                    }
                    None => (
                        TaskState::Failed {
                            reason: format!(
                                "deadline of {:?} passed; no output from: {}",
                                self.options.deadline,
                                missing.join(", ")
                            ),
                        },
                        None,
                    ),
                };
                finished.push((id, state, carbon));
            }
        }
        for (id, state, carbon) in finished {
            self.finish(id, state, carbon);
        }
    }
}
