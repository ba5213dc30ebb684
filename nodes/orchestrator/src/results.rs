//! `/results`: node outputs in the reference back-end's shapes, answered at once with
//! what is stored (outputs not there yet are listed under `missing`, never awaited).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use sustainml_orchestrator::types::{NodeId, TaskIdImpl};
use sustainml_orchestrator::{NodeOutput, TaskDetails, OUTPUT_NODES};

use crate::error::{ApiError, ApiResult};
use crate::input::{object, Fields};
use crate::AppState;

/// The `node_id` of POST /results that asks for the six outputs at once.
pub const ALL_NODES: i64 = 9;

/// A node's output as the reference back-end renders it (REFERENCE.md §5), plus the
/// remaining fields of the IDL type:
///
/// | node | reference fields |
/// |---|---|
/// | APP_REQUIREMENTS | `app_requirements` (comma-joined) |
/// | ML_MODEL_METADATA | `keywords` (an array, as the front-end reads it), `metadata` (comma-joined) |
/// | HW_CONSTRAINTS | `max_memory_footprint`, `hardware_required` (comma-joined) |
/// | ML_MODEL | `model`, `model_path`, `model_properties`, `model_properties_path`, `input_batch` (an array, as the front-end reads it), `target_latency` |
/// | HW_RESOURCES | `hw_description`, `power_consumption`, `latency`, `memory_footprint_of_ml_model` |
/// | CARBON_FOOTPRINT | `carbon_footprint`, `energy_consumption`, `carbon_intensity`, `extra_data` |
///
/// Every object has `task_id`, and `extra_data` as the JSON it carries.
pub fn reference_json(out: &NodeOutput) -> Value {
    let mut value = out.to_json();
    let Value::Object(map) = &mut value else {
        return value;
    };
    let join = |map: &Map<String, Value>, field: &str| -> Value {
        let items: Vec<&str> = map
            .get(field)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        Value::String(items.join(", "))
    };
    match out.node() {
        NodeId::AppRequirements => {
            let joined = join(map, "app_requirements");
            map.insert("app_requirements".into(), joined);
        }
        NodeId::MlModelMetadata => {
            let joined = join(map, "ml_model_metadata");
            map.insert("metadata".into(), joined);
        }
        NodeId::HwConstraints => {
            let joined = join(map, "hardware_required");
            map.insert("hardware_required".into(), joined);
        }
        _ => {}
    }
    value
}

/// The six outputs of a task by REST key, with `task_id`, `state`, `reason` (if
/// failed), `missing` (the keys not there yet) and a `message`.
fn all_outputs(task: &TaskDetails) -> Value {
    let mut map = Map::new();
    let mut missing = Vec::new();
    for node in OUTPUT_NODES {
        match task.outputs.get(&node) {
            Some(out) => {
                map.insert(node.rest_key().into(), reference_json(out));
            }
            None => missing.push(node.rest_key()),
        }
    }
    let id = task.summary.task_id;
    let (state, reason) = state_of(task);
    let message = if missing.is_empty() {
        format!("task {id}: {state}, every output is there")
    } else {
        format!("task {id}: {state}; not there yet: {}", missing.join(", "))
    };
    map.insert("task_id".into(), json!(id));
    map.insert("state".into(), json!(state));
    if let Some(r) = reason {
        map.insert("reason".into(), json!(r));
    }
    map.insert("missing".into(), json!(missing));
    map.insert("message".into(), json!(message));
    Value::Object(map)
}

fn state_of(task: &TaskDetails) -> (String, Option<String>) {
    let v = serde_json::to_value(&task.summary.state).unwrap_or(Value::Null);
    let state = v["state"].as_str().unwrap_or("unknown").to_owned();
    let reason = v["reason"].as_str().map(str::to_owned);
    (state, reason)
}

/// The latest task, if any.
async fn last_task(state: &AppState) -> ApiResult<Option<TaskIdImpl>> {
    Ok(state.orch.tasks().await?.last().map(|t| t.task_id))
}

async fn details(state: &AppState, id: TaskIdImpl) -> ApiResult<TaskDetails> {
    state
        .orch
        .task(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no task {id}")))
}

/// GET /results: the last task's six outputs, answered at once with what is there.
pub async fn get_results(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let Some(id) = last_task(&state).await? else {
        let missing: Vec<&str> = OUTPUT_NODES.iter().map(|n| n.rest_key()).collect();
        return Ok(Json(json!({
            "task_id": null,
            "state": "no_task",
            "missing": missing,
            "message": "no task yet: POST /user_input first",
        })));
    };
    Ok(Json(all_outputs(&details(&state, id).await?)))
}

/// POST /results `{node_id, task_id?}`: one node's output as `{KEY: {…}}`; node 9 =
/// all six (as GET /results), 7 = the task's UserInput under `ORCHESTRATOR`. Without
/// `task_id`, the last task. An output not there yet answers 202 with `state` and
/// `missing`.
pub async fn post_results(State(state): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let map = object(&body)?;
    let f = Fields(&map);
    let all = f.get("node_id").is_none_or(|v| {
        v.as_i64() == Some(ALL_NODES) || v.as_str().is_some_and(|s| s.trim() == "9")
    });
    let node = if all { None } else { f.node_id("node_id")? };
    let id = match f.task_id("task_id")? {
        Some(id) => id,
        None => last_task(&state)
            .await?
            .ok_or_else(|| ApiError::not_found("no task yet: POST /user_input first"))?,
    };
    let task = details(&state, id).await?;
    let Some(node) = node else {
        return Ok(Json(all_outputs(&task)).into_response());
    };
    if node == NodeId::Orchestrator {
        let mut input = task.to_json()["user_input"].take();
        if let Value::Object(m) = &mut input {
            m.insert("task_id".into(), json!(id));
        }
        return Ok(Json(json!({ node.rest_key(): input })).into_response());
    }
    match task.outputs.get(&node) {
        Some(out) => Ok(Json(json!({ node.rest_key(): reference_json(out) })).into_response()),
        None => {
            let (st, reason) = state_of(&task);
            let message = format!(
                "{} has not answered task {id} yet (task {st})",
                node.rest_key()
            );
            let body = json!({
                "task_id": id,
                "state": st,
                "reason": reason,
                "missing": [node.rest_key()],
                "message": message,
            });
            Ok((StatusCode::ACCEPTED, Json(body)).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sustainml_orchestrator::types::{AppRequirementsImpl, MLModelMetadataImpl};

    #[test]
    fn outputs_take_the_reference_shapes() {
        let app = NodeOutput::AppRequirements(AppRequirementsImpl {
            app_requirements: vec!["a".into(), "b".into()],
            task_id: TaskIdImpl::new(1, 2),
            ..Default::default()
        });
        let j = reference_json(&app);
        assert_eq!(j["app_requirements"], "a, b");
        assert_eq!(j["task_id"], json!({"problem_id": 1, "iteration_id": 2}));
        let md = NodeOutput::MlModelMetadata(MLModelMetadataImpl {
            keywords: vec!["k".into()],
            ml_model_metadata: vec!["x".into(), "y".into()],
            ..Default::default()
        });
        let j = reference_json(&md);
        assert_eq!(j["metadata"], "x, y");
        assert_eq!(j["keywords"], json!(["k"]));
    }
}
