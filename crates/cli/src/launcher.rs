//! Runs the nodes of a launch file as child processes, each under a
//! `sustainml supervise` process that leads its own process group (see
//! [`crate::supervise`]): output timestamped and prefixed with the node's name, and
//! kept per node in the launch's log directory ([`crate::launch_log`]); restarts by
//! the node's policy with exponential backoff that a healthy run resets; a graceful
//! stop on Ctrl-C or SIGTERM (SIGTERM to every node's whole group, then SIGKILL after
//! the grace period or a second Ctrl-C). No node outlives the launcher, even one
//! killed with SIGKILL. With peers, a discovery relay per domain runs beside the nodes
//! for as long as the launcher does (see `sustainml_dds::relay`).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use sustainml_dds::relay::RelayStats;
use sustainml_dds::DiscoveryRelay;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::launch_file::{NodeSpec, Restart};
use crate::launch_log::{LaunchLog, Stream};

/// First restart delay; doubles after every restart, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest restart delay.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long a supervisor told to kill its node has before its whole group is killed.
const KILL_WAIT: Duration = Duration::from_secs(2);

/// How long the end of a run waits for the node's last output lines to be logged.
const DRAIN_WAIT: Duration = Duration::from_secs(2);
/// The name the discovery relays log under.
const RELAY: &str = "discovery-relay";

/// Discovery relays running in this process; they stop when this is dropped.
#[derive(Debug, Default)]
pub struct Relays {
    running: Vec<(u16, std::sync::Arc<RelayStats>, JoinHandle<()>)>,
}

