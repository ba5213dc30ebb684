//! `sustainml supervise -- PROGRAM ARGS…` (hidden): the small process the launcher puts
//! between itself and each node, so that no node outlives the launcher.
//!
//! Why a process and not a `prctl(PR_SET_PDEATHSIG)` in the child: setting that in
//! the child between fork and exec needs `unsafe` (`pre_exec`), and the signal fires
//! when the *thread* that forked exits, which in a multi-threaded runtime is not the
//! launcher's death. A pipe is exact: the launcher holds the write end of this
//! process's stdin and never writes; the kernel closes it when the launcher ends,
//! however it ends (SIGKILL included), and this process reads end-of-file.
//!
//! The launcher starts this process as the leader of a new process group; the node
//! and everything it starts (a wrapper script's children too) stay in that group:
//!
//! - SIGTERM, SIGINT or SIGHUP to this process (the launcher's stop, or a user's
//!   `kill` of the pid the launcher shows) goes on to every other process of the
//!   group, once each; this process waits for the node;
//! - SIGUSR1 (the launcher's kill after its grace period) SIGKILLs every other
//!   process of the group, and this process reaps what is its own (a SIGKILL to the
//!   whole group would leave the node's processes to whoever adopts them);
//! - when the launcher is gone (end-of-file on stdin), this process sends SIGTERM to
//!   the group, gives it [`LEFTOVER_GRACE`], then SIGKILLs what is left and exits;
//! - when the node ends by itself, what it left running in the group (a wrapper's
//!   background child) gets the same treatment, so a restart never runs beside an
//!   orphan. It is also the group's child subreaper, so such orphans stay its own.
//!
//! It exits with the node's exit code, or 128 + the signal that killed the node (as a
//! shell reports it); the launcher reads that back as "killed by SIG…".

use std::ffi::OsString;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::{getpgrp, getpid, Pid};
use tokio::io::AsyncReadExt;
use tokio::signal::unix::{signal, SignalKind};

/// How long the rest of a node's process group has after SIGTERM before SIGKILL, when
/// the launcher is gone or the node's main process ended.
pub const LEFTOVER_GRACE: Duration = Duration::from_secs(1);

/// How often the group is looked at while it winds down.
const POLL: Duration = Duration::from_millis(20);

/// Runs `program` with `args` under supervision; returns the exit code to leave with.
pub fn run(program: OsString, args: Vec<OsString>) -> Result<i32> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the supervisor's runtime")?;
    let code = runtime.block_on(supervise(program, args));
    // The lifeline's reader is a blocking thread that only ends with the launcher:
    // do not wait for it.
    runtime.shutdown_background();
    code
}

async fn supervise(program: OsString, args: Vec<OsString>) -> Result<i32> {
    // Handlers first: a stop that arrives while the node starts must not end us.
    let mut term = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    let mut hup = signal(SignalKind::hangup()).context("SIGHUP handler")?;
    let mut kill_now = signal(SignalKind::user_defined1()).context("SIGUSR1 handler")?;
    nix::sys::prctl::set_child_subreaper(true).context("becoming the group's subreaper")?;
    let mut child = tokio::process::Command::new(&program)
        .args(&args)
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", program.to_string_lossy()))?;
    let node = child.id().and_then(|p| i32::try_from(p).ok());
    let mut lifeline = tokio::io::stdin();
    let mut byte = [0u8; 64];
    let status = loop {
        tokio::select! {
            status = child.wait() => break status.context("waiting for the node")?,
            read = lifeline.read(&mut byte) => {
                if matches!(read, Ok(0) | Err(_)) {
                    // The launcher is gone: take the whole group down, then leave.
                    wind_down(node).await;
                    return Ok(1);
                }
            }
            _ = kill_now.recv() => {
                for pid in others(getpgrp()) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
            _ = term.recv() => forward(Signal::SIGTERM),
            _ = int.recv() => forward(Signal::SIGINT),
            _ = hup.recv() => forward(Signal::SIGHUP),
        }
    };
    wind_down(None).await;
    Ok(exit_code(&status))
}

/// `signal` to every other process of this process's group.
fn forward(signal: Signal) {
    for pid in others(getpgrp()) {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

/// SIGTERM to the group, [`LEFTOVER_GRACE`] for it to end, then SIGKILL to each
/// process still in it (not to this one). `node` is the main process, if it runs.
async fn wind_down(node: Option<i32>) {
    let group = getpgrp();
    if others(group).is_empty() {
        return;
    }
    forward(Signal::SIGTERM);
    let deadline = Instant::now() + LEFTOVER_GRACE;
    while Instant::now() < deadline {
        reap();
        if others(group).is_empty() {
            return;
        }
        tokio::time::sleep(POLL).await;
    }
    for pid in others(group) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    if let Some(pid) = node {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
    reap();
}

/// Collects every ended child (the orphans reparented to us included).
fn reap() {
    while let Ok(status) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
        if status == nix::sys::wait::WaitStatus::StillAlive {
            break;
        }
    }
}

/// The live processes of `group` other than this one (zombies do not count).
fn others(group: Pid) -> Vec<i32> {
    let me = getpid().as_raw();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .filter(|&pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let pgrp = fields.nth(1).and_then(|f| f.parse::<i32>().ok());
            state != Some("Z") && pgrp == Some(group.as_raw())
        })
        .collect()
}

fn exit_code(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        _ => 1,
    }
}
