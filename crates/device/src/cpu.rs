//! The CPU runner: runs the model on this machine with tract and measures it.

use std::sync::OnceLock;
use std::time::Instant;

use crate::error::{DeviceError, Result};
use crate::facts::ModelFacts;
use crate::measure::{latency_stats_ms, Measurement};
use crate::model::{OnnxModel, TensorData};
use crate::power::{self, Rapl};
use crate::stream::{OutputCallback, Stream};
use crate::{Device, DeviceInfo, DeviceKind, LoadedModel};

/// Inferences run before timing starts (first-run allocations, caches).
const WARM_UP: usize = 2;
/// Single-precision operations per core per cycle assumed for the peak figure (AVX2: two
/// 8-lane fused multiply-add units).
const FLOPS_PER_CYCLE: f64 = 32.0;

/// This machine's CPU: models really run here, on the calling thread.
#[derive(Debug, Clone, Default)]
pub struct CpuDevice;

impl CpuDevice {
    /// The CPU device.
    pub fn new() -> CpuDevice {
        CpuDevice
    }
}

impl Device for CpuDevice {
    fn name(&self) -> &str {
        "CPU"
    }

    /// This machine as read at the first call in this process (/proc/cpuinfo,
    /// /proc/meminfo, the CPUs this process may use): it does not change under a
    /// running node, and reading it again for every task cost a node about a tenth
    /// of its CPU time per task.
    fn describe(&self) -> DeviceInfo {
        static HOST: OnceLock<DeviceInfo> = OnceLock::new();
        HOST.get_or_init(read_host).clone()
    }

    fn load_bytes(&self, origin: &str, bytes: &[u8]) -> Result<Box<dyn LoadedModel>> {
        Ok(Box::new(CpuModel {
            model: OnnxModel::load(origin, bytes)?,
        }))
    }
}

/// Reads what [`CpuDevice::describe`] reports.
fn read_host() -> DeviceInfo {
    let (cpus, memory_bytes) = power::host_resources();
    let model_name = power::cpu_model_name();
    let mhz = cpu_mhz().unwrap_or(2000.0);
    let (watts, power_source, idle_watts, idle_source) = match power::core_power(&model_name) {
        Ok(p) => (
            p.watts_per_core * cpus as f64,
            p.source,
            p.idle_watts_per_core * cpus as f64,
            p.idle_source,
        ),
        Err(e) => (0.0, e.to_string(), 0.0, e.to_string()),
    };
    DeviceInfo {
            name: "CPU".into(),
            kind: DeviceKind::Cpu,
            peak_ops_per_s: cpus as f64 * mhz * 1e6 * FLOPS_PER_CYCLE,
            watts,
            idle_watts,
            idle_source,
            memory_bytes,
            present: true,
            source: format!(
                "this machine: {model_name}, {cpus} logical CPUs at {mhz:.0} MHz (/proc/cpuinfo), \
                 {FLOPS_PER_CYCLE} FLOPs per cycle assumed; memory from /proc/meminfo; watts: {power_source}"
            ),
        }
}

fn cpu_mhz() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu MHz"))?;
    line.split_once(':')?.1.trim().parse().ok()
}

/// A model loaded on the CPU.
#[derive(Debug)]
struct CpuModel {
    model: OnnxModel,
}

impl LoadedModel for CpuModel {
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
        let inputs = self.model.sample_inputs();
        for _ in 0..WARM_UP {
            self.model.run(&inputs)?;
        }
        let rapl = Rapl::open();
        let rapl_before = rapl.as_ref().and_then(Rapl::read);
        let cpu_before = power::thread_cpu_seconds();
        let start = Instant::now();
        let mut latencies = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            self.model.run(&inputs)?;
            latencies.push(t.elapsed().as_secs_f64());
        }
        let wall = start.elapsed().as_secs_f64().max(f64::MIN_POSITIVE);
        let cpu_after = power::thread_cpu_seconds();
        let rapl_joules = match (&rapl, rapl_before, rapl.as_ref().and_then(Rapl::read)) {
            (Some(r), Some(before), Some(after)) => Some(r.joules(&before, &after)),
            _ => None,
        };

        let (p50, p90, mean) = latency_stats_ms(&latencies);
        let mut method = vec![format!(
            "latency: wall clock of {runs} runs on this thread after {WARM_UP} warm-up runs (tract)"
        )];
        method.push("memory: weights + peak activations from the graph".into());
        let model_name = power::cpu_model_name();
        let core = power::core_power(&model_name)?;
        let (power_w, energy, idle_power_w) = match rapl_joules {
            Some(j) if j > 0.0 => {
                let power_w = j / wall;
                let cpus = power::host_resources().0 as f64;
                let idle = (core.idle_watts_per_core * cpus).min(power_w);
                method.push(
                    "power, energy: rapl package counters over the runs (whole package: includes idle and other processes)"
                        .into(),
                );
                method.push(format!(
                    "idle power: the package's {cpus} CPUs idle, at most the measured power ({})",
                    core.idle_source
                ));
                (power_w, j / runs as f64, idle)
            }
            _ => {
                let (utilisation, how) = match (cpu_before, cpu_after) {
                    (Some(b), Some(a)) => {
                        (((a - b) / wall).clamp(0.0, 1.0), "the thread CPU clock")
                    }
                    _ => (1.0, "assumed 1, thread CPU time unreadable"),
                };
                let power_w = core.watts_per_core * utilisation;
                method.push(format!(
                    "power, energy: tdp×utilisation, rapl {} ({model_name}: {:.2} W per core, {}; utilisation {utilisation:.2} of one core from {how})",
                    if rapl.is_some() { "read zero" } else { "not readable" },
                    core.watts_per_core,
                    core.source
                ));
                method.push(format!(
                    "idle power: one idle core, {:.2} W ({})",
                    core.idle_watts_per_core, core.idle_source
                ));
                let idle = core.idle_watts_per_core.min(power_w);
                (power_w, power_w * wall / runs as f64, idle)
            }
        };
        Ok(Measurement {
            device: "CPU".into(),
            model: self.model.facts.origin.clone(),
            runs,
            latency_ms_p50: p50,
            latency_ms_p90: p90,
            latency_ms_mean: mean,
            memory_bytes: self.model.facts.memory_bytes(),
            power_w,
            idle_power_w,
            energy_j_per_inference: energy,
            estimated: false,
            method: method.join("; "),
        })
    }

    fn stream(&self, on_output: OutputCallback) -> Result<Stream> {
        Stream::start(&self.model.facts.origin, self.model.runner(), on_output)
    }
}
