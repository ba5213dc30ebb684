//! Device runners of sustainml-rs: run an ONNX model on a device, or estimate it, and report
//! its latency, memory, power and energy.
//!
//! The HW_RESOURCES node answers "how does this model do on that hardware?" with a
//! [`Measurement`]; the ML_MODEL node describes candidate models with [`ModelFacts`].
//! The API follows the shape of accelerator SDKs (Femtosense femtodriver: compile a model for
//! a device, simulate it, read power and latency; MemryX: a synchronous run and an
//! asynchronous stream whose outputs come back through a callback):
//!
//! - [`device`] / [`require_device`] pick a [`Device`] by name ([`devices`] lists them);
//! - [`Device::load`] checks and prepares a model, refusing one that does not fit;
//! - [`LoadedModel::run`] runs one inference, [`LoadedModel::profile`] measures or
//!   estimates, and [`LoadedModel::stream`] feeds inputs asynchronously;
//! - [`simulate`] feeds frames at a fixed input period (femtodriver's `simulate`): energy
//!   per frame = active power × latency + idle power × (period − latency), in a
//!   [`SimulationReport`]; [`simulate_period`] is the one-call form for a node;
//! - [`SyncAccl`] (`send` / `receive` with timeouts, `run` over a batch, port
//!   assignments), [`AsyncAccl`] (`connect_input` / `connect_output` callbacks, `wait`,
//!   `stop`) and [`MultiStreamAsyncAccl`] (n streams, callbacks told the stream's index)
//!   follow MemryX's accelerator API; each runs a [`Pipeline`], a model with optional
//!   pre- and post-processing models chained around it.
//!
//! `"CPU"` really runs the model on this machine and measures it (energy from RAPL counters
//! when readable, else a TDP share times CPU time). Every other device is an estimate from
//! the device table shipped in `data/devices.json` (FLOPs ÷ (peak × efficiency)), while its
//! outputs are simulated on the host.
//!
//! Models run with [tract](https://github.com/sonos/tract): pure Rust, so no C toolchain or
//! vendor runtime is needed, and it loads ONNX files offline. Nothing here opens a socket or
//! downloads anything.
#![warn(missing_docs)]

mod async_accl;
mod cpu;
mod engine;
mod error;
mod estimate;
mod facts;
mod measure;
mod model;
mod pipeline;
mod power;
mod queue;
mod registry;
mod simulate;
mod stream;
mod sync_accl;

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use async_accl::{AsyncAccl, MultiStreamAsyncAccl, NextFrame};
pub use cpu::CpuDevice;
pub use error::{CallbackError, ChainEnd, DeviceError, Result};
pub use estimate::{
    estimate_figures, estimate_from_cpu, DeviceSpec, EstimatedDevice, ASSUMED_IDLE_FRACTION,
    CPU_ESTIMATE_EFFICIENCY,
};
pub use facts::{ModelFacts, TensorInfo};
pub use measure::Measurement;
pub use model::TensorData;
pub use pipeline::{Pipeline, Port};
pub use power::{core_power, CorePower};
pub use registry::{device, device_table, devices, require_device};
pub use simulate::{
    simulate, simulate_measurement, simulate_period, Simulation, SimulationReport, SIMULATE_FRAMES,
};
pub use stream::{OutputCallback, Stream, StreamOutput};
pub use sync_accl::SyncAccl;

/// What kind of hardware a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DeviceKind {
    /// A general-purpose processor.
    Cpu,
    /// A graphics processor.
    Gpu,
    /// A field-programmable gate array.
    Fpga,
    /// Processing in memory.
    Pim,
    /// A dedicated neural-network accelerator.
    Accelerator,
}

/// A device's headline figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceInfo {
    /// The device's name, as [`devices`] lists it.
    pub name: String,
    /// What kind of hardware it is.
    pub kind: DeviceKind,
    /// Peak operations per second (a multiply-add counts 2).
    pub peak_ops_per_s: f64,
    /// Power at full load, watts.
    pub watts: f64,
    /// Power while idle (between the frames of a stream), watts.
    pub idle_watts: f64,
    /// Where the idle figure comes from ("assumed" where no published figure exists).
    pub idle_source: String,
    /// Memory available to a model, bytes.
    pub memory_bytes: u64,
    /// True when the device is present and models really run on it.
    pub present: bool,
    /// Where the figures come from.
    pub source: String,
}

/// A device a model can be loaded onto.
pub trait Device: Send + Sync + fmt::Debug {
    /// The device's name, as [`devices`] lists it.
    fn name(&self) -> &str;

    /// The device's headline figures.
    fn describe(&self) -> DeviceInfo;

    /// Checks and prepares a model held in memory; `origin` names it in errors and reports.
    fn load_bytes(&self, origin: &str, bytes: &[u8]) -> Result<Box<dyn LoadedModel>>;

    /// Reads, checks and prepares an ONNX file.
    fn load(&self, path: &Path) -> Result<Box<dyn LoadedModel>> {
        let bytes = model::read_file(path)?;
        self.load_bytes(&path.display().to_string(), &bytes)
    }
}

/// A model prepared for one device. It can be shared between threads (the accelerators
/// run it on a worker while the caller reads its facts).
pub trait LoadedModel: Send + Sync + fmt::Debug {
    /// Facts about the model (parameters, FLOPs, shapes, operators).
    fn facts(&self) -> &ModelFacts;

    /// Runs one inference and returns the outputs (on the host for estimated devices).
    fn run(&self, inputs: &[TensorData]) -> Result<Vec<TensorData>>;

    /// Measures (or estimates) latency, memory, power and energy over `runs` inferences of
    /// deterministic inputs ([`TensorData::pattern`]).
    fn profile(&self, runs: usize) -> Result<Measurement>;

    /// Starts an asynchronous stream: inputs pushed into the returned [`Stream`] are run in
    /// order on a worker thread and each result is handed to `on_output`.
    fn stream(&self, on_output: OutputCallback) -> Result<Stream>;
}
