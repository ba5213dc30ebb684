//! Helpers for the cross-process tests: spawn peers, read their line protocol, find
//! (and if needed build) the Fast DDS peer, and make sure DDS stays in a private
//! network namespace.

pub mod netns;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Panics unless the test runs inside `scripts/isolated`: a DDS participant outside a
/// private network namespace would send discovery traffic off the machine.
pub fn assert_isolated() {
    assert_eq!(
        std::env::var("SUSTAINML_ISOLATED").as_deref(),
        Ok("1"),
        "cross-process DDS tests must run inside scripts/isolated (see README: scripts/test)"
    );
}

/// The repository root.
/// Runs the tests of one binary that take it one at a time (those that start a whole
/// graph, or bind fixed ports): hold the guard for the test's length. A test that
/// failed while holding it does not stop the others.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The Fast DDS peer binary: `$SUSTAINML_FASTDDS_PEER`, or built once with
/// `tests/fastdds/build.sh` into `target/fastdds-peer`.
pub fn fastdds_peer() -> PathBuf {
    static PEER: OnceLock<PathBuf> = OnceLock::new();
    PEER.get_or_init(|| {
        if let Ok(p) = std::env::var("SUSTAINML_FASTDDS_PEER") {
            return PathBuf::from(p);
        }
        let root = repo_root();
        let out = root.join("target/fastdds-peer");
        let status = Command::new(root.join("tests/fastdds/build.sh"))
            .arg(&out)
            .stdout(Stdio::null())
            .status()
            .expect("run tests/fastdds/build.sh");
        assert!(
            status.success(),
            "building the Fast DDS peer failed (is libfastrtps-dev installed? .ci/run installs it)"
        );
        out.join("sustainml-fastdds-peer")
    })
    .clone()
}

/// A child process whose stdout lines arrive on a channel; killed when dropped.
#[allow(missing_debug_implementations)]
pub struct Peer {
    name: String,
    child: Child,
    lines: Receiver<String>,
    stderr: Receiver<String>,
}

impl Peer {
    /// Starts `program args…` on `domain`, with extra environment variables.
    pub fn spawn(
        name: &str,
        program: &Path,
        args: &[&str],
        domain: u16,
        env: &[(&str, &str)],
    ) -> Self {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env("SUSTAINML_DOMAIN_ID", domain.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({}): {e}", program.display()));
        let lines = pump(child.stdout.take().expect("stdout"));
        let stderr = pump(child.stderr.take().expect("stderr"));
        Self {
            name: name.to_owned(),
            child,
            lines,
            stderr,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a stdout line equal to `line`.
    pub fn expect_line(&self, line: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(l) if l == line => return,
                Ok(_) => {}
                Err(_) => panic!(
                    "{}: no line {line:?} within {timeout:?}; stderr:\n{}",
                    self.name,
                    self.stderr_text()
                ),
            }
        }
    }

    /// Waits for the process to exit and returns its stdout lines; fails the test if it
    /// does not exit successfully within `timeout`.
    pub fn finish(self, timeout: Duration) -> Vec<String> {
        let name = self.name.clone();
        let (ok, lines, stderr) = self.outcome(timeout);
        assert!(ok, "{name} failed; stderr:\n{stderr}");
        lines
    }

    /// Waits for exit; returns (success, stdout lines, stderr text).
    pub fn outcome(mut self, timeout: Duration) -> (bool, Vec<String>, String) {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(l) => out.push(l),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{}: still running after {timeout:?}", self.name)
                }
            }
        }
        let status = self.child.wait().expect("wait");
        (status.success(), out, self.stderr_text())
    }

    /// Everything the process wrote to stderr so far.
    pub fn stderr_text(&self) -> String {
        let mut text = String::new();
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(50)) {
            text.push_str(&l);
            text.push('\n');
        }
        text
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pump(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Writes `lines` to a fresh file under the target directory and returns its path.
pub fn temp_file(name: &str, lines: &[String]) -> PathBuf {
    let dir = repo_root().join("target/test-data");
    std::fs::create_dir_all(&dir).expect("create target/test-data");
    let path = dir.join(format!("{}-{name}", std::process::id()));
    std::fs::write(&path, lines.join("\n") + "\n").expect("write test file");
    path
}

use sustainml_types::codec::{self, Hex};
use sustainml_types::topics::TopicInfo;
use sustainml_types::{ResponseTypeImpl, TaskData, TaskIdImpl as TaskId};

/// The `TOPIC HEX` line of `value` stamped with task {problem, iteration}.
pub fn sample_line<T: TaskData>(
    topic: TopicInfo,
    mut value: T,
    problem: u32,
    iteration: u32,
) -> String {
    value.set_task_id(TaskId::new(problem, iteration));
    format!(
        "{} {}",
        topic.name,
        Hex(&codec::encode(&value).expect("encode"))
    )
}

/// Decodes the `TOPIC HEX` lines of `topic`.
pub fn decode_lines<T: TaskData>(lines: &[String], topic: TopicInfo) -> Vec<T> {
    let prefix = format!("{} ", topic.name);
    lines
        .iter()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|hex| codec::decode(&hex::decode(hex).expect("hex")).expect("decode"))
        .collect()
}

