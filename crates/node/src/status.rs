//! Publishing the node's and its tasks' status on `/sustainml/status`.
//!
//! **The node's state** is one sample, task_id {0,0}: INITIALIZING → IDLE → RUNNING →
//! IDLE / ERROR → TERMINATING, or NODE_INACTIVE while the node is stopped by
//! STOP_NODE (its `error_description` then starts with "stopped by STOP_NODE from
//! <source_node>"). Its `error_description` also summarises what went wrong lately
//! (malformed samples dropped, tasks evicted, tasks failed). The state is a state, not
//! an event: it has a writer of its own that keeps only the last sample (keep-last 1,
//! `qos::writer_with_depth(1)`), so that writer always holds exactly the current state
//! and every reader that matches, whenever it joins, is given it. (rustdds counts
//! keep-last depth over a whole writer, not per instance: on a writer shared with the
//! task statuses, the node-wide sample would fall out of the history after about 125
//! tasks and a late reader would never learn the node's state.)
//!
//! **Each task** gets its own instance (node_name, task_id) on a second writer that
//! keeps the last 500 samples (`qos::writer`): task_status RUNNING, then SUCCEEDED or
//! ERROR (error_code INTERNAL_ERROR and the reason). That is how the orchestrator and
//! other observers learn that a task failed: a failed task publishes no output. A
//! late observer is replayed at most those 500 samples; readers bound their own memory
//! (see `sustainml_dds::Subscriber`). A task sample's `node_status` is the node's
//! state once that task event is accounted for (a task that finishes last says IDLE,
//! not RUNNING), but samples of the two writers may reach a reader in any order:
//! readers should take the node's state from the node-wide sample.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sustainml_dds::{qos, Participant, Publisher};
use sustainml_types::{topics, ErrorCode, NodeStatusImpl, Status, TaskIdImpl, TaskStatus};

/// Where status samples go.
// The test-only variant is the small one; production has only `Dds`.
#[cfg_attr(test, allow(clippy::large_enum_variant))]
#[derive(Debug)]
enum Sink {
    Dds {
        /// The node-wide state, keep-last 1.
        node: Publisher<NodeStatusImpl>,
        /// Per-task statuses, keep-last 500.
        tasks: Publisher<NodeStatusImpl>,
    },
    /// In-process tests of the event loop: every sample, in order.
    #[cfg(test)]
    Memory(tokio::sync::mpsc::UnboundedSender<NodeStatusImpl>),
}

#[derive(Debug)]
pub(crate) struct StatusReporter {
    sink: Sink,
    name: String,
    state: Status,
    note: Option<String>,
    dropped: Vec<Arc<AtomicU64>>,
    evicted: u64,
    failed: u64,
}

impl StatusReporter {
    pub fn new(participant: &Participant, name: &str) -> Result<Self, sustainml_dds::Error> {
        let sink = Sink::Dds {
            node: participant.publisher_with_qos(topics::STATUS, qos::writer_with_depth(1))?,
            tasks: participant.publisher_with_qos(topics::STATUS, qos::writer())?,
        };
        Ok(Self::with_sink(sink, name))
    }

    /// A reporter that sends every sample to `tx` (in-process tests).
    #[cfg(test)]
    pub fn in_memory(name: &str, tx: tokio::sync::mpsc::UnboundedSender<NodeStatusImpl>) -> Self {
        Self::with_sink(Sink::Memory(tx), name)
    }

    fn with_sink(sink: Sink, name: &str) -> Self {
        Self {
            sink,
            name: name.to_owned(),
            state: Status::Initializing,
            note: None,
            dropped: Vec::new(),
            evicted: 0,
            failed: 0,
        }
    }

    pub fn watch_dropped(&mut self, counters: Vec<Arc<AtomicU64>>) {
        self.dropped.extend(counters);
    }

    pub fn count_evicted(&mut self, n: u64) {
        self.evicted += n;
    }

    pub fn state(&self) -> Status {
        self.state
    }

    /// Sets the state later task samples carry, without publishing it yet.
    pub fn set_state(&mut self, state: Status) {
        self.state = state;
    }

    /// A note put first in the node-wide `error_description` (why the node is
    /// stopped), or none.
    pub fn set_note(&mut self, note: Option<String>) {
        self.note = note;
    }

    fn summary(&self) -> String {
        let dropped: u64 = self.dropped.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        let mut parts = Vec::new();
        parts.extend(self.note.clone());
        if dropped > 0 {
            parts.push(format!("{dropped} malformed samples dropped"));
        }
        if self.evicted > 0 {
            parts.push(format!("{} incomplete tasks evicted", self.evicted));
        }
        if self.failed > 0 {
            parts.push(format!("{} tasks failed", self.failed));
        }
        parts.join("; ")
    }

    /// Publishes the node's state (task_id {0,0}).
    pub async fn node(&mut self, state: Status) {
        self.state = state;
        let sample = NodeStatusImpl {
            node_status: state,
            task_status: TaskStatus::Waiting,
            error_code: if state == Status::Error {
                ErrorCode::InternalError
            } else {
                ErrorCode::NoError
            },
            error_description: self.summary(),
            node_name: self.name.clone(),
            task_id: TaskIdImpl::default(),
        };
        let result = match &self.sink {
            Sink::Dds { node, .. } => node.write(sample).await,
            #[cfg(test)]
            Sink::Memory(tx) => {
                let _ = tx.send(sample);
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::warn!("cannot publish the node's status: {e}");
        }
    }

    /// Publishes one task's state, with the node's current state.
    pub async fn task(&mut self, task_id: TaskIdImpl, status: TaskStatus, description: &str) {
        if status == TaskStatus::Error {
            self.failed += 1;
        }
        let sample = NodeStatusImpl {
            node_status: self.state,
            task_status: status,
            error_code: if status == TaskStatus::Error {
                ErrorCode::InternalError
            } else {
                ErrorCode::NoError
            },
            error_description: description.to_owned(),
            node_name: self.name.clone(),
            task_id,
        };
        let result = match &self.sink {
            Sink::Dds { tasks, .. } => tasks.write(sample).await,
            #[cfg(test)]
            Sink::Memory(tx) => {
                let _ = tx.send(sample);
                Ok(())
            }
        };
        if let Err(e) = result {
            tracing::warn!(task = %task_id, "cannot publish the task's status: {e}");
        }
    }

    /// Waits (at most `timeout` for each writer) until the readers have every status.
    pub async fn flush(&self, timeout: Duration) {
        match &self.sink {
            Sink::Dds { node, tasks } => {
                let _ = futures::join!(
                    node.wait_for_acknowledgments(timeout),
                    tasks.wait_for_acknowledgments(timeout)
                );
            }
            #[cfg(test)]
            Sink::Memory(_) => {}
        }
    }
}
