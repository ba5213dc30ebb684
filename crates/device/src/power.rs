//! Where the CPU runner's energy figures come from: Linux RAPL counters when they can be
//! read, else a per-core share of the CPU's TDP times the CPU time the runs took.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::error::{DeviceError, Result};

const POWERCAP: &str = "/sys/class/powercap";

/// The package-level RAPL domains (`intel-rapl:N`, not their `:N:M` sub-domains).
#[derive(Debug)]
pub(crate) struct Rapl {
    /// `energy_uj` file and the counter's wrap-around range, per package.
    domains: Vec<(PathBuf, u64)>,
}

impl Rapl {
    /// The readable package domains, or `None` when there are none.
    pub(crate) fn open() -> Option<Rapl> {
        let mut domains = Vec::new();
        for entry in std::fs::read_dir(POWERCAP).ok()?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_package = name
                .strip_prefix("intel-rapl:")
                .is_some_and(|n| !n.contains(':'));
            if !is_package {
                continue;
            }
            let energy = entry.path().join("energy_uj");
            let range = read_u64(&entry.path().join("max_energy_range_uj")).unwrap_or(u64::MAX);
            if read_u64(&energy).is_some() {
                domains.push((energy, range));
            }
        }
        (!domains.is_empty()).then_some(Rapl { domains })
    }

    /// Current counters, microjoules, one per package.
    pub(crate) fn read(&self) -> Option<Vec<u64>> {
        self.domains
            .iter()
            .map(|(path, _)| read_u64(path))
            .collect()
    }

    /// Joules between two readings, allowing each counter one wrap-around.
    pub(crate) fn joules(&self, before: &[u64], after: &[u64]) -> f64 {
        let micro: u64 = self
            .domains
            .iter()
            .zip(before.iter().zip(after))
            .map(|((_, range), (&b, &a))| if a >= b { a - b } else { range - b + a })
            .sum();
        micro as f64 / 1e6
    }
}

fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// CPU time of the calling thread, in seconds: `CLOCK_THREAD_CPUTIME_ID` (nanoseconds),
/// else `/proc/thread-self/stat` (utime + stime at 100 ticks per second).
pub(crate) fn thread_cpu_seconds() -> Option<f64> {
    if let Ok(t) = cpu_time::ThreadTime::try_now() {
        return Some(t.as_duration().as_secs_f64());
    }
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// The first `model name` in `/proc/cpuinfo`, or "unknown CPU".
pub(crate) fn cpu_model_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string())
}

/// Watts charged for one busy core of this CPU, and where that figure comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct CorePower {
    /// Watts per fully busy core.
    pub watts_per_core: f64,
    /// The table row's source, or the documented default.
    pub source: String,
    /// Watts charged for one idle core (between frames of a stream).
    pub idle_watts_per_core: f64,
    /// Where the idle figure comes from.
    pub idle_source: String,
}

#[derive(Debug, Deserialize)]
struct CpuTable {
    default_watts_per_core: f64,
    default_source: String,
    idle_fraction_of_tdp: f64,
    idle_source: String,
    cpus: Vec<CpuRow>,
}

#[derive(Debug, Deserialize)]
struct CpuRow {
    #[serde(rename = "match")]
    pattern: String,
    tdp_w: f64,
    cores: u32,
    source: String,
}

fn cpu_table() -> Result<&'static CpuTable> {
    static TABLE: OnceLock<std::result::Result<CpuTable, String>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            serde_json::from_str(include_str!("../data/cpus.json")).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|cause| DeviceError::Table {
            table: "data/cpus.json",
            cause: cause.clone(),
        })
}

/// Power of one busy core of the CPU named `model_name` (as `/proc/cpuinfo` spells it).
pub fn core_power(model_name: &str) -> Result<CorePower> {
    let table = cpu_table()?;
    Ok(
        match table
            .cpus
            .iter()
            .find(|row| model_name.contains(&row.pattern))
        {
            Some(row) => {
                let watts_per_core = row.tdp_w / f64::from(row.cores.max(1));
                CorePower {
                    watts_per_core,
                    source: row.source.clone(),
                    idle_watts_per_core: watts_per_core * table.idle_fraction_of_tdp,
                    idle_source: table.idle_source.clone(),
                }
            }
            None => CorePower {
                watts_per_core: table.default_watts_per_core,
                source: table.default_source.clone(),
                idle_watts_per_core: table.default_watts_per_core * table.idle_fraction_of_tdp,
                idle_source: table.idle_source.clone(),
            },
        },
    )
}

/// Logical CPUs of this machine, and its memory in bytes (`/proc/meminfo` MemTotal).
pub(crate) fn host_resources() -> (usize, u64) {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib * 1024);
    (cpus, memory)
}
