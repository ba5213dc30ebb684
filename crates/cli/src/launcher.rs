//! Runs the nodes of a launch file as child processes: output prefixed with the node's
//! name, restarts with exponential backoff, and a graceful stop on Ctrl-C or SIGTERM
//! (SIGTERM to every child, then SIGKILL after the grace period or a second Ctrl-C).
//! With peers, a discovery relay per domain runs beside the nodes for as long as the
//! launcher does (see `sustainml_dds::relay`).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use sustainml_dds::relay::RelayStats;
use sustainml_dds::DiscoveryRelay;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::launch_file::{NodeSpec, Restart};

/// First restart delay; doubles after every restart, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest restart delay.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Discovery relays running in this process; they stop when this is dropped.
#[derive(Debug, Default)]
pub struct Relays {
    running: Vec<(u16, std::sync::Arc<RelayStats>, JoinHandle<()>)>,
}

impl Relays {
    /// Binds and starts one relay per domain in `domains`, relaying to `peers`. Call
    /// inside the runtime, before the nodes start (the relay holds the port of
    /// participant id 11).
    pub fn start(domains: &[u16], peers: &[Ipv4Addr]) -> Result<Self> {
        let mut relays = Self::default();
        if peers.is_empty() {
            return Ok(relays);
        }
        let list = peers
            .iter()
            .map(Ipv4Addr::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        for &domain in domains {
            let relay = DiscoveryRelay::bind(domain, peers)?;
            let held = relay.held_multicast_ports();
            let unicast = if held.len() == 2 {
                "; multicast ports held: this machine's participants use unicast only"
            } else {
                "; WARNING: multicast ports in use, participants may advertise multicast"
            };
            eprintln!(
                "[discovery-relay] domain {domain}: relaying discovery with {list} on UDP port {}{unicast}",
                relay.port()
            );
            let stats = relay.stats();
            let task = tokio::spawn(async move {
                if let Err(e) = relay.run().await {
                    eprintln!("[discovery-relay] domain {domain}: stopped: {e}");
                }
            });
            relays.running.push((domain, stats, task));
        }
        Ok(relays)
    }

    /// Prints each relay's counters.
    pub fn report(&self) {
        for (domain, stats, _) in &self.running {
            eprintln!("[discovery-relay] domain {domain}: {stats}");
        }
    }
}

impl Drop for Relays {
    fn drop(&mut self) {
        for (_, _, task) in &self.running {
            task.abort();
        }
    }
}

/// The DDS domains of `nodes`: a node's `SUSTAINML_DOMAIN_ID` from the launch file,
/// else this process's (default 0). A bad value is an error naming the node.
pub fn domains_of(nodes: &[NodeSpec]) -> Result<Vec<u16>> {
    let mut domains = Vec::new();
    for node in nodes {
        let own = node
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == sustainml_dds::DOMAIN_ENV);
        let domain = match own {
            Some((_, v)) => sustainml_dds::parse_domain_id(v)
                .with_context(|| format!("node `{}` (line {})", node.name, node.line))?,
            None => sustainml_dds::domain_id_from_env()?,
        };
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    Ok(domains)
}

/// Starts `nodes` (binaries in `bin_dir`) and supervises them until they all end or
/// a signal stops them. Returns whether every node ended well (a stop by signal is
/// a good end).
pub async fn run(nodes: Vec<NodeSpec>, bin_dir: &Path, grace: Duration) -> Result<bool> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (kill_tx, kill_rx) = watch::channel(false);
    let mut sigint = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut sigterm = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let count = nodes.len();
    tokio::spawn(async move {
        tokio::select! {
            _ = sigint.recv() => {}
            _ = sigterm.recv() => {}
        }
        eprintln!("sustainml launch: stopping {count} node(s) (Ctrl-C again to kill them at once)");
        let _ = stop_tx.send(true);
        tokio::select! {
            _ = sigint.recv() => {}
            _ = sigterm.recv() => {}
        }
        eprintln!("sustainml launch: killing every node");
        let _ = kill_tx.send(true);
        // Keep the senders alive until the process ends.
        std::future::pending::<()>().await;
    });
    let mut tasks = Vec::new();
    for spec in nodes {
        let bin = spec.binary(bin_dir);
        let (stop, killed) = (stop_rx.clone(), kill_rx.clone());
        tasks.push(tokio::spawn(supervise(spec, bin, stop, killed, grace)));
    }
    let mut all_ok = true;
    for t in tasks {
        all_ok &= t.await.unwrap_or(false);
    }
    Ok(all_ok || *stop_rx.borrow())
}

