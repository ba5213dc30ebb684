//! The SustainML orchestrator's REST API: an [axum] router over an
//! [`Orchestrator`], compatible with the reference back-end's endpoints and JSON
//! (REFERENCE.md §5) so the reference front-end can use it, plus resource-style task
//! endpoints and a server-sent event stream. The `sustainml-orchestrator` binary is a
//! thin `main` over [`serve`].
//!
//! | method | path | body | answer |
//! |---|---|---|---|
//! | GET | `/` | – | `{message}` listing the endpoints |
//! | POST | `/user_input` | the front-end's UserInput JSON | `{message, task_id:{problem_id, iteration_id}}`; `previous_iteration` > 0 continues `extra_data.previous_problem_id` (404 if unknown) |
//! | POST | `/config_request` | `{configuration, node_id?}` | `{message, response:{node_id, transaction_id, success, err_code, configuration}}`; 504 if the node does not answer in time; without `node_id`, routed by words as the reference does ([`api::route_by_content`]) |
//! | GET | `/status` | – | `{status:{KEY:"IDLE",…}, nodes:{KEY:{…}}}` |
//! | POST | `/status` | `{node_id?}` | `{status:"IDLE"}`, or the whole map; 404 for a node not heard from |
//! | GET | `/results` | – | the last task's six outputs by KEY, `task_id`, `state`, `missing` |
//! | POST | `/results` | `{node_id, task_id?}` | `{KEY:{…}}`; node 9 = all six; 7 = the UserInput; 202 with `missing` if not there yet |
//! | GET | `/tasks` | – | `{tasks:[{task_id, state, reason?, created_ms, updated_ms, outputs, carbon_footprint}]}` |
//! | GET | `/tasks/{problem}/{iteration}` | – | the task: state, user input, outputs by KEY, per-node statuses; 404 if unknown |
//! | POST | `/tasks/{problem}/{iteration}/cancel` | – | `{message, task_id, cancelled}`: every node is told to stop the task, which fails with reason "cancelled"; `cancelled` false if it was not running; 404 if unknown |
//! | POST | `/control` | `{target_node?, cmd_node?, cmd_task?, task_id?}` | `{message, command}`: a NodeControl command (IDL names, e.g. `STOP_NODE`, `PREEMPT_TASK`) to one node or, without `target_node`, to all |
//! | GET | `/events` | – | `text/event-stream`: every orchestrator [`Event`](sustainml_orchestrator::Event) as JSON, named by its `event` tag |
//! | GET | `/ready` | – | 200 `{ready:true}` once the six nodes are alive, else 503 |
//!
//! KEY is the node's REST key (`APP_REQUIREMENTS`, `CARBON_FOOTPRINT`,
//! `HW_CONSTRAINTS`, `HW_RESOURCES`, `ML_MODEL_METADATA`, `ML_MODEL`, `ORCHESTRATOR`);
//! `node_id` is the reference's `NodeID` number (0…5, 7) or a KEY. Output objects take
//! the reference's shapes ([`results::reference_json`]).
//!
//! Nothing waits on a node: every answer is built from what the orchestrator has
//! stored or heard so far; only `/config_request` waits, for at most the configuration
//! timeout. A malformed body or a field of the wrong type is a 400
//! `{"error": "..."}` naming the field. Errors are always `{"error": "..."}`.
//!
//! The reference's unauthenticated `/shutdown` and `/terminate` are deliberately
//! absent: anyone who can reach the port could stop the service. Stop the process
//! with a signal instead (Ctrl-C or SIGTERM shut it down cleanly). The reference's
//! `/hf_models_info` and `/hf_models_compare` (Hugging Face and Ollama helpers) are
//! not provided either.
#![warn(missing_docs)]

pub mod api;
pub mod control;
pub mod dashboard;
pub mod error;
pub mod events;
pub mod input;
pub mod optimizations;
pub mod results;

use std::future::Future;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use sustainml_orchestrator::Orchestrator;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use error::{ApiError, ApiResult};

/// What every handler sees.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The orchestrator.
    pub orch: Arc<Orchestrator>,
    /// Turns true when the server shuts down (ends event streams).
    pub shutdown: watch::Receiver<bool>,
}

/// The API's router. Event streams end when `shutdown` turns true.
pub fn router(orch: Arc<Orchestrator>, shutdown: watch::Receiver<bool>) -> Router {
    Router::new()
        .route("/", get(dashboard::root))
        .route("/dashboard.js", get(dashboard::script))
        .route("/dashboard.css", get(dashboard::style))
        .route("/user_input", axum::routing::post(api::user_input))
        .route("/config_request", axum::routing::post(api::config_request))
        .route("/status", get(api::get_status).post(api::post_status))
        .route(
            "/results",
            get(results::get_results).post(results::post_results),
        )
        .route("/tasks", get(api::tasks))
        .route("/tasks/{problem}/{iteration}", get(api::task))
        .route(
            "/tasks/{problem}/{iteration}/cancel",
            axum::routing::post(control::cancel),
        )
        .route("/control", axum::routing::post(control::control))
        .route("/events", get(events::events))
        .route("/ready", get(api::ready))
        .route(
            "/optimizations",
            get(optimizations::list).post(optimizations::start),
        )
        .route("/optimizations/{id}", get(optimizations::get))
        .route(
            "/optimizations/{id}/cancel",
            axum::routing::post(optimizations::cancel),
        )
        .fallback(api::not_found)
        .with_state(AppState { orch, shutdown })
}

/// Serves the API on `listener` until `shutdown` completes, then ends event streams
/// and lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    orch: Arc<Orchestrator>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (tx, rx) = watch::channel(false);
    let app = router(orch, rx.clone());
    let mut done = rx;
    tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = done.wait_for(|stopping| *stopping).await;
        })
        .await
}
