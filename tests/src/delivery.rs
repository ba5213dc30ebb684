//! Status delivery at start-up, across vendors: `sustainml launch launch/local.toml`
//! started at the same instant as a Fast DDS and a Cyclone DDS (optionally an RTI
//! Connext) reader of `/sustainml/status`, in one domain. A round is clean when the
//! orchestrator's GET /status shows the six module nodes IDLE and every reader has a
//! status from each of them. Used by `tests/tests/soak.rs` and
//! `sustainml-bench-delivery` (`scripts/bench-delivery`).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use sustainml_types::{codec, NodeStatusImpl};

use crate::{repo_root, Peer};

/// The six module nodes' names, as they publish them.
pub const MODULE_NODES: [&str; 6] = [
    "APP_REQUIREMENTS_NODE",
    "HW_CONSTRAINTS_NODE",
    "ML_MODEL_METADATA_NODE",
    "ML_MODEL_NODE",
    "HW_RESOURCES_NODE",
    "CARBON_FOOTPRINT_NODE",
];

/// The orchestrator of `launch/local.toml` (its default `--bind`).
pub const LOCAL_REST: &str = "http://127.0.0.1:5001";

/// Observer names, as failure messages give them.
pub const ORCHESTRATOR: &str = "orchestrator GET /status";
/// The Fast DDS 2.9 peer's `sub`.
pub const FASTDDS: &str = "Fast DDS reader";
/// `tests/cyclone/status_reader.py`.
pub const CYCLONE: &str = "Cyclone DDS reader";
/// `tests/cyclone/rti_status_reader.py`.
pub const RTI: &str = "RTI Connext reader";

/// The Python of the venv with the vendor readers: `$SUSTAINML_CYCLONE_PYTHON`, else
/// `target/venv/bin/python` (both made by `scripts/setup-test-deps`).
pub fn vendor_python() -> PathBuf {
    let python = std::env::var_os("SUSTAINML_CYCLONE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/venv/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup-test-deps (scripts/test does)",
        python.display()
    );
    python
}

/// What a round needs.
#[derive(Debug, Clone)]
pub struct RoundConfig {
    /// The `sustainml` binary; the node binaries are beside it.
    pub sustainml: PathBuf,
    /// The launch file (`launch/local.toml`).
    pub launch_file: PathBuf,
    /// The Fast DDS peer binary.
    pub fastdds_peer: PathBuf,
    /// The venv's Python (see [`vendor_python`]).
    pub python: PathBuf,
    /// Start the Fast DDS reader.
    pub fastdds: bool,
    /// Start the Cyclone DDS reader.
    pub cyclone: bool,
    /// Start the RTI Connext reader too.
    pub rti: bool,
    /// The orchestrator's REST base URL.
    pub rest: String,
    /// How long the round may take to be clean.
    pub deadline: Duration,
    /// Where each round's directory (launcher logs, task store) goes.
    pub scratch: PathBuf,
    /// A prefix for the launcher (its nodes inherit it), e.g. `["taskset", "-c", "0"]`.
    pub graph_wrapper: Vec<String>,
    /// A prefix for the readers, e.g. `["taskset", "-c", "1"]`.
    pub observer_wrapper: Vec<String>,
}

/// How a round went.
#[derive(Debug, Clone)]
pub struct RoundReport {
    /// The round's domain.
    pub domain: u16,
    /// (observer, node) pairs that never saw that node (IDLE, for the orchestrator).
    pub missing: Vec<(&'static str, &'static str)>,
    /// Processes still running after the launcher stopped (killed since).
    pub leftovers: Vec<String>,
    /// Time from start until clean (or the deadline).
    pub elapsed: Duration,
    /// `ss -uanp` taken at the deadline of a round that was not clean.
    pub ports: String,
    /// The launcher's children: (name, pid).
    pub pids: Vec<(String, u32)>,
    /// The observers' pids: (observer, pid).
    pub observer_pids: Vec<(&'static str, u32)>,
    /// The round's directory (launcher stdout/stderr).
    pub dir: PathBuf,
}

impl RoundReport {
    /// Six IDLE at the orchestrator, six at every reader, nothing left running.
    pub fn clean(&self) -> bool {
        self.missing.is_empty() && self.leftovers.is_empty()
    }

