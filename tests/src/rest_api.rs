//! The orchestrator's REST API as the tests drive it: a `sustainml-orchestrator`
//! process on a free port, six test nodes, JSON calls, polling and the event stream.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sustainml_node::NodeKind;

use crate::{repo_root, workspace_bin, Peer};

/// How long a call, a poll or an event may take (a 2-core machine, debug builds).
pub const WAIT: Duration = Duration::from_secs(60);

/// A fresh data directory for test `name`.
pub fn data_dir(name: &str) -> PathBuf {
    let dir = repo_root().join(format!(
        "target/test-data/rest-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A running `sustainml-orchestrator` and its base URL.
#[allow(missing_debug_implementations)]
pub struct Api {
    /// The orchestrator process.
    pub process: Peer,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub base: String,
}

/// Starts `sustainml-orchestrator` on `domain` with its store in `dir`.
pub fn start_api(domain: u16, dir: &Path, extra: &[&str]) -> Api {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let bind = format!("127.0.0.1:{port}");
    let dir = dir.display().to_string();
    let domain_arg = domain.to_string();
    let mut args = vec!["--bind", &bind, "--data-dir", &dir, "--domain", &domain_arg];
    args.extend_from_slice(extra);
    let program = workspace_bin("sustainml-orchestrator");
    let process = Peer::spawn("sustainml-orchestrator", &program, &args, domain, &[]);
    process.expect_line(&format!("listening on http://{bind}"), WAIT);
    Api {
        process,
        base: format!("http://{bind}"),
    }
}

/// The six test nodes (`sustainml-test-node`) on `domain`, with `extra` arguments for
/// the kind they name.
pub fn six_nodes(domain: u16) -> Vec<Peer> {
    six_nodes_with(domain, None)
}

/// [`six_nodes`], one of them started with extra arguments.
pub fn six_nodes_with(domain: u16, special: Option<(NodeKind, &[&str])>) -> Vec<Peer> {
    NodeKind::ALL
        .iter()
        .map(|k| {
            let mut args = vec!["--kind", k.node_name()];
            if let Some((kind, extra)) = special {
                if kind == *k {
                    args.extend_from_slice(extra);
                }
            }
            let node = workspace_bin("sustainml-test-node");
            Peer::spawn(k.node_name(), &node, &args, domain, &[])
        })
        .collect()
}

impl Api {
    /// `METHOD path [body]` → (status, JSON body).
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        let agent = ureq::AgentBuilder::new().timeout(WAIT).build();
        let req = agent
            .request(method, &format!("{}{path}", self.base))
            .set("Content-Type", "application/json");
        let answer = match body {
            Some(b) => req.send_string(b),
            None => req.call(),
        };
        let resp = match answer {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = resp.status();
        let json = resp.into_json().expect("a JSON body");
        (status, json)
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None)
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call("POST", path, Some(&body.to_string()))
    }

    /// Calls until `done` accepts the answer.
    pub fn poll(&self, path: &str, done: impl Fn(u16, &Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let (status, body) = self.get(path);
            if done(status, &body) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "GET {path}: still {status} {body}\n{}",
                self.process.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The lines of GET /events, read on a thread.
    pub fn events(&self) -> Receiver<String> {
        let resp = ureq::AgentBuilder::new()
            .timeout_read(Duration::from_secs(120))
            .build()
            .get(&format!("{}/events", self.base))
            .call()
            .expect("GET /events");
        assert_eq!(resp.header("Content-Type"), Some("text/event-stream"));
        let (tx, rx) = mpsc::channel();
        let reader = BufReader::new(resp.into_reader());
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        rx
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(self) {
        let pid = self.process.pid().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(killed.success());
        let (ok, _, stderr) = self.process.outcome(WAIT);
        assert!(ok, "the orchestrator did not exit cleanly:\n{stderr}");
    }
}

/// Waits for an event named `name` on the lines of GET /events.
pub fn expect_event(lines: &Receiver<String>, name: &str) {
    let want = format!("event: {name}");
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(l) if l == want => return,
            Ok(_) => {}
            Err(e) => panic!("no {want:?} on /events: {e}"),
        }
    }
}

/// A problem as the front-end posts it.
pub fn problem() -> Value {
    json!({
        "problem_short_description": "classify birds",
        "modality": "images",
        "problem_definition": "birds in pictures",
        "inputs": ["image"],
        "outputs": ["label"],
        "minimum_samples": 1,
        "maximum_samples": 100,
        "optimize_carbon_footprint_auto": false,
        "optimize_carbon_footprint_manual": false,
        "previous_iteration": 0,
        "desired_carbon_footprint": 0.0,
        "geo_location_continent": "Europe",
        "geo_location_region": "France",
        "extra_data": {"goal": "image-classification"}
    })
}
