//! HW_RESOURCES_NODE: the performance evaluator. It puts the proposed model on the
//! device the user requires (`hardware_required`, default `PIM_AI_1chip`) through
//! `sustainml-device`, and reports latency, power, memory and how each was obtained.
//!
//! - A model that travels with its ONNX graph (`raw_model`) really runs on this CPU
//!   (warm-up, then [`RUNS`] timed runs: p50 and p90 latency; energy from RAPL, else
//!   CPU time × the per-core watts of `data/cpus.json`; memory of weights plus peak
//!   activations). On `CPU` that is the answer, `"CPU (measured)"`, `"estimated":
//!   false`. A device we do not have is estimated from that CPU measurement, scaled by
//!   the device table's peak throughput and power (`"estimated": true`, and the method
//!   says "estimated from a CPU measurement × …"). A graph is measured once per process
//!   and the measurement reused for later tasks.
//! - A streaming problem (`input_period_ms` in the user's extra_data, which the
//!   constraints node passes on) is run as a stream of frames at that period
//!   (femtodriver's `simulate`): `power_consumption` is then the mean power over the
//!   period (active power while it runs, idle power for the rest), and
//!   `extra_data.simulation` has the energy per frame.
//! - A catalogue model without a file is estimated from the FLOPs and parameters that
//!   ML_MODEL_NODE puts in `model_properties`.
//! - `NO_MODEL` passes through with zeros (`"mode": "no_model"`), as the carbon node
//!   expects.
//!
//! Units: `latency` in ms, `power_consumption` in W, memory figures in MB (10^6 bytes).
#![warn(missing_docs)]

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Value};
use sustainml_device::{
    device_table, estimate_from_cpu, require_device, simulate_measurement, simulate_period,
    CpuDevice, Device, DeviceError, DeviceInfo, Measurement, SimulationReport,
};
use sustainml_node::ConfigError;
use sustainml_types::{AppRequirementsImpl, HWConstraintsImpl, HWResourceImpl, MLModelImpl};

/// The device used when the constraints name none (the reference's default).
pub const DEFAULT_HARDWARE: &str = "PIM_AI_1chip";

/// Timed runs of a model on a device that really runs it, at most.
pub const RUNS: usize = 20;

/// Timed runs of a heavy graph, at least (fewer than [`RUNS`] when they would take
/// longer than [`RUN_BUDGET_MS`]).
pub const MIN_RUNS: usize = 3;

/// Time the timed runs of one graph may take, milliseconds: a heavy graph gets fewer
/// runs so that one task does not hold the node for minutes.
pub const RUN_BUDGET_MS: f64 = 2000.0;

/// The model name ML_MODEL_NODE uses when nothing fits.
pub const NO_MODEL: &str = "NO_MODEL";

/// Evaluates `model` on the required device. Errors name the cause (unknown device,
/// a file that is not ONNX, an unsupported operator, a model too big for the device,
/// missing model properties, a bad input period).
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
    let period = input_period_ms(hw)?;
    let (measured, simulation) = if model.raw_model.is_empty() {
        let (flops, memory) = figures_from_properties(model)?;
        let m = sustainml_device::estimate_figures(&info.name, &model.model, flops, memory)
            .map_err(|e| e.to_string())?;
        let sim = period
            .map(|p| simulate_measurement(&m, p))
            .transpose()
            .map_err(|e| e.to_string())?;
        (m, sim)
    } else {
        measure_graph(model, &info, runs, period, declared_weight_bytes(model))
            .map_err(|e| e.to_string())?
    };
    let how = if measured.estimated {
        "estimated"
    } else {
        "measured"
    };
    out.hw_description = format!("{} ({how})", info.name);
    out.power_consumption = simulation
        .as_ref()
        .map_or(measured.power_w, |s| s.mean_power_w);
    out.latency = measured.latency_ms_p50;
    out.memory_footprint_of_ml_model = measured.memory_bytes as f64 / 1e6;
    let mut extra = report(&measured, model, app, hw);
    if let Some(sim) = &simulation {
        extra["simulation"] = serde_json::to_value(sim).unwrap_or(Value::Null);
    }
    out.extra_data = extra.to_string().into_bytes();
    Ok(out)
}