    /// A failure message: round, node, observer, the processes and their UDP ports.
    pub fn describe(&self, round: usize) -> String {
        let mut text = String::new();
        for (observer, node) in &self.missing {
            let _ = writeln!(
                text,
                "round {round} (domain {}): {observer} has no status from {node} after {:.1} s",
                self.domain,
                self.elapsed.as_secs_f64()
            );
        }
        for l in &self.leftovers {
            let _ = writeln!(
                text,
                "round {round}: left running after the launcher stopped: {l}"
            );
        }
        if !self.ports.is_empty() {
            let _ = writeln!(text, "processes: {}", self.process_names());
            let _ = writeln!(text, "ss -uanp:\n{}", self.ports.trim_end());
            let log = std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default();
            for (_, node) in &self.missing {
                let Some(name) = launch_name(node) else {
                    continue;
                };
                let prefix = format!("[{name}] ");
                let lines: Vec<&str> = log.lines().filter(|l| l.contains(&prefix)).collect();
                let tail = &lines[lines.len().saturating_sub(15)..];
                let _ = writeln!(text, "{name}'s log (last lines):\n{}", tail.join("\n"));
            }
        }
        text
    }

    /// `name=pid` of every process of the round.
    pub fn process_names(&self) -> String {
        let launcher = self.pids.iter().map(|(n, p)| format!("{n}={p}"));
        let observers = self.observer_pids.iter().map(|(n, p)| format!("{n}={p}"));
        launcher.chain(observers).collect::<Vec<_>>().join(" ")
    }
}

/// The launch-file name of a module node (`APP_REQUIREMENTS_NODE` → `app-requirements`).
pub fn launch_name(node: &str) -> Option<String> {
    node.strip_suffix("_NODE")
        .map(|n| n.to_ascii_lowercase().replace('_', "-"))
}

/// The REST key of a module node (`APP_REQUIREMENTS_NODE` → `APP_REQUIREMENTS`).
fn rest_key(node: &str) -> &str {
    node.strip_suffix("_NODE").unwrap_or(node)
}

/// A running graph: the launcher (its children listed in `dir/stderr`).
#[allow(missing_debug_implementations)]
pub struct Launch {
    child: Child,
    /// The launcher's directory: `stdout`, `stderr`, the task store.
    pub dir: PathBuf,
}

impl Launch {
    /// Starts `sustainml launch FILE` on `domain` in a fresh `dir` (which holds its task
    /// store and logs too).
    pub fn start(cfg: &RoundConfig, domain: u16, dir: &Path) -> Self {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).expect("round directory");
        let bin_dir = cfg.sustainml.parent().expect("bin dir");
        let launch_file = cfg.launch_file.display().to_string();
        let bin_dir = bin_dir.display().to_string();
        let (program, args) = command_line(
            &cfg.graph_wrapper,
            &cfg.sustainml,
            &["launch", &launch_file, "--bin-dir", &bin_dir],
        );
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(dir)
            .env("SUSTAINML_DOMAIN_ID", domain.to_string())
            // A fresh task store and log directory for every launch.
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("XDG_STATE_HOME", dir.join("state"))
            .stdin(Stdio::null())
            .stdout(File::create(dir.join("stdout")).expect("stdout file"))
            .stderr(File::create(dir.join("stderr")).expect("stderr file"));
        let child = cmd.spawn().expect("start sustainml launch");
        Self {
            child,
            dir: dir.to_owned(),
        }
    }