/// The configuration response a peer printed as `sustainml/response HEX`.
pub fn response_of(lines: &[String]) -> ResponseTypeImpl {
    let hex = lines
        .iter()
        .find_map(|l| l.strip_prefix("sustainml/response "))
        .expect("a response line");
    codec::decode(&hex::decode(hex).expect("hex")).expect("decode response")
}

/// A binary of the workspace (a node's), next to the test binaries' own directory:
/// `scripts/test` builds every target before it runs the tests.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join(name))
        .unwrap_or_default();
    assert!(
        bin.exists(),
        "{} is missing: build the workspace first (cargo build --workspace; scripts/test does)",
        bin.display()
    );
    bin
}

/// Runs `sustainml args…` to completion on `domain`, with `stdin` on its standard
/// input: (exit code, stdout, stderr).
pub fn run_sustainml(domain: u16, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(workspace_bin("sustainml"))
        .args(args)
        .env("SUSTAINML_DOMAIN_ID", domain.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sustainml");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait for sustainml");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One round through a running graph: subscribes to `topics`, publishes `lines` (with
/// the test peer at `peer`), and returns the subscriber's lines once every topic has
/// `expect` distinct samples. A round that falls short fails the test with every
/// node's log: nothing is published twice.
pub fn graph_round(
    peer: &Path,
    domain: u16,
    topics: &[&str],
    expect: u32,
    lines: &[String],
    tag: &str,
    nodes: &[Peer],
) -> Vec<String> {
    let file = temp_file(&format!("{tag}-{domain}.txt"), lines);
    let sub = Peer::spawn(
        "sub",
        peer,
        &[
            "sub",
            "--topics",
            &topics.join(","),
            "--expect",
            &expect.to_string(),
            "--timeout",
            "60",
        ],
        domain,
        &[],
    );
    sub.expect_line("READY", Duration::from_secs(20));
    // The publisher stays up until the subscriber is done, as a real one (the
    // orchestrator) does.
    let publ = Peer::spawn(
        "pub",
        peer,
        &[
            "pub",
            "--input",
            file.to_str().expect("path"),
            "--linger",
            "3600",
        ],
        domain,
        &[],
    );
    let (ok, received, stderr) = sub.outcome(Duration::from_secs(120));
    drop(publ);
    if !ok {
        let logs: Vec<String> = nodes.iter().map(Peer::stderr_text).collect();
        panic!(
            "{tag}: the subscriber did not get every sample: {stderr}\nnode logs:\n{}",
            logs.join("\n")
        );
    }
    received
}

/// A free TCP port on loopback (for a REST API's `--bind`).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Sends SIGKILL to process `pid` (one this test started).
pub fn sigkill(pid: u32) {
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill -KILL");
    assert!(status.success(), "kill -KILL {pid}");
}

pub mod delivery;
pub mod launch;
pub mod rest_api;

impl Peer {
    /// The next stdout line, if one arrives within `timeout` (`Duration::ZERO`: only
    /// a line already there).
    pub fn next_line(&self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }
}
