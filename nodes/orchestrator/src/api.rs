//! The handlers other than `/results` and `/events`.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use sustainml_orchestrator::types::{NodeId, TaskIdImpl};

use crate::error::{ApiError, ApiResult};
use crate::input::{object, submission, Fields};
use crate::AppState;

/// GET /: who answers.
pub async fn root() -> Json<Value> {
    Json(json!({
        "message": "SustainML orchestrator (sustainml-rs): POST /user_input, POST /config_request, GET|POST /status, GET|POST /results, GET /tasks, GET /tasks/{problem}/{iteration}, POST /tasks/{problem}/{iteration}/cancel, POST /control, GET /events, GET /ready, GET|POST /optimizations, GET /optimizations/{id}, POST /optimizations/{id}/cancel"
    }))
}

/// Unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint (GET / lists them)")
}

/// POST /user_input: a new problem, or (with `previous_iteration` > 0) the next
/// iteration of `extra_data.previous_problem_id`.
pub async fn user_input(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Value>> {
    let s = submission(&body)?;
    let id = match s.previous_problem {
        None => state.orch.new_task(s.input).await?,
        Some(p) => state.orch.new_iteration(p, Some(s.input)).await?,
    };
    Ok(Json(json!({
        "message": format!("task {id} published"),
        "task_id": id,
    })))
}

/// Where the reference back-end sends a configuration request that names no node: by
/// words in the request (`hardwares` → HW_RESOURCES; `modality`, `in_out_modalities`,
/// `metrics`, `model_info`, `problem_from_modality`, `dataset_path` →
/// ML_MODEL_METADATA; `goal`, `model_from_goal`, `hf_search` → ML_MODEL; anything
/// else → APP_REQUIREMENTS).
pub fn route_by_content(configuration: &str) -> NodeId {
    const METADATA: [&str; 6] = [
        "modality",
        "in_out_modalities",
        "metrics",
        "model_info",
        "problem_from_modality",
        "dataset_path",
    ];
    const MODEL: [&str; 3] = ["goal", "model_from_goal", "hf_search"];
    if configuration.contains("hardwares") {
        NodeId::HwResources
    } else if METADATA.iter().any(|w| configuration.contains(w)) {
        NodeId::MlModelMetadata
    } else if MODEL.iter().any(|w| configuration.contains(w)) {
        NodeId::MlModel
    } else {
        NodeId::AppRequirements
    }
}

/// POST /config_request `{configuration, node_id?}`: the node's answer, 504 if it does
/// not answer within the configuration timeout.
pub async fn config_request(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Value>> {
    let map = object(&body)?;
    let f = Fields(&map);
    let configuration = match f.get("configuration") {
        None => return Err(ApiError::bad_request("field `configuration` is missing")),
        Some(Value::String(s)) => s.clone(),
        // A JSON request given as JSON rather than as a string.
        Some(v @ (Value::Object(_) | Value::Array(_))) => v.to_string(),
        Some(_) => {
            return Err(ApiError::bad_request(
                "field `configuration` must be a string (or a JSON object)",
            ))
        }
    };
    let node = f
        .node_id("node_id")?
        .unwrap_or_else(|| route_by_content(&configuration));
    if node == NodeId::Orchestrator {
        return Err(ApiError::bad_request(
            "field `node_id`: 7 is the orchestrator, which has no configuration service",
        ));
    }
    let r = state
        .orch
        .configuration_request(node, &configuration)
        .await?;
    let message = if r.success {
        format!("{node} answered the configuration request")
    } else {
        format!("{node} could not apply the configuration request")
    };
    Ok(Json(json!({
        "message": message,
        "response": {
            "node_id": r.node_id,
            "transaction_id": r.transaction_id,
            "success": r.success,
            "err_code": r.err_code.index(),
            "configuration": r.configuration,
        }
    })))
}

fn status_map(state: &AppState) -> BTreeMap<String, String> {
    state
        .orch
        .node_statuses()
        .into_iter()
        .map(|(k, info)| (k, info.status))
        .collect()
}

/// GET /status: `{status: {KEY: "IDLE", …}}` for every node heard from, and `nodes`
/// with the details (liveliness, last error, last seen).
pub async fn get_status(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": status_map(&state),
        "nodes": state.orch.node_statuses(),
    }))
}

/// POST /status `{node_id?}`: one node's status string, or the whole map.
pub async fn post_status(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Value>> {
    let map = object(&body)?;
    let f = Fields(&map);
    let key = match f.get("node_id") {
        None => return Ok(Json(json!({ "status": status_map(&state) }))),
        // Nodes beside the six reference kinds are listed under their own name.
        Some(Value::String(s))
            if s.trim().parse::<i32>().is_err()
                && !NodeId::ALL
                    .iter()
                    .any(|n| n.rest_key() == s || n.node_name() == s) =>
        {
            s.clone()
        }
        Some(_) => f
            .node_id("node_id")?
            .map(|n| n.rest_key().to_owned())
            .unwrap_or_default(),
    };
    match status_map(&state).remove(&key) {
        Some(status) => Ok(Json(json!({ "status": status }))),
        None => Err(ApiError::not_found(format!(
            "node {key} has not been heard from"
        ))),
    }
}

/// GET /ready: 200 once the six module nodes are alive, ready for tasks and matched, else 503 saying
/// what is missing. Never waits.
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.orch.wait_ready(Duration::ZERO).await {
        Ok(()) => Json(json!({ "ready": true })).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "error": e.to_string() })),
        )
            .into_response(),
    }
}

/// GET /tasks: every task, oldest first.
pub async fn tasks(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "tasks": state.orch.tasks().await? })))
}

/// The task id of a `/tasks/{problem}/{iteration}` path.
pub fn task_path(problem: &str, iteration: &str) -> ApiResult<TaskIdImpl> {
    let number = |what: &str, s: &str| {
        s.parse::<u32>().map_err(|_| {
            ApiError::bad_request(format!("path segment `{what}` must be a number, not {s:?}"))
        })
    };
    Ok(TaskIdImpl::new(
        number("problem", problem)?,
        number("iteration", iteration)?,
    ))
}

/// GET /tasks/{problem}/{iteration}: everything about one task.
pub async fn task(
    State(state): State<AppState>,
    Path((problem, iteration)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let id = task_path(&problem, &iteration)?;
    match state.orch.task(id).await? {
        Some(t) => Ok(Json(t.to_json())),
        None => Err(ApiError::not_found(format!("no task {id}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_without_a_node_are_routed_by_their_words() {
        assert_eq!(route_by_content("hardwares"), NodeId::HwResources);
        assert_eq!(
            route_by_content("{\"modality\":1}"),
            NodeId::MlModelMetadata
        );
        assert_eq!(route_by_content("model_from_goal"), NodeId::MlModel);
        assert_eq!(route_by_content("anything"), NodeId::AppRequirements);
    }
}