    /// The launcher's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The children the launcher started so far: (name, pid).
    pub fn children(&self) -> Vec<(String, u32)> {
        let log = std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default();
        let mut children = Vec::new();
        for line in log.lines() {
            // `[name] started /path/bin (pid 123)`
            let Some((name, rest)) = line
                .strip_prefix('[')
                .and_then(|l| l.split_once("] started "))
            else {
                continue;
            };
            let pid = rest
                .rsplit_once("(pid ")
                .and_then(|(_, p)| p.trim_end_matches(')').parse().ok());
            if let Some(pid) = pid {
                children.retain(|(n, _)| n != name);
                children.push((name.to_owned(), pid));
            }
        }
        children
    }

    /// Ctrl-C (SIGINT by pid), then waits up to `grace` for the launcher to stop its
    /// nodes and exit. Returns what is still running (then killed).
    pub fn stop(mut self, grace: Duration) -> Vec<String> {
        let children = self.children();
        signal(self.pid(), "INT");
        let deadline = Instant::now() + grace;
        let mut leftovers = Vec::new();
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => {
                    leftovers.push(format!("launcher (pid {})", self.pid()));
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break;
                }
            }
        }
        for (name, pid) in children {
            if alive(pid) {
                leftovers.push(format!("{name} (pid {pid})"));
                signal(pid, "KILL");
            }
        }
        leftovers
    }
}

