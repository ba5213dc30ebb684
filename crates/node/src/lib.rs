//! The node runtime of sustainml-rs: write one callback, get a SustainML node.
//!
//! ```no_run
//! use sustainml_node::{ml_model_metadata, TaskError};
//!
//! fn main() -> Result<(), sustainml_node::NodeError> {
//!     ml_model_metadata()
//!         .on_configuration(|request| Ok(format!("{{\"echo\":{:?}}}", request)))
//!         .callback(|(input,), ctx, out| {
//!             if input.problem_short_description.is_empty() {
//!                 return Err(TaskError::new("empty problem description"));
//!             }
//!             out.keywords = input.problem_short_description.split(' ').map(str::to_owned).collect();
//!             ctx.set_message("keywords from the short description");
//!             Ok(())
//!         })
//!         .run_blocking()
//! }
//! ```
//!
//! What the runtime does for the callback (see REFERENCE.md §2 for the reference's
//! behaviour this improves on):
//!
//! - **Join by task id.** The callback runs once every input of a task has arrived, in
//!   any order, with many tasks in flight and up to `concurrency` callbacks at once.
//!   Incomplete tasks are evicted after `input_timeout` and reported with the names of
//!   the missing inputs; duplicates are ignored; memory is bounded (`max_pending`).
//! - **Status.** The node publishes its state on `/sustainml/status` (task_id {0,0}):
//!   INITIALIZING → IDLE → RUNNING → IDLE/ERROR, NODE_INACTIVE while stopped, and
//!   TERMINATING. That sample has a writer of its own keeping only the current state,
//!   so a reader that joins at any time, after any number of tasks, learns it. Each
//!   task has its own status instance (RUNNING, then SUCCEEDED or ERROR with the
//!   message) on a second writer. A callback that fails, panics or overruns
//!   `task_timeout` gives TASK_ERROR, and **its output is not published**: downstream
//!   nodes and the orchestrator learn of the failure from the task's status (the
//!   orchestrator marks the task failed; downstream nodes evict it and report the
//!   missing input).
//! - **Control** (`/sustainml/control`, `target_node` = this node or empty). Every
//!   task a command takes away gets one TASK_ERROR status naming why:
//!   - STOP_NODE: no task starts until START_NODE (inputs are still joined; running
//!     callbacks finish). The node reports NODE_INACTIVE, its `error_description`
//!     beginning "stopped by STOP_NODE from <source_node>", in every status until
//!     START_NODE brings it back to IDLE.
//!   - RESET_NODE: drops every task held: half-joined, queued, and running (cancelled,
//!     reported when the callback returns), each reported as "task dropped by
//!     RESET_NODE from <source_node>…"; clears the ERROR state.
//!   - TERMINATE_NODE: exits cleanly.
//!   - STOP_TASK / PREEMPT_TASK: cancel a task (cooperatively, through
//!     [`TaskContext::is_cancelled`]; its output is discarded), reported "task stopped"
//!     / "task preempted" once the callback returns; a half-joined task loses its
//!     inputs (they join again if sent again).
//!   - TERMINATE_TASK: ends a task for good, reported at once without waiting for its
//!     callback; no later input of it starts it again.
//!   - RESET_TASK: forgets a task so that its inputs, sent again, run it again (what
//!     the node held of it is dropped and reported).
//!
//!   A task taken away by a command does not turn the node ERROR.
//! - **Configuration service.** Requests for this node's id are answered with the
//!   configuration callback's JSON (success=true) or an error (success=false,
//!   INTERNAL_ERROR, `{"error": …}`), on its own threads.
//! - **Shutdown.** Ctrl-C, SIGTERM or TERMINATE_NODE: TERMINATING is published, writers
//!   are flushed, the participant is dropped, `run` returns `Ok`. A second Ctrl-C exits
//!   at once.
#![warn(missing_docs)]

mod builder;
mod cli;
mod config_service;
mod event_loop;
mod inputs;
mod join;
mod kind;
mod options;
mod status;
mod task;

pub use builder::{
    app_requirements, carbon_footprint, generic, hw_constraints, hw_resources, ml_model,
    ml_model_metadata, MlModelInputs, Node, NodeBuilder,
};
pub use cli::{NodeArgs, NodeArgsError};
pub use config_service::{ConfigError, ConfigRequest};
pub use inputs::{AnyInputs, AnySample, InputSet};
pub use kind::NodeKind;
pub use options::{NodeError, NodeOptions};
pub use sustainml_dds::logging;
pub use sustainml_types as types;
pub use task::{TaskContext, TaskError, TaskResult};
