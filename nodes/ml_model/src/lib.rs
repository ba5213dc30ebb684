//! ML_MODEL_NODE: proposes a model for the user's problem from a catalogue shipped in
//! the repository (`data/catalogue.toml`), offline and explainably.
//!
//! The node reads the goal from the metadata node, `accuracy>=` and `latency<=` from
//! the app requirements, the memory limit and the user's `model_selected` /
//! `model_restrains` from the hardware constraints (which carry the user's extra_data,
//! as the reference's do), and the previous iteration's model and carbon footprint
//! from the baselines. [`propose::propose`] states the rule. The answer names the
//! model, its published figures and licence, why it won and why each other model of
//! the goal lost; when nothing fits it says `NO_MODEL` and why, as the reference does.
//! A proposed model travels with its runnable graph in `raw_model` (see [`graphs`]: the
//! model-zoo graphs of `models/zoo` and the ones `scripts/make-model-graphs`
//! generates), so the hardware node measures it rather than estimating it.
#![warn(missing_docs)]

pub mod catalogue;
pub mod files;
pub mod graphs;
pub mod propose;

use serde_json::{json, Value};
use sustainml_node::ConfigError;
use sustainml_types::{
    AppRequirementsImpl, CO2FootprintImpl, HWConstraintsImpl, MLModelImpl, MLModelMetadataImpl,
};

pub use catalogue::{Catalogue, FileFacts, Model};
pub use graphs::{GraphError, Graphs};
pub use propose::{propose, Outcome, Request};

/// Where shipped model files live, relative to the repository root.
pub const MODELS_DIR: &str = "crates/device/models";

/// The model name the reference uses when nothing fits.
pub const NO_MODEL: &str = "NO_MODEL";

/// Reads a JSON object from `extra_data` (empty → empty object); `what` names the
/// input in the error.
pub fn extra_json(bytes: &[u8], what: &str) -> Result<Value, String> {
    sustainml_types::extra_data::parse_object(bytes)
        .map(Value::Object)
        .map_err(|e| format!("{what} extra_data {e}"))
}

/// Gathers the rule's request from the node's inputs.
pub fn request(
    metadata: &MLModelMetadataImpl,
    app: &AppRequirementsImpl,
    hw: &HWConstraintsImpl,
    baseline_model: &MLModelImpl,
    baseline_carbon: &CO2FootprintImpl,
) -> Result<Request, String> {
    let meta_extra = extra_json(&metadata.extra_data, "metadata")?;
    let hw_extra = extra_json(&hw.extra_data, "hw_constraints")?;
    // The user's choices reach us through the metadata or the constraints node.
    let user = |key: &str| meta_extra.get(key).or_else(|| hw_extra.get(key)).cloned();
    let selected = match user("model_selected") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(other) => return Err(format!("model_selected must be a string, not {other}")),
    };
    let restrained = match user("model_restrains") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("model_restrains must hold model names, found {v}"))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(format!(
                "model_restrains must be a list of model names, not {other}"
            ))
        }
    };
    let baseline_name = baseline_model.model.trim();
    Ok(Request {
        goal: metadata
            .ml_model_metadata
            .first()
            .map(|g| g.trim().to_owned())
            .unwrap_or_default(),
        max_memory_mb: f64::from(hw.max_memory_footprint),
        min_score: propose::min_score(&app.app_requirements),
        restrained,
        selected,
        iteration: metadata.task_id.iteration_id,
        baseline_model: (!baseline_name.is_empty() && baseline_name != NO_MODEL)
            .then(|| baseline_name.to_owned()),
        baseline_carbon: (baseline_carbon.carbon_footprint > 0.0)
            .then_some(baseline_carbon.carbon_footprint),
    })
}

