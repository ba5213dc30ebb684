//! Simulating a model fed at a fixed input period, as femtodriver's `simulate(inputs,
//! input_period)` does for a Femtosense SPU: each frame keeps the device active for one
//! inference and idle for the rest of the period, so
//!
//! energy per frame = active power × latency + idle power × (period − latency).
//!
//! The frames really run (through the model's stream) and their outputs come back; latency
//! and powers come from [`LoadedModel::profile`] (measured on "CPU", estimated elsewhere).

use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::error::{DeviceError, Result};
use crate::measure::Measurement;
use crate::model::TensorData;
use crate::stream::StreamOutput;
use crate::LoadedModel;

/// Frames [`simulate_period`] runs (deterministic inputs).
pub const SIMULATE_FRAMES: usize = 10;

/// A model's figures when it is fed one frame every input period (femtodriver's
/// simulation metrics).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimulationReport {
    /// The device's name.
    pub device: String,
    /// The file the model came from, or its label.
    pub model: String,
    /// Frames simulated.
    pub frames: usize,
    /// Time between two frames, milliseconds.
    pub input_period_ms: f64,
    /// Frames per second at that period.
    pub frames_per_s: f64,
    /// One inference, milliseconds (mean over the frames).
    pub latency_ms: f64,
    /// Power while the model runs, watts.
    pub active_power_w: f64,
    /// Power while the device waits for the next frame, watts.
    pub idle_power_w: f64,
    /// Mean power over a period, watts (energy per frame ÷ period).
    pub mean_power_w: f64,
    /// Energy of one period, joules: active plus idle energy.
    pub energy_j_per_frame: f64,
    /// Active power × latency, joules.
    pub active_energy_j_per_frame: f64,
    /// Idle power × (period − latency), joules.
    pub idle_energy_j_per_frame: f64,
    /// Fraction of the period the device is busy: latency ÷ period (0 < duty ≤ 1).
    pub duty_cycle: f64,
    /// True when latency and power are estimated from the device table.
    pub estimated: bool,
    /// How each figure was obtained.
    pub method: String,
}

/// What [`simulate`] returns: the report and each frame's outputs, in frame order.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// The figures.
    pub report: SimulationReport,
    /// The outputs of every frame, in the order the frames were given.
    pub outputs: Vec<Vec<TensorData>>,
}

/// Runs `frames` through `model` and reports its latency, powers and energy per frame
/// when a frame arrives every `input_period_ms` milliseconds.
///
/// Fails with [`DeviceError::PeriodNotPositive`] for a period that is 0, negative or not
/// a number, [`DeviceError::PeriodBelowLatency`] (naming both) when one inference takes
/// longer than the period, [`DeviceError::NoFrames`] for no frames, and the model's own
/// error for a frame it refuses.
pub fn simulate(
    model: &dyn LoadedModel,
    frames: &[Vec<TensorData>],
    input_period_ms: f64,
) -> Result<Simulation> {
    check_period(input_period_ms)?;
    if frames.is_empty() {
        return Err(DeviceError::NoFrames);
    }
    let measured = model.profile(frames.len())?;
    let mut report = simulate_measurement(&measured, input_period_ms)?;
    report.frames = frames.len();
    let outputs = run_frames(model, frames)?;
    Ok(Simulation { report, outputs })
}

/// [`simulate`] with [`SIMULATE_FRAMES`] deterministic frames ([`TensorData::pattern`]),
/// returning the report alone: what a node calls for a streaming problem.
pub fn simulate_period(model: &dyn LoadedModel, input_period_ms: f64) -> Result<SimulationReport> {
    let frame: Vec<TensorData> = model
        .facts()
        .inputs
        .iter()
        .map(|i| TensorData::pattern(&i.shape))
        .collect();
    let frames = vec![frame; SIMULATE_FRAMES];
    Ok(simulate(model, &frames, input_period_ms)?.report)
}

/// The report for a model already measured or estimated (a catalogue model known only by
/// its figures, say): pure arithmetic on `measured`, with the same errors as
/// [`simulate`] for the period.
pub fn simulate_measurement(
    measured: &Measurement,
    input_period_ms: f64,
) -> Result<SimulationReport> {
    check_period(input_period_ms)?;
    let latency_ms = measured.latency_ms_mean;
    // A NaN latency is refused too.
    if latency_ms.is_nan() || latency_ms > input_period_ms {
        return Err(DeviceError::PeriodBelowLatency {
            device: measured.device.clone(),
            origin: measured.model.clone(),
            period_ms: input_period_ms,
            latency_ms,
        });
    }
    let (active, idle) = (measured.power_w, measured.idle_power_w);
    let active_energy = active * latency_ms / 1e3;
    let idle_energy = idle * (input_period_ms - latency_ms) / 1e3;
    let energy = active_energy + idle_energy;
    let method = format!(
        "energy per frame: {active} W active × {latency_ms} ms latency + {idle} W idle × \
         ({input_period_ms} − {latency_ms}) ms; {}",
        measured.method
    );
    Ok(SimulationReport {
        device: measured.device.clone(),
        model: measured.model.clone(),
        frames: measured.runs,
        input_period_ms,
        frames_per_s: 1e3 / input_period_ms,
        latency_ms,
        active_power_w: active,
        idle_power_w: idle,
        mean_power_w: energy / (input_period_ms / 1e3),
        energy_j_per_frame: energy,
        active_energy_j_per_frame: active_energy,
        idle_energy_j_per_frame: idle_energy,
        duty_cycle: latency_ms / input_period_ms,
        estimated: measured.estimated,
        method,
    })
}

/// A period must be a positive, finite number of milliseconds.
fn check_period(period_ms: f64) -> Result<()> {
    if period_ms > 0.0 && period_ms.is_finite() {
        Ok(())
    } else {
        Err(DeviceError::PeriodNotPositive { period_ms })
    }
}

/// Every frame through the model's stream; the outputs in frame order, or the first
/// frame's error.
fn run_frames(model: &dyn LoadedModel, frames: &[Vec<TensorData>]) -> Result<Vec<Vec<TensorData>>> {
    let results: Arc<Mutex<Vec<StreamOutput>>> = Arc::default();
    let sink = Arc::clone(&results);
    let mut stream = model.stream(Box::new(move |out| {
        sink.lock().unwrap_or_else(|p| p.into_inner()).push(out);
    }))?;
    for frame in frames {
        stream.push(frame.clone())?;
    }
    stream.finish()?;
    let mut results = std::mem::take(&mut *results.lock().unwrap_or_else(|p| p.into_inner()));
    results.sort_by_key(|r| r.seq);
    results.into_iter().map(|r| r.outputs).collect()
}