/// The user's `input_period_ms` (extra_data, passed on by the constraints node): a
/// streaming problem's time between frames.
fn input_period_ms(hw: &HWConstraintsImpl) -> Result<Option<f64>, String> {
    let extra = sustainml_types::extra_data::parse_object(&hw.extra_data)
        .map_err(|e| format!("hw_constraints extra_data {e}"))?;
    match extra.get("input_period_ms") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| format!("input_period_ms must be a number of milliseconds, not {v}")),
    }
}

/// Measurements of graphs on this CPU, by the graph's BLAKE3 digest and the runs.
type MeasurementKey = (blake3::Hash, usize);

fn cpu_measurements() -> &'static Mutex<HashMap<MeasurementKey, Measurement>> {
    static CACHE: OnceLock<Mutex<HashMap<MeasurementKey, Measurement>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Runs the graph on this CPU (once per graph and process), then gives the CPU's
/// figures or scales them to the required device; with a period, runs it as a stream.
fn measure_graph(
    model: &MLModelImpl,
    target: &DeviceInfo,
    runs: usize,
    period: Option<f64>,
    declared_weights: Option<u64>,
) -> Result<(Measurement, Option<SimulationReport>), DeviceError> {
    let cpu = CpuDevice::new();
    let cpu_info = cpu.describe();
    // BLAKE3 (about 0.2 ms for a 0.5 MB graph) rather than SipHash (several times
    // slower): the key is computed for every task.
    let key = (blake3::hash(&model.raw_model), runs);
    let cached = cpu_measurements()
        .lock()
        .ok()
        .and_then(|c| c.get(&key).cloned());
    let needs_stream = period.is_some() && target.name == cpu_info.name;
    let (loaded, cpu_measured) = match cached {
        Some(m) if !needs_stream => (None, m),
        _ => {
            let loaded = cpu.load_bytes(&model.model, &model.raw_model)?;
            let probe = loaded.profile(1)?;
            let fit = if probe.latency_ms_p50 > 0.0 {
                (RUN_BUDGET_MS / probe.latency_ms_p50) as usize
            } else {
                runs
            };
            let mut m = loaded.profile(fit.clamp(MIN_RUNS.min(runs), runs.max(1)))?;
            // A generated graph makes its weights inside the graph, where the graph's
            // facts do not count them: the catalogue's parameters are the floor.
            if let Some(w) = declared_weights.filter(|w| *w > m.memory_bytes) {
                m.memory_bytes = w;
                m.method.push_str(
                    "; memory: at least the model's parameters × 4 bytes (its graph \
                     generates its weights)",
                );
            }
            if let Ok(mut c) = cpu_measurements().lock() {
                c.insert(key, m.clone());
            }
            (Some(loaded), m)
        }
    };
    if target.name == cpu_info.name {
        let simulation = match (period, loaded) {
            // The stream path: frames pushed at the period through the device's stream.
            (Some(p), Some(loaded)) => Some(simulate_period(loaded.as_ref(), p)?),
            _ => None,
        };
        return Ok((cpu_measured, simulation));
    }
    let spec = device_table()?
        .iter()
        .find(|d| d.name == target.name)
        .cloned()
        .ok_or_else(|| DeviceError::UnknownDevice {
            name: target.name.clone(),
            known: sustainml_device::devices(),
        })?;
    let estimated = estimate_from_cpu(&cpu_measured, &cpu_info, &spec)?;
    let simulation = period
        .map(|p| simulate_measurement(&estimated, p))
        .transpose()?;
    Ok((estimated, simulation))
}

/// The fp32 weight bytes `model_properties` declares (`params` × 4), if any.
fn declared_weight_bytes(model: &MLModelImpl) -> Option<u64> {
    let props: Value = serde_json::from_str(&model.model_properties).ok()?;
    let params = props
        .get("params")?
        .as_f64()
        .filter(|p| p.is_finite() && *p > 0.0)?;
    Some((params * 4.0).round() as u64)
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
        "latency_ms_p90": m.latency_ms_p90,
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
