//! HW_RESOURCES_NODE: the performance evaluator. It puts the proposed model on the
//! device the user requires (`hardware_required`, default `PIM_AI_1chip`) through
//! `sustainml-device`, and reports latency, power, memory and how each was obtained.
//!
//! - A model that travels with its ONNX file (`raw_model`) is loaded on the device: on
//!   `CPU` it really runs (latency over repeated runs, energy from RAPL or TDP ×
//!   utilisation); on any other device its FLOPs and memory are read from the graph and
//!   the device table gives latency and power (marked `"estimated": true`).
//! - A catalogue model without a file is estimated from the FLOPs and parameters that
//!   ML_MODEL_NODE puts in `model_properties`.
//! - `NO_MODEL` passes through with zeros (`"mode": "no_model"`), as the carbon node
//!   expects.
//!
//! Units: `latency` in ms, `power_consumption` in W, memory figures in MB (10^6 bytes).
#![warn(missing_docs)]

use serde_json::{json, Value};
use sustainml_device::{require_device, Measurement};
use sustainml_node::ConfigError;
use sustainml_types::{AppRequirementsImpl, HWConstraintsImpl, HWResourceImpl, MLModelImpl};

/// The device used when the constraints name none (the reference's default).
pub const DEFAULT_HARDWARE: &str = "PIM_AI_1chip";

/// Timed runs of a model on a device that really runs it.
pub const RUNS: usize = 20;

/// The model name ML_MODEL_NODE uses when nothing fits.
pub const NO_MODEL: &str = "NO_MODEL";

/// Evaluates `model` on the required device. Errors name the cause (unknown device,
/// a file that is not ONNX, an unsupported operator, a model too big for the device,
/// missing model properties).
pub fn evaluate(
    model: &MLModelImpl,
    app: &AppRequirementsImpl,
    hw: &HWConstraintsImpl,
    runs: usize,
) -> Result<HWResourceImpl, String> {
    let hardware = hw
        .hardware_required
        .iter()
        .map(|h| h.trim())
        .find(|h| !h.is_empty())
        .unwrap_or(DEFAULT_HARDWARE);
    let device = require_device(hardware).map_err(|e| e.to_string())?;
    let info = device.describe();
    let mut out = HWResourceImpl {
        hw_description: hardware.to_owned(),
        max_hw_memory_footprint: info.memory_bytes as f64 / 1e6,
        ..HWResourceImpl::default()
    };
    if model.model.trim() == NO_MODEL || model.model.trim().is_empty() {
        out.extra_data = json!({ "mode": "no_model", "device": info.name })
            .to_string()
            .into_bytes();
        return Ok(out);
    }
    let measured = if model.raw_model.is_empty() {
        let (flops, memory) = figures_from_properties(model)?;
        sustainml_device::estimate_figures(&info.name, &model.model, flops, memory)
    } else {
        device
            .load_bytes(&model.model, &model.raw_model)
            .and_then(|loaded| loaded.profile(runs))
    }
    .map_err(|e| e.to_string())?;
    let how = if measured.estimated {
        "estimated"
    } else {
        "measured"
    };
    out.hw_description = format!("{} ({how})", info.name);
    out.power_consumption = measured.power_w;
    out.latency = measured.latency_ms_p50;
    out.memory_footprint_of_ml_model = measured.memory_bytes as f64 / 1e6;
    out.extra_data = report(&measured, model, app, hw).to_string().into_bytes();
    Ok(out)
}

/// FLOPs and memory bytes of a catalogue model from its `model_properties` JSON
/// (`gmacs`: billions of multiply-accumulates; `params`: fp32 parameters).
fn figures_from_properties(model: &MLModelImpl) -> Result<(u64, u64), String> {
    let props: Value = serde_json::from_str(&model.model_properties).map_err(|e| {
        format!(
            "model {} has no ONNX file and its model_properties are not JSON: {e}",
            model.model
        )
    })?;
    let number = |key: &str| {
        props
            .get(key)
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(|| {
                format!(
                    "model {} has no ONNX file and model_properties has no positive {key:?}",
                    model.model
                )
            })
    };
    let flops = (number("gmacs")? * 2e9).round() as u64;
    let memory = (number("params")? * 4.0).round() as u64;
    Ok((flops, memory))
}

fn report(
    m: &Measurement,
    model: &MLModelImpl,
    app: &AppRequirementsImpl,
    hw: &HWConstraintsImpl,
) -> Value {
    let mut extra = json!({
        "device": m.device,
        "estimated": m.estimated,
        "method": m.method,
        "runs": m.runs,
        "latency_ms_mean": m.latency_ms_mean,
        "energy_j_per_inference": m.energy_j_per_inference,
        "memory_bytes": m.memory_bytes,
    });
    if model.target_latency > 0.0 {
        extra["target_latency_ms"] = json!(model.target_latency);
        extra["meets_target_latency"] = json!(m.latency_ms_p50 <= model.target_latency);
    }
    if hw.max_memory_footprint > 0 {
        extra["meets_max_memory_footprint"] =
            json!(m.memory_bytes as f64 / 1e6 <= f64::from(hw.max_memory_footprint));
    }
    if !app.app_requirements.is_empty() {
        extra["app_requirements"] = json!(app.app_requirements);
    }
    extra
}

/// Answers a configuration query: `hardwares` → `{"hardwares": "CPU, …"}` (the
/// reference's query), `devices` → every device with its figures and their source.
pub fn configure(query: &str) -> Result<String, ConfigError> {
    match query.trim() {
        "hardwares" => {
            Ok(json!({ "hardwares": sustainml_device::devices().join(", ") }).to_string())
        }
        "devices" => {
            let rows: Vec<Value> = sustainml_device::devices()
                .iter()
                .filter_map(|name| sustainml_device::device(name))
                .map(|d| serde_json::to_value(d.describe()).unwrap_or(Value::Null))
                .collect();
            Ok(json!({ "devices": rows }).to_string())
        }
        other => Err(ConfigError::new(format!(
            "Unsupported configuration request: {other}"
        ))),
    }
}
