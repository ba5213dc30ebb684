//! Protects the orchestrator's REST API across processes: the `sustainml-orchestrator`
//! binary takes a problem over HTTP, runs it through the six nodes, answers the
//! reference back-end's endpoints without blocking, streams progress as server-sent
//! events, reports bad requests naming the field, and keeps its tasks over a restart.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sustainml_node::NodeKind;
use sustainml_tests::{assert_isolated, repo_root, workspace_bin, Peer};

const NODE: &str = env!("CARGO_BIN_EXE_sustainml-test-node");
const WAIT: Duration = Duration::from_secs(60);
const SIX: [&str; 6] = [
    "APP_REQUIREMENTS",
    "CARBON_FOOTPRINT",
    "HW_CONSTRAINTS",
    "HW_RESOURCES",
    "ML_MODEL_METADATA",
    "ML_MODEL",
];

fn data_dir(name: &str) -> PathBuf {
    let dir = repo_root().join(format!(
        "target/test-data/rest-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A running `sustainml-orchestrator` and its base URL.
struct Api {
    process: Peer,
    base: String,
}

fn start_api(domain: u16, dir: &Path, extra: &[&str]) -> Api {
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

fn six_nodes(domain: u16) -> Vec<Peer> {
    NodeKind::ALL
        .iter()
        .map(|k| {
            let args = ["--kind", k.node_name()];
            Peer::spawn(k.node_name(), Path::new(NODE), &args, domain, &[])
        })
        .collect()
}

impl Api {
    /// `METHOD path [body]` → (status, JSON body).
    fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
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

    fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None)
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call("POST", path, Some(&body.to_string()))
    }

    /// Calls until `done` accepts the answer.
    fn poll(&self, path: &str, done: impl Fn(u16, &Value) -> bool) -> Value {
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
    fn events(&self) -> Receiver<String> {
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
    fn stop(self) {
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

fn expect_event(lines: &Receiver<String>, name: &str) {
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

fn problem() -> Value {
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

#[test]
fn a_problem_posted_over_rest_runs_and_its_results_survive_a_restart() {
    // Protects: the front-end's flow (status, user_input, results, config) end to end over HTTP, SSE progress, and tasks kept across a restart.
    assert_isolated();
    let _one = sustainml_tests::serial();
    let domain = 140;
    let dir = data_dir("flow");
    let _graph = six_nodes(domain);
    let api = start_api(domain, &dir, &[]);

    let (code, root) = api.get("/");
    assert_eq!(code, 200);
    assert!(root["message"].is_string());
    let events = api.events();
    expect_event(&events, "connected");

    api.poll("/ready", |code, _| code == 200);
    let status = api.poll("/status", |_, b| {
        SIX.iter().all(|k| b["status"][k] == "IDLE")
    });
    assert_eq!(status["status"]["ML_MODEL"], "IDLE");
    let (code, one) = api.post("/status", &json!({"node_id": 5}));
    assert_eq!((code, &one), (200, &json!({"status": "IDLE"})));

    let (code, submitted) = api.post("/user_input", &problem());
    assert_eq!(code, 200, "{submitted}");
    assert_eq!(
        submitted["task_id"],
        json!({"problem_id": 1, "iteration_id": 1})
    );
    let task = api.poll("/tasks/1/1", |_, b| b["state"] != "running");
    assert_eq!(task["state"], "done", "{task}");
    assert_eq!(task["outputs"]["ML_MODEL"]["model"], "ML_MODEL_NODE@1.1");
    expect_event(&events, "task_started");
    expect_event(&events, "task_done");

    let (code, results) = api.get("/results");
    assert_eq!(code, 200);
    for key in SIX {
        assert!(results[key].is_object(), "{key} missing: {results}");
    }
    assert_eq!(results["task_id"], submitted["task_id"]);
    assert_eq!(results["state"], "done");
    assert_eq!(results["missing"], json!([]));
    assert!(results["APP_REQUIREMENTS"]["app_requirements"].is_string());
    assert_eq!(results["CARBON_FOOTPRINT"]["carbon_footprint"], 10.0);

    let task_id = submitted["task_id"].clone();
    let (code, all) = api.post("/results", &json!({"node_id": 9, "task_id": task_id}));
    assert_eq!(code, 200);
    assert!(SIX.iter().all(|k| all[k].is_object()), "{all}");
    let (code, model) = api.post("/results", &json!({"node_id": 5, "task_id": task_id}));
    assert_eq!(code, 200);
    assert_eq!(model["ML_MODEL"]["model"], "ML_MODEL_NODE@1.1", "{model}");
    assert_eq!(model["ML_MODEL"]["task_id"], task_id);
    let (code, echo) = api.post("/results", &json!({"node_id": 7, "task_id": task_id}));
    assert_eq!(code, 200);
    assert_eq!(echo["ORCHESTRATOR"]["modality"], "images", "{echo}");
    assert_eq!(
        echo["ORCHESTRATOR"]["extra_data"]["goal"],
        "image-classification"
    );

    let (code, config) = api.post(
        "/config_request",
        &json!({"configuration": "modality", "node_id": 4}),
    );
    assert_eq!(code, 200, "{config}");
    assert_eq!(config["response"]["success"], true);
    assert_eq!(config["response"]["node_id"], 4);
    let answer: Value = serde_json::from_str(
        config["response"]["configuration"]
            .as_str()
            .expect("a string"),
    )
    .expect("the test node answers JSON");
    assert_eq!(answer["node"], "ML_MODEL_METADATA_NODE");
    // Without node_id, routed by its words as the reference back-end does.
    let (code, routed) = api.post("/config_request", &json!({"configuration": "hardwares"}));
    assert_eq!(code, 200, "{routed}");
    assert_eq!(routed["response"]["node_id"], 3);

    // SIGTERM with an event stream open still shuts down cleanly; the tasks stay.
    api.stop();
    let api = start_api(domain, &dir, &[]);
    let (code, tasks) = api.get("/tasks");
    assert_eq!(code, 200);
    let list = tasks["tasks"].as_array().expect("a list");
    assert_eq!(list.len(), 1, "{tasks}");
    assert_eq!(list[0]["task_id"], task_id);
    assert_eq!(list[0]["state"], "done");
    assert_eq!(list[0]["outputs"], 6);
    api.stop();
}

#[test]
fn bad_requests_absent_nodes_and_missing_results_answer_at_once() {
    // Protects: malformed input gets a 400 naming the field, absent nodes a timeout error, results not there yet an immediate answer, and remote binding a refusal.
    assert_isolated();
    let _one = sustainml_tests::serial();
    let domain = 141;
    let dir = data_dir("errors");

    // No authentication, so no remote address without saying so.
    let refused = Peer::spawn(
        "sustainml-orchestrator",
        &workspace_bin("sustainml-orchestrator"),
        &[
            "--bind",
            "0.0.0.0:0",
            "--data-dir",
            &dir.display().to_string(),
        ],
        domain,
        &[],
    );
    let (ok, _, stderr) = refused.outcome(WAIT);
    assert!(!ok);
    assert!(stderr.contains("--allow-remote"), "{stderr}");

    let api = start_api(domain, &dir, &["--config-timeout", "1"]);
    let (code, none) = api.get("/results");
    assert_eq!(code, 200);
    assert_eq!(none["state"], "no_task");

    for (body, field) in [
        (r#"{"modality": 5}"#, "modality"),
        (
            r#"{"inputs": "a", "maximum_samples": "many"}"#,
            "maximum_samples",
        ),
        (r#"{"extra_data": [1]}"#, "extra_data"),
        (r#"{"previous_iteration": 1}"#, "previous_problem_id"),
        (r#"{"modality": "images""#, "JSON"),
    ] {
        let (code, err) = api.call("POST", "/user_input", Some(body));
        assert_eq!(code, 400, "{body}: {err}");
        let msg = err["error"].as_str().expect("an error message");
        assert!(msg.contains(field), "{body}: {msg}");
    }
    let (code, err) = api.post(
        "/user_input",
        &json!({"previous_iteration": 1, "extra_data": {"previous_problem_id": 42}}),
    );
    assert_eq!(code, 404, "{err}");
    assert!(err["error"].as_str().expect("message").contains("42"));

    // Nobody serves CARBON_FOOTPRINT (1) here.
    let (code, err) = api.post(
        "/config_request",
        &json!({"configuration": "x", "node_id": 1}),
    );
    assert_eq!(code, 504, "{err}");
    assert!(err["error"]
        .as_str()
        .expect("message")
        .contains("timed out"));
    let (code, err) = api.post(
        "/config_request",
        &json!({"configuration": "x", "node_id": 42}),
    );
    assert_eq!(code, 400, "{err}");
    assert!(err["error"].as_str().expect("message").contains("node_id"));
    let (code, err) = api.post("/config_request", &json!({"node_id": 1}));
    assert_eq!(code, 400);
    assert!(err["error"]
        .as_str()
        .expect("message")
        .contains("configuration"));
    let (code, _) = api.post("/status", &json!({"node_id": 3}));
    assert_eq!(code, 404);

    // No node runs: the task stays running and results say what is missing.
    let (code, submitted) = api.post("/user_input", &problem());
    assert_eq!(code, 200, "{submitted}");
    let (code, results) = api.get("/results");
    assert_eq!(code, 200);
    assert_eq!(results["state"], "running");
    assert_eq!(results["missing"].as_array().map(Vec::len), Some(6));
    let (code, one) = api.post(
        "/results",
        &json!({"node_id": 0, "task_id": submitted["task_id"]}),
    );
    assert_eq!(code, 202, "{one}");
    assert_eq!(one["missing"], json!(["APP_REQUIREMENTS"]));
    let (code, _) = api.get("/tasks/9/9");
    assert_eq!(code, 404);
    let (code, err) = api.get("/tasks/x/1");
    assert_eq!(code, 400);
    assert!(err["error"].as_str().expect("message").contains("problem"));
    let (code, _) = api.get("/shutdown");
    assert_eq!(code, 404);
    api.stop();
}
