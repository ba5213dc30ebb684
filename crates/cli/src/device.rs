//! `sustainml device profile MODEL.onnx [--device D] [--runs N] [--input-period MS]
//! [--json]` and `sustainml device list [--json]`: the device runners of
//! `sustainml-device` from the command line. Nothing here opens a DDS participant.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use sustainml_device::{DeviceError, DeviceInfo, Measurement, ModelFacts, SimulationReport};

use crate::UsageError;

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Load an ONNX model on a device and print its facts and its measurement (CPU
    /// runs it here) or estimate (every other device); with --input-period, also the
    /// energy per frame when a frame arrives every MS milliseconds.
    Profile {
        /// The ONNX file.
        model: PathBuf,
        /// The device (see `sustainml device list`).
        #[arg(long, default_value = "CPU")]
        device: String,
        /// Timed inferences.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Milliseconds between frames of a stream: adds active and idle energy per
        /// frame, mean power and duty cycle.
        #[arg(long, value_name = "MS")]
        input_period: Option<f64>,
        /// Print {facts, measurement, simulation} as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List the devices: kind, peak operations per second, watts at full load and idle,
    /// memory, whether it is here, and where the figures come from.
    List {
        /// One JSON object per device and line.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: DeviceCommand) -> Result<ExitCode> {
    match command {
        DeviceCommand::Profile {
            model,
            device,
            runs,
            input_period,
            json,
        } => profile(&model, &device, runs, input_period, json).map_err(classify)?,
        DeviceCommand::List { json } => list(json)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Bad input (a model, device, run count or period that cannot be used) is exit 2; a
/// failure while running is exit 1.
fn classify(e: DeviceError) -> anyhow::Error {
    match e {
        DeviceError::Run { .. } | DeviceError::Table { .. } | DeviceError::StreamClosed { .. } => {
            e.into()
        }
        other => UsageError(other.to_string()).into(),
    }
}

fn profile(
    path: &std::path::Path,
    device: &str,
    runs: usize,
    input_period: Option<f64>,
    json: bool,
) -> Result<(), DeviceError> {
    if runs == 0 {
        return Err(DeviceError::NoRuns);
    }
    let device = sustainml_device::require_device(device)?;
    let loaded = device.load(path)?;
    let measured = loaded.profile(runs)?;
    let simulation = input_period
        .map(|ms| sustainml_device::simulate_measurement(&measured, ms))
        .transpose()?;
    if json {
        let report = json!({
            "facts": loaded.facts(),
            "measurement": measured,
            "simulation": simulation,
        });
        println!("{report}");
    } else {
        print_rows(&profile_rows(
            loaded.facts(),
            &measured,
            simulation.as_ref(),
        ));
    }
    Ok(())
}

fn profile_rows(
    facts: &ModelFacts,
    m: &Measurement,
    sim: Option<&SimulationReport>,
) -> Vec<(String, String)> {
    let tensors = |ts: &[sustainml_device::TensorInfo]| {
        ts.iter()
            .map(|t| format!("{} {:?} {}", t.name, t.shape, t.element_type))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let how = if m.estimated { "estimated" } else { "measured" };
    let mut rows = vec![
        ("model", m.model.clone()),
        ("device", format!("{} ({how})", m.device)),
        ("parameters", facts.parameters.to_string()),
        ("flops", facts.flops.to_string()),
        ("inputs", tensors(&facts.inputs)),
        ("outputs", tensors(&facts.outputs)),
        (
            "latency",
            format!(
                "{:.4} ms p50, {:.4} ms mean, {} runs",
                m.latency_ms_p50, m.latency_ms_mean, m.runs
            ),
        ),
        ("memory", format!("{} bytes", m.memory_bytes)),
        (
            "power",
            format!("{:.4} W active, {:.4} W idle", m.power_w, m.idle_power_w),
        ),
        (
            "energy",
            format!("{:.4e} J per inference", m.energy_j_per_inference),
        ),
    ];
    if let Some(s) = sim {
        rows.extend([
            (
                "period",
                format!(
                    "{} ms ({:.2} frames/s), duty cycle {:.4}",
                    s.input_period_ms, s.frames_per_s, s.duty_cycle
                ),
            ),
            ("mean power", format!("{:.4e} W", s.mean_power_w)),
            (
                "frame energy",
                format!(
                    "{:.4e} J ({:.4e} J active + {:.4e} J idle)",
                    s.energy_j_per_frame, s.active_energy_j_per_frame, s.idle_energy_j_per_frame
                ),
            ),
        ]);
    }
    rows.push(("method", m.method.clone()));
    rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn print_rows(rows: &[(String, String)]) {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in rows {
        println!("{key:width$}  {value}");
    }
}

fn list(json: bool) -> Result<()> {
    let infos: Vec<DeviceInfo> = sustainml_device::devices()
        .iter()
        .filter_map(|name| sustainml_device::device(name))
        .map(|d| d.describe())
        .collect();
    if json {
        for info in &infos {
            println!("{}", serde_json::to_string(info)?);
        }
        return Ok(());
    }
    let mut table = vec![[
        "NAME",
        "KIND",
        "PEAK OPS/S",
        "WATTS",
        "IDLE W",
        "MEMORY",
        "PRESENT",
        "SOURCE",
    ]
    .map(String::from)];
    for d in &infos {
        let kind = serde_json::to_value(d.kind)?
            .as_str()
            .unwrap_or("?")
            .to_string();
        table.push([
            d.name.clone(),
            kind,
            format!("{:.3e}", d.peak_ops_per_s),
            format!("{}", d.watts),
            format!("{:.4}", d.idle_watts),
            memory(d.memory_bytes),
            if d.present { "yes" } else { "no" }.into(),
            d.source.clone(),
        ]);
    }
    let mut widths = [0usize; 8];
    for row in &table {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in &table {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:w$}  "));
            }
        }
        println!("{line}");
    }
    Ok(())
}

/// Bytes in the largest binary unit that keeps a number of at least 1.
fn memory(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