impl Drop for Launch {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Whether `pid` is a live process (not gone, not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Sends SIG`name` to `pid` with kill(1).
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// `ss -uanp`: every UDP socket with the process holding it.
pub fn udp_ports() -> String {
    Command::new("ss")
        .arg("-uanp")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_else(|e| format!("(ss -uanp failed: {e})"))
}

/// `wrapper… program args…` as (program, args).
fn command_line(wrapper: &[String], program: &Path, args: &[&str]) -> (PathBuf, Vec<String>) {
    let args = args.iter().map(|a| a.to_string());
    match wrapper.split_first() {
        None => (program.to_owned(), args.collect()),
        Some((first, rest)) => (
            PathBuf::from(first),
            rest.iter()
                .cloned()
                .chain([program.display().to_string()])
                .chain(args)
                .collect(),
        ),
    }
}

/// A status reader of one vendor and the node names it has seen.
struct Observer {
    name: &'static str,
    peer: Peer,
    seen: BTreeSet<String>,
    fastdds: bool,
}

impl Observer {
    fn drain(&mut self) {
        while let Some(line) = self.peer.next_line(Duration::ZERO) {
            if let Some(node) = node_of(&line, self.fastdds) {
                self.seen.insert(node);
            }
        }
    }
}

/// The node name of a reader's line: `STATUS name …` (Python readers) or
/// `/sustainml/status HEX` (Fast DDS peer).
fn node_of(line: &str, fastdds: bool) -> Option<String> {
    if fastdds {
        let hex = line.strip_prefix("/sustainml/status ")?;
        let status: NodeStatusImpl = codec::decode(&hex::decode(hex).ok()?).ok()?;
        Some(status.node_name)
    } else {
        line.strip_prefix("STATUS ")?
            .split(' ')
            .next()
            .map(str::to_owned)
    }
}

/// The module nodes GET /status shows IDLE (empty if the orchestrator is not up yet).
pub fn idle_at_orchestrator(agent: &ureq::Agent, rest: &str) -> BTreeSet<&'static str> {
    let Ok(answer) = agent.get(&format!("{rest}/status")).call() else {
        return BTreeSet::new();
    };
    let Ok(body) = answer.into_json::<serde_json::Value>() else {
        return BTreeSet::new();
    };
    MODULE_NODES
        .iter()
        .copied()
        .filter(|n| body["status"][rest_key(n)] == "IDLE")
        .collect()
}

/// One round on `domain`: launcher and readers started at the same instant, waited on
/// until clean or `cfg.deadline`, then everything stopped.
pub fn run_round(cfg: &RoundConfig, domain: u16, tag: &str) -> RoundReport {
    let dir = cfg.scratch.join(tag);
    let cyclone = repo_root().join("tests/cyclone/status_reader.py");
    let rti = repo_root().join("tests/cyclone/rti_status_reader.py");
    let timeout = (cfg.deadline.as_secs() + 120).to_string();
    let observer = |name: &'static str, program: &Path, args: &[&str], fastdds: bool| {
        let (program, args) = command_line(&cfg.observer_wrapper, program, args);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Observer {
            name,
            peer: Peer::spawn(name, &program, &args, domain, &[]),
            seen: BTreeSet::new(),
            fastdds,
        }
    };
    let fast_args = [
        "sub",
        "--topics",
        "/sustainml/status",
        "--expect",
        "100000",
        "--timeout",
        &timeout,
    ];
    let python_args = |script: &Path| {
        [
            script.display().to_string(),
            "--timeout".into(),
            timeout.clone(),
        ]
    };
    let (cyclone_args, rti_args) = (python_args(&cyclone), python_args(&rti));
    let barrier = Barrier::new(
        1 + [cfg.fastdds, cfg.cyclone, cfg.rti]
            .iter()
            .filter(|b| **b)
            .count(),
    );
    let started = Instant::now();
    // Every process starts at the same instant: each thread waits at the barrier,
    // then spawns.
    let python = |name, args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        barrier.wait();
        observer(name, &cfg.python, &args, false)
    };
    let (launch, observers) = std::thread::scope(|s| {
        let launch = s.spawn(|| {
            barrier.wait();
            Launch::start(cfg, domain, &dir)
        });
        let fast = cfg.fastdds.then(|| {
            s.spawn(|| {
                barrier.wait();
                observer(FASTDDS, &cfg.fastdds_peer, &fast_args, true)
            })
        });
        let cyc = cfg
            .cyclone
            .then(|| s.spawn(|| python(CYCLONE, &cyclone_args)));
        let rti = cfg.rti.then(|| s.spawn(|| python(RTI, &rti_args)));
        let observers: Vec<Observer> = [fast, cyc, rti]
            .into_iter()
            .flatten()
            .map(|t| t.join().expect("observer thread"))
            .collect();
        (launch.join().expect("launcher thread"), observers)
    });
    let mut observers = observers;

    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(2))
        .build();
    let deadline = started + cfg.deadline;
    let mut idle = BTreeSet::new();
    loop {
        for o in &mut observers {
            o.drain();
        }
        if idle.len() < MODULE_NODES.len() {
            idle = idle_at_orchestrator(&agent, &cfg.rest);
        }
        let done = idle.len() == MODULE_NODES.len()
            && observers
                .iter()
                .all(|o| MODULE_NODES.iter().all(|n| o.seen.contains(*n)));
        if done || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let elapsed = started.elapsed();
    let mut missing = Vec::new();
    for n in MODULE_NODES {
        if !idle.contains(n) {
            missing.push((ORCHESTRATOR, n));
        }
    }
    for o in &observers {
        for n in MODULE_NODES {
            if !o.seen.contains(n) {
                missing.push((o.name, n));
            }
        }
    }
    let ports = if missing.is_empty() {
        String::new()
    } else {
        udp_ports()
    };
    let pids = std::iter::once(("launcher".to_owned(), launch.pid()))
        .chain(launch.children())
        .collect();
    let observer_pids = observers.iter().map(|o| (o.name, o.peer.pid())).collect();
    let leftovers = launch.stop(Duration::from_secs(30));
    for o in &observers {
        if !o.fastdds {
            signal(o.peer.pid(), "TERM");
        }
    }
    drop(observers);
    RoundReport {
        domain,
        missing,
        leftovers,
        elapsed,
        ports,
        pids,
        observer_pids,
        dir,
    }
}
