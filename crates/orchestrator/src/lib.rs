//! The SustainML orchestrator: takes a user's ML problem to the module nodes, collects
//! what they answer, iterates towards a carbon target, and remembers everything.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sustainml_orchestrator::Error> {
//! use std::time::Duration;
//! use sustainml_orchestrator::{Orchestrator, OrchestratorOptions};
//! use sustainml_orchestrator::types::{NodeId, UserInputImpl};
//!
//! let orch = Orchestrator::start(OrchestratorOptions::new("/var/lib/sustainml")).await?;
//! let task = orch.new_task(UserInputImpl { modality: "images".into(), ..Default::default() }).await?;
//! orch.wait_task(task, Duration::from_secs(120)).await?;
//! let footprint = orch.output(task, NodeId::CarbonFootprint).await?;
//! let answer = orch.configuration_request(NodeId::HwResources, "hardwares").await?;
//! # Ok(()) }
//! ```
//!
//! # Design
//!
//! - **Tasks** are numbered as the reference's (REFERENCE.md §5): the first task is
//!   {1,1}; [`Orchestrator::new_task`] opens problem n+1, [`Orchestrator::new_iteration`]
//!   the next iteration of a problem. Starting a task records it, then publishes its
//!   `UserInputImpl` and the three baselines (ML model, hardware, footprint) taken
//!   from the previous iteration's outputs, or empty placeholders stamped with the
//!   task's id for iteration 1. The writers are created once, at start, transient-local
//!   with history kept, so a node whose reader appears late still gets the task.
//! - **Outputs and statuses.** One reader per output topic and one on
//!   `/sustainml/status`. A task is *done* when CARBON_FOOTPRINT's output arrived (and
//!   the other five, or 2 s later: topics are not ordered with each other); *failed*
//!   when a node reports TASK_ERROR (its `error_description` is the reason) or when
//!   the deadline passes (the reason names the nodes whose outputs are missing).
//! - **Automatic optimisation** ([`optimize`]): a problem whose input asks for it
//!   iterates until the footprint is at or below `desired_carbon_footprint`, the
//!   budget is spent, an iteration fails, or ML_MODEL answers NO_MODEL.
//! - **Node registry**: each node's latest status and liveliness. A node becomes
//!   INACTIVE when DDS discovery loses its participant (see `registry` notes: nodes
//!   publish status only on change, so liveliness comes from participant leases).
//!   Any node name is listed; the six reference nodes under their REST keys.
//! - **Configuration client**: [`Orchestrator::configuration_request`] over
//!   `sustainml_dds::Requester` (unique transaction ids, requests in parallel, a
//!   timeout on each, the node's `success`/`err_code` passed through).
//! - **Store** ([`store`]): one SQLite file in the data directory with tasks, user
//!   inputs, every output's CDR payload, per-task node statuses, failure reasons and
//!   optimisation reports. It runs on its own thread, so async callers never block a
//!   worker, and it is held with an exclusive lock (one orchestrator per directory).
//!   Problem ids continue after the highest stored.
//! - **Restart**: [`Orchestrator::start`] takes up every task the store still marks
//!   running. It keeps the deadline it had (its stored start plus the configured
//!   deadline) and fails at once, saying so, if that passed while the orchestrator
//!   was down; otherwise outputs, statuses (the nodes replay theirs to the new
//!   orchestrator) and cancel work on it as before, and its user input and baselines
//!   are published again for nodes that start later. An optimisation run left
//!   unstopped goes on from its problem's last iteration, with its time budget
//!   counted from its first iteration, or stops with a reason. The log says how many
//!   tasks were reloaded and how many failed as expired.
//! - **For a REST layer**: every method is async or a cheap in-memory snapshot; queries
//!   answer at once with what is there (absent outputs are absent, never awaited);
//!   [`Orchestrator::subscribe`] gives a broadcast stream of [`Event`]s (serde,
//!   tagged) for server-sent events; [`TaskDetails::to_json`] gives the reference's
//!   REST keys.
#![warn(missing_docs)]

mod db;
mod error;
mod intake;
mod model;
pub mod optimize;
mod options;
mod orchestrator;
mod output;
mod registry;
mod reload;
pub mod store;
mod tasks;

pub use error::{Error, Result, StoreError};
pub use model::{
    node_key, Event, IterationMetric, NodeInfo, TaskDetails, TaskNodeStatus, TaskState, TaskSummary,
};
pub use optimize::{Budget, OptimizationReport, Stop, StopKind};
pub use options::OrchestratorOptions;
pub use orchestrator::{store_file, Orchestrator};
pub use output::{output_topic, NodeOutput, NO_MODEL, OUTPUT_NODES};
pub use registry::status_text;
pub use sustainml_types as types;