/// Runs one node, restarting it by its policy. Returns whether it ended well.
async fn supervise(
    spec: NodeSpec,
    bin: PathBuf,
    mut stop: watch::Receiver<bool>,
    mut killed: watch::Receiver<bool>,
    grace: Duration,
) -> bool {
    let name = spec.name.as_str();
    let mut restarts = 0;
    let mut backoff = FIRST_BACKOFF;
    loop {
        if *stop.borrow() {
            return true;
        }
        let outcome = match start(&spec, &bin) {
            Ok(mut child) => {
                let pid = child.id().unwrap_or(0);
                eprintln!("[{name}] started {} (pid {pid})", bin.display());
                tokio::select! {
                    status = child.wait() => status.map_err(|e| e.to_string()),
                    _ = turned_true(&mut stop) => {
                        stop_child(name, &mut child, pid, &mut killed, grace).await;
                        return true;
                    }
                }
            }
            Err(e) => Err(format!("cannot start {}: {e}", bin.display())),
        };
        let failed = match &outcome {
            Ok(status) => {
                eprintln!("[{name}] exited: {}", describe(status));
                !status.success()
            }
            Err(e) => {
                eprintln!("[{name}] {e}");
                true
            }
        };
        if !failed || spec.restart == Restart::Never {
            return !failed;
        }
        if restarts >= spec.max_restarts {
            eprintln!(
                "[{name}] gave up after {restarts} restart(s): it keeps failing (restart = \"on-failure\", max_restarts = {})",
                spec.max_restarts
            );
            return false;
        }
        restarts += 1;
        eprintln!(
            "[{name}] restarting in {:.1} s (restart {restarts} of {})",
            backoff.as_secs_f64(),
            spec.max_restarts
        );
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = turned_true(&mut stop) => return true,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Spawns the node's process in its own process group (the launcher forwards signals)
/// with its output forwarded line by line behind `[name]`.
fn start(spec: &NodeSpec, bin: &Path) -> std::io::Result<Child> {
    let mut child = Command::new(bin)
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    if let Some(out) = child.stdout.take() {
        tokio::spawn(forward(spec.name.clone(), out, false));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(forward(spec.name.clone(), err, true));
    }
    Ok(child)
}

async fn forward(name: String, stream: impl AsyncRead + Unpin, to_stderr: bool) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if to_stderr {
            eprintln!("[{name}] {line}");
        } else {
            println!("[{name}] {line}");
        }
    }
}

/// SIGTERM, then SIGKILL after `grace` or when `killed` turns true.
async fn stop_child(
    name: &str,
    child: &mut Child,
    pid: u32,
    killed: &mut watch::Receiver<bool>,
    grace: Duration,
) {
    if let Ok(raw) = i32::try_from(pid) {
        if raw > 0 {
            let _ = kill(Pid::from_raw(raw), Signal::SIGTERM);
        }
    }
    tokio::select! {
        status = child.wait() => {
            if let Ok(status) = status {
                eprintln!("[{name}] stopped: {}", describe(&status));
            }
            return;
        }
        _ = tokio::time::sleep(grace) => {
            eprintln!("[{name}] still running after {:.1} s: killing it", grace.as_secs_f64());
        }
        _ = turned_true(killed) => {}
    }
    let _ = child.kill().await;
    eprintln!("[{name}] killed");
}

fn describe(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => match Signal::try_from(sig) {
            Ok(s) => format!("killed by {s}"),
            Err(_) => format!("killed by signal {sig}"),
        },
        _ => status.to_string(),
    }
}

/// Returns once `rx` holds true (or its sender is gone).
async fn turned_true(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}