/// Fills the node's output from the rule's outcome. A proposed model with a graph in
/// `graphs` travels with it (`raw_model`, `model_path`, and `extra_data.graph` saying
/// what the graph is), so the hardware node measures it.
pub fn fill(
    outcome: &Outcome,
    app: &AppRequirementsImpl,
    graphs: &Graphs,
    out: &mut MLModelImpl,
) -> Result<(), GraphError> {
    match outcome {
        Outcome::Proposed {
            model,
            reason,
            rejected,
            estimated_carbon,
        } => {
            out.model = model.name.clone();
            let graph = graphs.for_model(model).transpose()?;
            out.model_properties = json!({
                "goal": model.goal,
                "modality": model.modality,
                "params": model.params,
                "gmacs": model.gmacs,
                "weights_mb": model.weights_mb(),
                "metric": model.metric,
                "score": model.score,
                "licence": model.licence,
                "source": model.source,
            })
            .to_string();
            out.input_batch = vec![model.input.clone()];
            out.target_latency = propose::target_latency_ms(&app.app_requirements).unwrap_or(0.0);
            let mut extra = json!({
                "unsupported_models": rejected.keys().collect::<Vec<_>>(),
                "reason": reason,
                "rejected": rejected,
            });
            if let Some(c) = estimated_carbon {
                extra["estimated_carbon_footprint"] = json!(c);
            }
            match graph {
                Some(g) => {
                    extra["graph"] = json!({
                        "origin": g.origin,
                        "path": g.path,
                        "weights": g.entry.weights,
                        "architecture": g.entry.architecture,
                        "note": "untrained weights: latency and memory are the architecture's, \
                                 outputs are meaningless; score is the published one",
                    });
                    out.raw_model = g.bytes;
                    out.model_path = g.path.display().to_string();
                }
                None => {
                    extra["graph"] = Value::Null;
                }
            }
            out.extra_data = extra.to_string().into_bytes();
        }
        Outcome::NoModel { reason, rejected } => {
            out.model = NO_MODEL.into();
            out.extra_data = json!({
                "error_code": NO_MODEL,
                "error": reason,
                "unsupported_models": rejected.keys().collect::<Vec<_>>(),
                "rejected": rejected,
            })
            .to_string()
            .into_bytes();
        }
    }
    Ok(())
}

/// Answers a configuration query: `model_from_goal, <goal>[, <hw>]` → `{"models": "a, b"}`
/// (cheapest first; `<hw>` is echoed), `catalogue` → every model with its figures,
/// `goals` → the goals the catalogue covers.
pub fn configure(catalogue: &Catalogue, query: &str) -> Result<String, ConfigError> {
    let mut parts = query.split(',').map(str::trim);
    match parts.next().unwrap_or("") {
        "model_from_goal" => {
            let goal = parts
                .next()
                .filter(|g| !g.is_empty())
                .ok_or("model_from_goal needs a goal: \"model_from_goal, <goal>[, <hw>]\"")?;
            let mut models: Vec<&Model> = catalogue
                .models()
                .iter()
                .filter(|m| m.goal == goal)
                .collect();
            if models.is_empty() {
                return Err(ConfigError::new(format!(
                    "unknown goal {goal:?}; the catalogue has models for: {}",
                    catalogue.goals().join(", ")
                )));
            }
            models.sort_by(|a, b| a.gmacs.total_cmp(&b.gmacs));
            let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
            let mut answer = json!({ "models": names.join(", ") });
            if let Some(hw) = parts.next().filter(|h| !h.is_empty()) {
                answer["hardware"] = json!(hw);
            }
            Ok(answer.to_string())
        }
        "catalogue" => {
            let rows: Vec<Value> = catalogue
                .models()
                .iter()
                .map(|m| {
                    json!({
                        "name": m.name, "goal": m.goal, "modality": m.modality,
                        "params": m.params, "gmacs": m.gmacs, "input": m.input,
                        "metric": m.metric, "score": m.score, "licence": m.licence,
                        "source": m.source, "file": m.file,
                    })
                })
                .collect();
            Ok(json!({ "models": rows }).to_string())
        }
        "goals" => Ok(json!({ "goals": catalogue.goals().join(", ") }).to_string()),
        _ => Err(ConfigError::new(format!(
            "Unsupported configuration request: {query}"
        ))),
    }
}
