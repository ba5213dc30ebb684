//! Publishing the node's and its tasks' status on `/sustainml/status`.
//!
//! A node-wide sample (task_id {0,0}) carries the node's state: INITIALIZING → IDLE →
//! RUNNING → IDLE / ERROR → TERMINATING, and in `error_description` a summary of what
//! went wrong lately (malformed samples dropped, tasks evicted). Each task gets its own
//! instance (node_name, task_id) with task_status RUNNING, then SUCCEEDED or ERROR
//! (error_code INTERNAL_ERROR and the reason). That is how the orchestrator and other
//! observers learn that a task failed: a failed task publishes no output.
//! The status writer keeps its last 500 samples for late joiners (see `qos::writer`),
//! so the per-task instances a late observer is replayed stay bounded; readers bound
//! their own memory (see `sustainml_dds::Subscriber`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sustainml_dds::{Participant, Publisher};
use sustainml_types::{topics, ErrorCode, NodeStatusImpl, Status, TaskIdImpl, TaskStatus};

#[derive(Debug)]
pub(crate) struct StatusReporter {
    publisher: Publisher<NodeStatusImpl>,
    name: String,
    state: Status,
    dropped: Vec<Arc<AtomicU64>>,
    evicted: u64,
    failed: u64,
}

impl StatusReporter {
    pub fn new(participant: &Participant, name: &str) -> Result<Self, sustainml_dds::Error> {
        Ok(Self {
            publisher: participant.publisher(topics::STATUS)?,
            name: name.to_owned(),
            state: Status::Initializing,
            dropped: Vec::new(),
            evicted: 0,
            failed: 0,
        })
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

    fn summary(&self) -> String {
        let dropped: u64 = self.dropped.iter().map(|c| c.load(Ordering::Relaxed)).sum();
        let mut parts = Vec::new();
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
        self.write(sample).await;
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
        self.write(sample).await;
    }

    async fn write(&self, sample: NodeStatusImpl) {
        if let Err(e) = self.publisher.write(sample).await {
            tracing::warn!("cannot publish status: {e}");
        }
    }

    pub async fn flush(&self, timeout: Duration) {
        let _ = self.publisher.wait_for_acknowledgments(timeout).await;
    }
}
