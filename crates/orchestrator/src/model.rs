//! What the orchestrator knows and tells: task states, task and node snapshots, events.
//! Everything here is plain data (`Clone + Serialize`) that a REST layer can return
//! as it is.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use sustainml_types::{NodeId, TaskIdImpl, UserInputImpl};

use crate::output::NodeOutput;

/// Where a task is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TaskState {
    /// Published; waiting for the nodes.
    Running,
    /// CARBON_FOOTPRINT answered.
    Done,
    /// A node reported TASK_ERROR, or the deadline passed.
    Failed {
        /// Which node failed and why, or which outputs were missing.
        reason: String,
    },
}

impl TaskState {
    /// Done or failed.
    pub fn is_finished(&self) -> bool {
        !matches!(self, TaskState::Running)
    }

    pub(crate) fn parts(&self) -> (&'static str, Option<&str>) {
        match self {
            TaskState::Running => ("running", None),
            TaskState::Done => ("done", None),
            TaskState::Failed { reason } => ("failed", Some(reason)),
        }
    }

    pub(crate) fn from_parts(state: &str, reason: Option<String>) -> Option<Self> {
        Some(match state {
            "running" => TaskState::Running,
            "done" => TaskState::Done,
            "failed" => TaskState::Failed {
                reason: reason.unwrap_or_default(),
            },
            _ => return None,
        })
    }
}

/// One line of the task list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskSummary {
    /// The task.
    pub task_id: TaskIdImpl,
    /// Its state.
    #[serde(flatten)]
    pub state: TaskState,
    /// When it was started (ms since the Unix epoch).
    pub created_ms: u64,
    /// When its state last changed (ms since the Unix epoch).
    pub updated_ms: u64,
    /// How many of the six outputs are stored.
    pub outputs: u32,
    /// Its carbon footprint, once CARBON_FOOTPRINT answered.
    pub carbon_footprint: Option<f64>,
}

/// What one node said about one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskNodeStatus {
    /// The node.
    pub node_name: String,
    /// TASK_RUNNING, TASK_SUCCEEDED, TASK_ERROR…
    pub task_status: String,
    /// The node's message (the error, for TASK_ERROR).
    pub description: String,
    /// When it arrived (ms since the Unix epoch).
    pub updated_ms: u64,
}

/// Everything about one task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDetails {
    /// State and times.
    pub summary: TaskSummary,
    /// The problem as published.
    pub user_input: Option<UserInputImpl>,
    /// The outputs that arrived, by node.
    pub outputs: BTreeMap<NodeId, NodeOutput>,
    /// What each node reported about the task.
    pub statuses: Vec<TaskNodeStatus>,
}

impl TaskDetails {
    /// A JSON view: `{task_id, state, reason?, …, user_input, outputs: {KEY: {…}},
    /// statuses: […]}` with the reference's REST keys (APP_REQUIREMENTS, ML_MODEL…).
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(&self.summary).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut v {
            let user_input = self.user_input.as_ref().map(|u| {
                let mut j = serde_json::to_value(u).unwrap_or(Value::Null);
                if let Value::Object(m) = &mut j {
                    m.insert(
                        "extra_data".into(),
                        crate::output::extra_json(&u.extra_data),
                    );
                }
                j
            });
            map.insert("user_input".into(), user_input.unwrap_or(Value::Null));
            let outputs: serde_json::Map<String, Value> = self
                .outputs
                .iter()
                .map(|(node, out)| (node.rest_key().to_owned(), out.to_json()))
                .collect();
            map.insert("outputs".into(), Value::Object(outputs));
            map.insert(
                "statuses".into(),
                serde_json::to_value(&self.statuses).unwrap_or(Value::Null),
            );
        }
        v
    }
}

/// A node as the registry sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    /// The name it publishes its status under.
    pub node_name: String,
    /// The reference's REST key (APP_REQUIREMENTS…), or the name for other nodes.
    pub key: String,
    /// IDLE, RUNNING, ERROR, INITIALIZING, TERMINATING or INACTIVE (the reference's
    /// REST strings).
    pub status: String,
    /// The node's summary of what went wrong lately.
    pub error_description: String,
    /// When its last status arrived (ms since the Unix epoch).
    pub last_seen_ms: u64,
    /// False once its participant is lost (then `status` is INACTIVE).
    pub alive: bool,
}

/// The registry key of a node name: the REST key for reference nodes, else the name.
pub fn node_key(node_name: &str) -> String {
    NodeId::from_node_name(node_name)
        .map_or_else(|| node_name.to_owned(), |id| id.rest_key().to_owned())
}

/// One step of an automatic optimisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IterationMetric {
    /// The iteration's task.
    pub task_id: TaskIdImpl,
    /// Its footprint (none if it failed).
    pub carbon_footprint: Option<f64>,
    /// The target.
    pub target: f64,
}

/// What the orchestrator tells listeners (a REST layer turns these into server-sent
/// events).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A task was published.
    TaskStarted {
        /// The task.
        task_id: TaskIdImpl,
    },
    /// A node's output for a running task arrived.
    Output {
        /// The task.
        task_id: TaskIdImpl,
        /// The node's REST key.
        node: String,
    },
    /// A node reported on a running task.
    TaskStatus {
        /// The task.
        task_id: TaskIdImpl,
        /// What the node said.
        status: TaskNodeStatus,
    },
    /// A task finished.
    TaskDone {
        /// The task.
        task_id: TaskIdImpl,
        /// Its footprint.
        carbon_footprint: f64,
    },
    /// A task failed.
    TaskFailed {
        /// The task.
        task_id: TaskIdImpl,
        /// Why.
        reason: String,
    },
    /// A node's status or liveliness changed.
    Node(NodeInfo),
    /// An optimisation iteration finished.
    Iteration(IterationMetric),
    /// An optimisation run stopped.
    OptimizationFinished {
        /// The problem.
        problem_id: u32,
        /// Why it stopped.
        reason: String,
        /// The iteration with the lowest footprint.
        best: Option<TaskIdImpl>,
    },
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
