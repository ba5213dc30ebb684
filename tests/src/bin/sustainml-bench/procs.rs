//! The processes a row starts: pinned with taskset, on their own domain, stopped by
//! pid when the row is done.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use sustainml_tests::delivery::{alive, signal};

/// Where the programs are and which CPUs each side runs on.
#[derive(Debug, Clone)]
pub struct Env {
    /// target/release (our binaries).
    pub bin: PathBuf,
    /// The Fast DDS 2.9 peer (tests/fastdds).
    pub fastdds: PathBuf,
    /// Cyclone's ddsperf (Debian cyclonedds-tools).
    pub ddsperf: PathBuf,
    /// CPUs of the serving side: pong, the nodes, the graph.
    pub server_cpus: String,
    /// CPUs of the measuring side: ping, the driver's requests.
    pub client_cpus: String,
    /// Scratch directory of this run.
    pub scratch: PathBuf,
}

impl Env {
    /// One of our release binaries.
    pub fn ours(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// `program args…` pinned to `cpus`, on `domain`.
    pub fn command(&self, cpus: &str, domain: u16, program: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new("taskset");
        cmd.arg("-c")
            .arg(cpus)
            .arg(program)
            .args(args)
            .env("SUSTAINML_DOMAIN_ID", domain.to_string())
            .env("RUST_LOG", "error")
            .stdin(Stdio::null());
        cmd
    }
}

/// A process running beside a measurement: SIGTERM by pid when dropped, then SIGKILL
/// if it is still there after two seconds.
#[derive(Debug)]
pub struct Background {
    name: String,
    child: Child,
}

impl Background {
    /// Starts `cmd`; its output is discarded.
    pub fn start(name: &str, mut cmd: Command) -> Result<Self> {
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {name}"))?;
        Ok(Self {
            name: name.to_owned(),
            child,
        })
    }

    /// The process id (taskset execs the program, so it is the program's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `timeout` for the process to end by itself.
    pub fn wait(mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("{} ended with {status}", self.name);
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("{} still running after {timeout:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            signal(self.pid(), "TERM");
            let deadline = Instant::now() + Duration::from_secs(2);
            while alive(self.pid()) && Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Runs `cmd` to its end (at most `timeout`) and returns its stdout; fails with its
/// stderr when it fails.
pub fn output(name: &str, mut cmd: Command, timeout: Duration) -> Result<String> {
    let out_path = std::env::temp_dir().join(format!(
        "sustainml-bench-{}-{}.out",
        std::process::id(),
        name.replace(' ', "_")
    ));
    let err_path = out_path.with_extension("err");
    let child = cmd
        .stdout(std::fs::File::create(&out_path)?)
        .stderr(std::fs::File::create(&err_path)?)
        .spawn()
        .with_context(|| format!("start {name}"))?;
    let result = Background {
        name: name.to_owned(),
        child,
    }
    .wait(timeout);
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&err_path);
    if let Err(e) = result {
        let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
        bail!(
            "{e}; its last stderr lines:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(stdout)
}

/// The number after `key=` in the last line of `text` that has it.
pub fn field(text: &str, key: &str) -> Result<f64> {
    let prefix = format!("{key}=");
    text.lines()
        .rev()
        .find_map(|line| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(&prefix))
                .and_then(|v| v.parse().ok())
        })
        .with_context(|| format!("no {key}= in the output:\n{text}"))
}

/// Resident memory (kB) and CPU time (clock ticks, user + system) of `pid`.
pub fn usage(pid: u32) -> Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("process {pid} is gone"))?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(") ").context("malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<u64> {
        fields
            .get(i - 3)
            .and_then(|v| v.parse().ok())
            .context("malformed stat")
    };
    Ok((rss, ticks(14)? + ticks(15)?))
}

/// Percentile `p` (0..=1) of sorted `values`.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The median of `values`.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    percentile(&values, 0.5)
}

/// Clock ticks per second (getconf CLK_TCK).
pub fn clock_ticks() -> Result<f64> {
    let out = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .context("getconf CLK_TCK")?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .context("getconf CLK_TCK printed no number")
}
