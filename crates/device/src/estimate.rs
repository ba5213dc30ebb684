//! Devices that are not here: figures estimated from a device table and the model's FLOPs;
//! outputs simulated on the host (as femtodriver simulates a Femtosense SPU).

use serde::{Deserialize, Serialize};

use crate::error::{DeviceError, Result};
use crate::facts::ModelFacts;
use crate::measure::Measurement;
use crate::model::{OnnxModel, TensorData};
use crate::stream::{OutputCallback, Stream};
use crate::{Device, DeviceInfo, DeviceKind, LoadedModel};

/// One row of the device table (`data/devices.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceSpec {
    /// The device's name.
    pub name: String,
    /// What kind of hardware it is.
    pub kind: DeviceKind,
    /// Peak operations per second (a multiply-add counts 2).
    pub peak_ops_per_s: f64,
    /// Power at full load, watts.
    pub watts: f64,
    /// Memory for the model's weights and activations, bytes.
    pub memory_bytes: u64,
    /// Fraction of the peak a model reaches (0 < efficiency ≤ 1).
    pub efficiency: f64,
    /// Where the figures come from ("assumed" where not from a public datasheet).
    pub source: String,
    /// Power while idle between frames, watts; `None`: [`ASSUMED_IDLE_FRACTION`] of
    /// `watts` is assumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_watts: Option<f64>,
    /// Where `idle_watts` comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_source: Option<String>,
}

/// Fraction of a device's full-load power assumed for its idle power when its table row
/// states no idle figure (none of the shipped rows has a published one).
pub const ASSUMED_IDLE_FRACTION: f64 = 0.1;

impl DeviceSpec {
    /// Idle power in watts and where it comes from: the row's `idle_watts`, else
    /// [`ASSUMED_IDLE_FRACTION`] of its `watts` (the source then says "assumed").
    pub fn idle_power(&self) -> (f64, String) {
        match self.idle_watts {
            Some(w) => (
                w,
                self.idle_source
                    .clone()
                    .unwrap_or_else(|| "device table idle_watts".into()),
            ),
            None => (
                self.watts * ASSUMED_IDLE_FRACTION,
                format!(
                    "assumed: {ASSUMED_IDLE_FRACTION} × the table's watts (the row states no idle figure)"
                ),
            ),
        }
    }
}

/// A device known only by its [`DeviceSpec`]: latency = FLOPs ÷ (peak × efficiency),
/// power = the table's watts, energy = power × latency.
#[derive(Debug, Clone)]
pub struct EstimatedDevice {
    spec: DeviceSpec,
}

impl EstimatedDevice {
    /// A device described by `spec` (a table row, or one of your own).
    pub fn new(spec: DeviceSpec) -> EstimatedDevice {
        EstimatedDevice { spec }
    }

    /// The figures this device is estimated from.
    pub fn spec(&self) -> &DeviceSpec {
        &self.spec
    }
}

impl Device for EstimatedDevice {
    fn name(&self) -> &str {
        &self.spec.name
    }

    fn describe(&self) -> DeviceInfo {
        let (idle_watts, idle_source) = self.spec.idle_power();
        DeviceInfo {
            name: self.spec.name.clone(),
            kind: self.spec.kind,
            peak_ops_per_s: self.spec.peak_ops_per_s,
            watts: self.spec.watts,
            idle_watts,
            idle_source,
            memory_bytes: self.spec.memory_bytes,
            present: false,
            source: self.spec.source.clone(),
        }
    }

    /// Loads the model and refuses it with [`DeviceError::DoesNotFit`] when its weights and
    /// peak activations exceed the device's memory.
    fn load_bytes(&self, origin: &str, bytes: &[u8]) -> Result<Box<dyn LoadedModel>> {
        let model = OnnxModel::load(origin, bytes)?;
        let needed = model.facts.memory_bytes();
        if needed > self.spec.memory_bytes {
            return Err(DeviceError::DoesNotFit {
                device: self.spec.name.clone(),
                origin: origin.to_string(),
                needed,
                available: self.spec.memory_bytes,
            });
        }
        Ok(Box::new(EstimatedModel {
            spec: self.spec.clone(),
            model,
        }))
    }
}

/// A model loaded on an estimated device.
#[derive(Debug)]
struct EstimatedModel {
    spec: DeviceSpec,
    model: OnnxModel,
}

impl LoadedModel for EstimatedModel {
    fn facts(&self) -> &ModelFacts {
        &self.model.facts
    }

    fn run(&self, inputs: &[TensorData]) -> Result<Vec<TensorData>> {
        self.model.run(inputs)
    }

    fn profile(&self, runs: usize) -> Result<Measurement> {
        if runs == 0 {
            return Err(DeviceError::NoRuns);
        }
        let facts = &self.model.facts;
        Ok(measurement(
            &self.spec,
            &facts.origin,
            facts.flops,
            facts.memory_bytes(),
            runs,
            "memory: weights + peak activations from the graph",
        ))
    }

    fn stream(&self, on_output: OutputCallback) -> Result<Stream> {
        Stream::start(&self.model.facts.origin, self.model.runner(), on_output)
    }
}

