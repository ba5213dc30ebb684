//! Optimisation runs over REST: `POST /optimizations`, `GET /optimizations`,
//! `GET /optimizations/{id}`, `POST /optimizations/{id}/cancel`.
//!
//! A run is a new problem whose iterations follow each other, each with the previous
//! one's model, hardware and footprint as baselines, until its footprint is at or
//! below the target, the budget runs out, ML_MODEL has no better model, an iteration
//! fails, or someone cancels it. Its id is its problem id, as text. Its progress is on
//! `GET /events`: `output` for each node output of a running iteration, `iteration`
//! for each finished one, `optimization_finished` when it stops. Runs survive a
//! restart of the orchestrator: they go on, or stop with a stated reason.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use sustainml_orchestrator::types::{NodeId, TaskIdImpl};
use sustainml_orchestrator::{Budget, OptimizationReport, TaskState};

use crate::error::{ApiError, ApiResult};
use crate::input::{object, submission};
use crate::AppState;

/// The keys of a POST /optimizations body.
const KEYS: [&str; 3] = ["user_input", "budget", "target_carbon_footprint"];

/// POST /optimizations `{"user_input": {…as POST /user_input…}, "budget":
/// {"max_iterations": N, "max_seconds": S}, "target_carbon_footprint": X}`.
/// The budget's fields default to the orchestrator's (5 iterations, 600 s); the target
/// to the input's `desired_carbon_footprint` (0: no target). 202 with the run's id.
pub async fn start(
    State(state): State<AppState>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let map = object(&body)?;
    if let Some(unknown) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "unknown field `{unknown}` (known: {})",
            KEYS.join(", ")
        )));
    }
    let input = match map.get("user_input") {
        Some(v @ Value::Object(_)) => submission(v.to_string().as_bytes())
            .map_err(|e| ApiError::bad_request(format!("in `user_input`: {}", e.message)))?,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "field `user_input` must be an object (the POST /user_input body), not {}",
                kind(other)
            )))
        }
        None => return Err(ApiError::bad_request("field `user_input` is missing")),
    };
    if input.previous_problem.is_some() {
        return Err(ApiError::bad_request(
            "field `user_input.previous_iteration` must be 0: a run starts a new problem",
        ));
    }
    let budget = budget(map.get("budget"), state.orch.default_budget())?;
    let target = match map.get("target_carbon_footprint") {
        None | Some(Value::Null) => input.input.desired_carbon_footprint.max(0.0),
        Some(v) => match v.as_f64() {
            Some(x) if x.is_finite() && x >= 0.0 => x,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "field `target_carbon_footprint` must be a number ≥ 0 (kg CO2e; 0: no target), not {v}"
                )))
            }
        },
    };
    let first = state.orch.optimize(input.input, target, budget).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "id": first.problem_id.to_string(),
            "problem_id": first.problem_id,
            "first_task": first,
            "target_carbon_footprint": target,
            "budget": budget,
        })),
    ))
}

fn budget(value: Option<&Value>, default: Budget) -> ApiResult<Budget> {
    let map = match value {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "field `budget` must be an object {{\"max_iterations\": N, \"max_seconds\": S}}, not {}",
                kind(other)
            )))
        }
    };
    if let Some(unknown) = map
        .keys()
        .find(|k| !["max_iterations", "max_seconds"].contains(&k.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "unknown field `budget.{unknown}` (known: max_iterations, max_seconds)"
        )));
    }
    let mut budget = default;
    if let Some(v) = map.get("max_iterations") {
        budget.max_iterations = v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "field `budget.max_iterations` must be an integer ≥ 1, not {v}"
                ))
            })?;
    }
    if let Some(v) = map.get("max_seconds") {
        budget.max_time = v
            .as_f64()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "field `budget.max_seconds` must be a number of seconds > 0, not {v}"
                ))
            })?;
    }
    Ok(budget)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// GET /optimizations: every run, by problem id, without its iterations' details.
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let runs: Vec<Value> = state
        .orch
        .optimizations()
        .await?
        .iter()
        .map(|r| {
            let mut v = summary(r);
            v["iterations"] = json!(r.iterations.len());
            v
        })
        .collect();
    Ok(Json(json!({ "optimizations": runs })))
}

/// GET /optimizations/{id}: the run with each iteration's model, footprint, energy,
/// latency and state (the running one included).
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let problem = run_id(&id)?;
    let report = state
        .orch
        .optimization(problem)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no optimisation run {id}")))?;
    let mut v = summary(&report);
    let mut tasks: Vec<_> = state
        .orch
        .tasks()
        .await?
        .into_iter()
        .filter(|t| t.task_id.problem_id == problem)
        .collect();
    tasks.sort_by_key(|t| t.task_id.iteration_id);
    let mut iterations = Vec::new();
    for t in tasks {
        iterations.push(iteration(&state, t.task_id, &t.state).await?);
    }
    v["iterations"] = Value::Array(iterations);
    Ok(Json(v))
}

/// POST /optimizations/{id}/cancel: stops the run and its running iteration.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let problem = run_id(&id)?;
    let cancelled = state.orch.cancel_optimization(problem).await?;
    Ok(Json(json!({
        "id": id,
        "cancelled": cancelled,
        "message": if cancelled {
            format!("optimisation run {id} cancelled")
        } else {
            format!("optimisation run {id} had already stopped")
        },
    })))
}

fn run_id(id: &str) -> ApiResult<u32> {
    id.parse::<u32>().map_err(|_| {
        ApiError::bad_request(format!(
            "an optimisation run's id is its problem id, a number; not {id:?}"
        ))
    })
}

fn summary(r: &OptimizationReport) -> Value {
    json!({
        "id": r.problem_id.to_string(),
        "problem_id": r.problem_id,
        "state": if r.stopped.is_some() { "stopped" } else { "running" },
        "stop_reason": r.stopped.as_ref().map(|s| json!({"kind": s.kind, "message": s.message})),
        "target_carbon_footprint": r.target,
        "budget": r.budget,
        "best": r.best,
    })
}

async fn iteration(state: &AppState, id: TaskIdImpl, task: &TaskState) -> ApiResult<Value> {
    let mut v = Map::new();
    v.insert("task_id".into(), json!(id));
    let (name, reason) = match task {
        TaskState::Running => ("running", None),
        TaskState::Done => ("done", None),
        TaskState::Failed { reason } => ("failed", Some(reason.clone())),
        _ => ("unknown", None),
    };
    v.insert("state".into(), json!(name));
    if let Some(reason) = reason {
        v.insert("reason".into(), json!(reason));
    }
    let model = state.orch.output(id, NodeId::MlModel).await?;
    let hw = state.orch.output(id, NodeId::HwResources).await?;
    let co2 = state.orch.output(id, NodeId::CarbonFootprint).await?;
    let field = |out: &Option<sustainml_orchestrator::NodeOutput>, key: &str| {
        out.as_ref()
            .map(|o| o.to_json())
            .and_then(|j| j.get(key).cloned())
            .unwrap_or(Value::Null)
    };
    v.insert("model".into(), field(&model, "model"));
    v.insert("latency".into(), field(&hw, "latency"));
    v.insert("power_consumption".into(), field(&hw, "power_consumption"));
    v.insert("carbon_footprint".into(), field(&co2, "carbon_footprint"));
    v.insert(
        "energy_consumption".into(),
        field(&co2, "energy_consumption"),
    );
    Ok(Value::Object(v))
}