impl Relays {
    /// Binds and starts one relay per domain in `domains`, relaying to `peers`. Call
    /// inside the runtime, before the nodes start (the relay holds the port of
    /// participant id 11).
    pub fn start(domains: &[u16], peers: &[Ipv4Addr], log: &Arc<LaunchLog>) -> Result<Self> {
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
            log.node(
                RELAY,
                Stream::Err,
                &format!(
                    "domain {domain}: relaying discovery with {list} on UDP port {}{unicast}",
                    relay.port()
                ),
            );
            let stats = relay.stats();
            let log = Arc::clone(log);
            let task = tokio::spawn(async move {
                if let Err(e) = relay.run().await {
                    log.node(
                        RELAY,
                        Stream::Err,
                        &format!("domain {domain}: stopped: {e}"),
                    );
                }
            });
            relays.running.push((domain, stats, task));
        }
        Ok(relays)
    }

    /// Logs each relay's counters.
    pub fn report(&self, log: &LaunchLog) {
        for (domain, stats, _) in &self.running {
            log.node(RELAY, Stream::Err, &format!("domain {domain}: {stats}"));
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

/// Starts `nodes` (their programs checked: [`NodeSpec::executable`]) and supervises
/// them until they all end or a signal stops them. Returns whether every node ended
/// well (a stop by signal is a good end).
pub async fn run(nodes: Vec<NodeSpec>, log: Arc<LaunchLog>, grace: Duration) -> Result<bool> {
    let shim =
        std::env::current_exe().context("finding this program (for `sustainml supervise`)")?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (kill_tx, kill_rx) = watch::channel(false);
    let mut sigint = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut sigterm = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let count = nodes.len();
    let signal_log = Arc::clone(&log);
    tokio::spawn(async move {
        tokio::select! {
            _ = sigint.recv() => {}
            _ = sigterm.recv() => {}
        }
        signal_log.launcher(&format!(
            "stopping {count} node(s) (Ctrl-C again to kill them at once)"
        ));
        let _ = stop_tx.send(true);
        tokio::select! {
            _ = sigint.recv() => {}
            _ = sigterm.recv() => {}
        }
        signal_log.launcher("killing every node");
        let _ = kill_tx.send(true);
        // Keep the senders alive until the process ends.
        std::future::pending::<()>().await;
    });
    let mut tasks = Vec::new();
    for spec in nodes {
        let node = Supervised {
            shim: shim.clone(),
            log: Arc::clone(&log),
            grace,
            spec,
        };
        tasks.push(tokio::spawn(node.run(stop_rx.clone(), kill_rx.clone())));
    }
    let mut all_ok = true;
    for t in tasks {
        all_ok &= t.await.unwrap_or(false);
    }
    Ok(all_ok || *stop_rx.borrow())
}

/// One node of the launch and how to run it.
struct Supervised {
    spec: NodeSpec,
    shim: PathBuf,
    log: Arc<LaunchLog>,
    grace: Duration,
}

/// How a run of a node ended.
enum Ended {
    /// It exited (by itself, or killed by someone else).
    Exited(ExitStatus),
    /// It could not be started or waited for.
    Failed(String),
    /// The launch is stopping: it was stopped.
    Stopped,
}

impl Supervised {
    fn say(&self, text: &str) {
        self.log.node(&self.spec.name, Stream::Err, text);
    }

    /// Runs the node, restarting it by its policy. Returns whether it ended well.
    async fn run(self, mut stop: watch::Receiver<bool>, mut killed: watch::Receiver<bool>) -> bool {
        let spec = &self.spec;
        let mut restarts = 0u32;
        let mut backoff = FIRST_BACKOFF;
        loop {
            if *stop.borrow() {
                return true;
            }
            let began = Instant::now();
            let ended = self.run_once(&mut stop, &mut killed).await;
            let ran = began.elapsed();
            let (failed, how) = match &ended {
                Ended::Stopped => return true,
                Ended::Exited(status) => (!status.success(), describe(status)),
                Ended::Failed(why) => (true, why.clone()),
            };
            self.say(&format!("exited: {how} after {:.1} s", ran.as_secs_f64()));
            let again = match spec.restart {
                Restart::Never => false,
                Restart::OnFailure => failed,
                Restart::Always => true,
            };
            if !again {
                return !failed;
            }
            if ran >= spec.healthy_after && restarts > 0 {
                self.say(&format!(
                    "ran {:.1} s (healthy_after = {} s): restart count and backoff reset",
                    ran.as_secs_f64(),
                    spec.healthy_after.as_secs_f64()
                ));
                restarts = 0;
                backoff = FIRST_BACKOFF;
            }
            if restarts >= spec.max_restarts {
                self.say(&format!(
                    "gave up after {restarts} restart(s) in a row: it keeps ending within {} s (restart = \"{}\", max_restarts = {})",
                    spec.healthy_after.as_secs_f64(),
                    spec.restart.as_str(),
                    spec.max_restarts
                ));
                return false;
            }
            restarts += 1;
            self.say(&format!(
                "restart {restarts} of {} in {:.1} s: it ended ({how}) and restart = \"{}\"",
                spec.max_restarts,
                backoff.as_secs_f64(),
                spec.restart.as_str()
            ));
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = turned_true(&mut stop) => return true,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One run: start, wait for the end or for the launch to stop.
    async fn run_once(
        &self,
        stop: &mut watch::Receiver<bool>,
        killed: &mut watch::Receiver<bool>,
    ) -> Ended {
        let exe = match &self.spec.executable {
            Some(exe) => exe.clone(),
            None => return Ended::Failed("its program was not checked".into()),
        };
        let (mut child, _lifeline, forwarders) = match self.start(&exe) {
            Ok(started) => started,
            Err(e) => return Ended::Failed(format!("cannot start {}: {e}", exe.display())),
        };
        let pid = child.id().unwrap_or(0);
        self.say(&format!("started {} (pid {pid})", exe.display()));
        let ended = tokio::select! {
            status = child.wait() => match status {
                Ok(status) => {
                    // A supervisor killed by a signal (SIGKILL by hand) cleaned
                    // nothing up: whatever is left in its group goes now.
                    use std::os::unix::process::ExitStatusExt;
                    if status.signal().is_some() {
                        if let Some(group) = i32::try_from(pid).ok().filter(|p| *p > 0) {
                            let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
                        }
                    }
                    Ended::Exited(status)
                }
                Err(e) => Ended::Failed(format!("waiting for it: {e}")),
            },
            _ = turned_true(stop) => {
                self.stop(&mut child, pid, killed).await;
                Ended::Stopped
            }
        };
        // The node's last lines come before the line saying how it ended: the
        // forwarders end when the pipes close, which is when the group has exited. A
        // process that escaped the group and keeps a pipe open is not waited for
        // beyond DRAIN_WAIT (its lines are still forwarded, just later).
        let deadline = tokio::time::Instant::now() + DRAIN_WAIT;
        for forwarder in forwarders {
            let _ = tokio::time::timeout_at(deadline, forwarder).await;
        }
        ended
        // `_lifeline` drops here: the supervisor of a run that ended has nothing to watch.
    }

    /// Spawns `sustainml supervise -- PROGRAM ARGS…` as the leader of a new process
    /// group, its output forwarded line by line. Returns it with the write end of its
    /// lifeline (its stdin), which must live as long as the run.
    fn start(
        &self,
        exe: &Path,
    ) -> std::io::Result<(Child, Option<ChildStdin>, Vec<tokio::task::JoinHandle<()>>)> {
        let spec = &self.spec;
        let mut command = Command::new(&self.shim);
        command
            .arg("supervise")
            .arg("--")
            .arg(exe)
            .args(spec.argv())
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if let Some(dir) = &spec.cwd {
            command.current_dir(dir);
        }
        let mut child = command.spawn()?;
        let lifeline = child.stdin.take();
        let mut forwarders = Vec::new();
        if let Some(out) = child.stdout.take() {
            forwarders.push(tokio::spawn(forward(
                Arc::clone(&self.log),
                spec.name.clone(),
                out,
                Stream::Out,
            )));
        }
        if let Some(err) = child.stderr.take() {
            forwarders.push(tokio::spawn(forward(
                Arc::clone(&self.log),
                spec.name.clone(),
                err,
                Stream::Err,
            )));
        }
        Ok((child, lifeline, forwarders))
    }

    /// SIGTERM to the node's group, then SIGKILL to it after the grace period or when
    /// `killed` turns true.
    async fn stop(&self, child: &mut Child, pid: u32, killed: &mut watch::Receiver<bool>) {
        // The supervisor passes SIGTERM on to every process of the node's group.
        let group = i32::try_from(pid)
            .ok()
            .filter(|p| *p > 0)
            .map(Pid::from_raw);
        if let Some(group) = group {
            let _ = kill(group, Signal::SIGTERM);
        }
        tokio::select! {
            status = child.wait() => {
                if let Ok(status) = status {
                    self.say(&format!("stopped: {}", describe(&status)));
                }
                return;
            }
            _ = tokio::time::sleep(self.grace) => {
                self.say(&format!("still running after {:.1} s: killing it", self.grace.as_secs_f64()));
            }
            _ = turned_true(killed) => {}
        }
        // The supervisor SIGKILLs the rest of its group and reaps it; should it not
        // end, the whole group goes.
        if let Some(group) = group {
            let _ = kill(group, Signal::SIGUSR1);
        }
        if tokio::time::timeout(KILL_WAIT, child.wait()).await.is_err() {
            if let Some(group) = group {
                let _ = killpg(group, Signal::SIGKILL);
            }
            let _ = child.wait().await;
        }
        self.say("killed");
    }
}

async fn forward(log: Arc<LaunchLog>, name: String, stream: impl AsyncRead + Unpin, to: Stream) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        log.node(&name, to, &line);
    }
}

/// An exit status in words. The supervisor exits with 128 + N when the node was
/// killed by signal N, as a shell reports it: that reads back as "killed by SIG…".
fn describe(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    let signal_name = |sig: i32| match Signal::try_from(sig) {
        Ok(s) => format!("killed by {s}"),
        Err(_) => format!("killed by signal {sig}"),
    };
    match (status.code(), status.signal()) {
        (Some(code), _) if (129..=128 + 64).contains(&code) => signal_name(code - 128),
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => signal_name(sig),
        _ => status.to_string(),
    }
}

/// Returns once `rx` holds true (or its sender is gone).
async fn turned_true(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}