/// The estimate of a model of `flops` and `memory_bytes` on `spec`.
fn measurement(
    spec: &DeviceSpec,
    origin: &str,
    flops: u64,
    memory_bytes: u64,
    runs: usize,
    memory_method: &str,
) -> Measurement {
    let rate = spec.peak_ops_per_s * spec.efficiency;
    let latency_s = if rate > 0.0 {
        flops as f64 / rate
    } else {
        f64::INFINITY
    };
    let (idle_power_w, idle_source) = spec.idle_power();
    let method = format!(
        "latency: {flops} FLOPs / ({:e} ops/s peak × {} efficiency) from the device table; \
         {memory_method}; power: device table watts; energy: power × latency; \
         idle power: {idle_source}; source: {}",
        spec.peak_ops_per_s, spec.efficiency, spec.source
    );
    Measurement {
        device: spec.name.clone(),
        model: origin.to_string(),
        runs,
        latency_ms_p50: latency_s * 1e3,
        latency_ms_p90: latency_s * 1e3,
        latency_ms_mean: latency_s * 1e3,
        memory_bytes,
        power_w: spec.watts,
        idle_power_w,
        energy_j_per_inference: spec.watts * latency_s,
        estimated: true,
        method,
    }
}

/// Estimates a graph on `target` from its measurement on this CPU: the device is
/// assumed to reach the same fraction of its peak on the graph as the CPU did, so
/// latency = CPU latency × (CPU peak ÷ device peak); power is the table's watts,
/// energy = power × latency, memory the graph's. The method says so, and keeps the
/// CPU measurement's own clauses. Fails with [`DeviceError::DoesNotFit`] when the graph
/// needs more memory than the device has.
pub fn estimate_from_cpu(
    cpu: &Measurement,
    cpu_info: &DeviceInfo,
    target: &DeviceSpec,
) -> Result<Measurement> {
    if cpu.memory_bytes > target.memory_bytes {
        return Err(DeviceError::DoesNotFit {
            device: target.name.clone(),
            origin: cpu.model.clone(),
            needed: cpu.memory_bytes,
            available: target.memory_bytes,
        });
    }
    let ratio = if target.peak_ops_per_s > 0.0 {
        cpu_info.peak_ops_per_s / target.peak_ops_per_s
    } else {
        f64::INFINITY
    };
    let (idle_power_w, idle_source) = target.idle_power();
    let latency_ms_p50 = cpu.latency_ms_p50 * ratio;
    let method = format!(
        "latency: estimated from a CPU measurement × {ratio:.4} (this CPU's peak {:e} ops/s \
         ÷ {}'s peak {:e} ops/s from the device table; the device assumed to reach the \
         same fraction of its peak as the CPU did); power: device table watts; energy: \
         power × latency; idle power: {idle_source}; source: {}; the CPU measurement: {}",
        cpu_info.peak_ops_per_s, target.name, target.peak_ops_per_s, target.source, cpu.method
    );
    Ok(Measurement {
        device: target.name.clone(),
        model: cpu.model.clone(),
        runs: cpu.runs,
        latency_ms_p50,
        latency_ms_p90: cpu.latency_ms_p90 * ratio,
        latency_ms_mean: cpu.latency_ms_mean * ratio,
        memory_bytes: cpu.memory_bytes,
        power_w: target.watts,
        idle_power_w,
        energy_j_per_inference: target.watts * latency_ms_p50 / 1e3,
        estimated: true,
        method,
    })
}

/// Fraction of the CPU's peak assumed when a model without a graph is estimated on it.
pub const CPU_ESTIMATE_EFFICIENCY: f64 = 0.1;

/// Estimates a model known only by its figures (no ONNX graph: a catalogue entry) on
/// device `name`: `flops` per inference and `memory_bytes` for weights and activations.
/// On "CPU" the host's figures stand in for a table row, with
/// [`CPU_ESTIMATE_EFFICIENCY`] assumed. Fails with [`DeviceError::UnknownDevice`] or,
/// when the model does not fit, [`DeviceError::DoesNotFit`].
pub fn estimate_figures(
    name: &str,
    origin: &str,
    flops: u64,
    memory_bytes: u64,
) -> Result<Measurement> {
    let device = crate::require_device(name)?;
    let info = device.describe();
    let spec = match crate::device_table()?.iter().find(|d| d.name == info.name) {
        Some(spec) => spec.clone(),
        None => DeviceSpec {
            name: info.name.clone(),
            kind: info.kind,
            peak_ops_per_s: info.peak_ops_per_s,
            watts: info.watts,
            memory_bytes: info.memory_bytes,
            efficiency: CPU_ESTIMATE_EFFICIENCY,
            source: format!("{}; efficiency assumed", info.source),
            idle_watts: Some(info.idle_watts),
            idle_source: Some(info.idle_source.clone()),
        },
    };
    if memory_bytes > spec.memory_bytes {
        return Err(DeviceError::DoesNotFit {
            device: spec.name.clone(),
            origin: origin.to_string(),
            needed: memory_bytes,
            available: spec.memory_bytes,
        });
    }
    Ok(measurement(
        &spec,
        origin,
        flops,
        memory_bytes,
        1,
        "memory: as given (fp32 weights; activations not included)",
    ))
}
