//! Protects "every accepted task ends, whatever dies": a module node SIGKILLed mid-stream (restarted by `sustainml launch`), or the orchestrator SIGKILLed mid-stream (restarted on its data directory), leaves no task running: every task the orchestrator accepted ends done or failed with a reason (GET /tasks/P/I). Domains 180-181.

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sustainml_tests::launch::Launcher;
use sustainml_tests::{
    assert_isolated, free_port, repo_root, sigkill, temp_file, workspace_bin, Peer,
};

const NODE: &str = env!("CARGO_BIN_EXE_sustainml-test-node");
/// Tasks in a stream, and the pause between two submissions.
const TASKS: u32 = 30;
const EVERY: Duration = Duration::from_millis(100);
/// The orchestrator's task deadline (--deadline): the longest a lost task may take.
const DEADLINE_S: u64 = 30;
const WAIT: Duration = Duration::from_secs(60);

/// The six module kinds: (launch-file kind, test-node kind).
const KINDS: [(&str, &str); 6] = [
    ("app-requirements", "app_requirements"),
    ("hw-constraints", "hw_constraints"),
    ("ml-model-metadata", "ml_model_metadata"),
    ("ml-model", "ml_model"),
    ("hw-resources", "hw_resources"),
    ("carbon-footprint", "carbon_footprint"),
];

type TaskId = (u64, u64);

fn scratch(tag: &str) -> PathBuf {
    let dir = repo_root().join(format!(
        "target/test-data/task-faults-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The orchestrator's REST API.
#[derive(Clone)]
struct Rest {
    url: String,
    agent: ureq::Agent,
}

impl Rest {
    fn new(bind: &str) -> Self {
        Self {
            url: format!("http://{bind}"),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(30))
                .build(),
        }
    }

    /// Submits problem `n`; the task id if the orchestrator accepted it.
    fn submit(&self, n: u32) -> Result<TaskId, String> {
        let body = json!({
            "modality": "image",
            "problem_short_description": format!("stream task {n}"),
            "geo_location_region": "France",
            "extra_data": {"goal": "image-classification"},
        });
        let answer: Value = self
            .agent
            .post(&format!("{}/user_input", self.url))
            .send_json(body)
            .map_err(|e| e.to_string())?
            .into_json()
            .map_err(|e| e.to_string())?;
        task_id(&answer["task_id"]).ok_or_else(|| format!("no task id in {answer}"))
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        self.agent
            .get(&format!("{}{path}", self.url))
            .call()
            .map_err(|e| e.to_string())?
            .into_json()
            .map_err(|e| e.to_string())
    }

    /// Every task the orchestrator stores: id → its JSON.
    fn tasks(&self) -> Vec<(TaskId, Value)> {
        let list = self.get("/tasks").expect("GET /tasks");
        list["tasks"]
            .as_array()
            .expect("a task list")
            .iter()
            .map(|t| (task_id(&t["task_id"]).expect("a task id"), t.clone()))
            .collect()
    }

    fn count(&self, state: &str) -> usize {
        self.tasks()
            .iter()
            .filter(|(_, t)| t["state"] == state)
            .count()
    }

    /// Waits until /ready says the six nodes are alive.
    fn wait_ready(&self) {
        let deadline = Instant::now() + WAIT;
        while self
            .agent
            .get(&format!("{}/ready", self.url))
            .call()
            .is_err()
        {
            assert!(Instant::now() < deadline, "the graph never became ready");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until none of `ids` nor any stored task is running; fails the test naming
    /// the tasks still running after `timeout`.
    fn wait_all_ended(&self, ids: &[TaskId], timeout: Duration, logs: &dyn Fn() -> String) {
        let deadline = Instant::now() + timeout;
        loop {
            let tasks = self.tasks();
            let running: Vec<TaskId> = tasks
                .iter()
                .filter(|(_, t)| t["state"] == "running")
                .map(|(id, _)| *id)
                .chain(ids.iter().copied().filter(|id| {
                    !tasks.iter().any(|(t, _)| t == id) // accepted, yet not stored
                }))
                .collect();
            if running.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "still running (or missing) after {timeout:?}: {running:?}\n{}",
                logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Asserts that task `id` ended: done, or failed with a reason. Returns its state.
    fn assert_ended(&self, id: TaskId) -> String {
        let t = self
            .get(&format!("/tasks/{}/{}", id.0, id.1))
            .unwrap_or_else(|e| panic!("GET /tasks/{}/{}: {e}", id.0, id.1));
        let state = t["state"].as_str().unwrap_or_default().to_owned();
        match state.as_str() {
            "done" => {}
            "failed" => assert!(
                t["reason"].as_str().is_some_and(|r| !r.trim().is_empty()),
                "task {id:?} failed without a reason: {t}"
            ),
            _ => panic!("task {id:?} did not end: {t}"),
        }
        state
    }
}

fn task_id(v: &Value) -> Option<TaskId> {
    Some((v["problem_id"].as_u64()?, v["iteration_id"].as_u64()?))
}

/// Submits `TASKS` problems, one every `EVERY`, in the background; each one's
/// task id, or why it was refused.
fn stream(rest: &Rest) -> JoinHandle<Vec<Result<TaskId, String>>> {
    let rest = rest.clone();
    std::thread::spawn(move || {
        (1..=TASKS)
            .map(|n| {
                let r = rest.submit(n);
                std::thread::sleep(EVERY);
                r
            })
            .collect()
    })
}

/// Waits until `n` tasks are done.
fn wait_done(rest: &Rest, n: usize, logs: &dyn Fn() -> String) {
    let deadline = Instant::now() + WAIT;
    while rest.count("done") < n {
        assert!(
            Instant::now() < deadline,
            "{n} tasks never done\n{}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `sustainml-orchestrator` on `domain`, its store in `dir`, its API on `bind`.
fn orchestrator(domain: u16, dir: &Path, bind: &str) -> Peer {
    let deadline = DEADLINE_S.to_string();
    let domain_arg = domain.to_string();
    let args = [
        "--bind",
        bind,
        "--data-dir",
        dir.to_str().expect("path"),
        "--domain",
        &domain_arg,
        "--deadline",
        &deadline,
    ];
    let program = workspace_bin("sustainml-orchestrator");
    let p = Peer::spawn(
        "orchestrator",
        &program,
        &args,
        domain,
        &[("RUST_LOG", "info")],
    );
    p.expect_line(&format!("listening on http://{bind}"), WAIT);
    p
}

/// Asserts every accepted task and every stored task ended; returns (done, failed).
fn assert_every_task_ended(rest: &Rest, accepted: &[TaskId]) -> (usize, usize) {
    let mut ids: Vec<TaskId> = rest.tasks().into_iter().map(|(id, _)| id).collect();
    for id in accepted {
        assert!(ids.contains(id), "accepted task {id:?} is not stored");
    }
    ids.sort_unstable();
    let states: Vec<String> = ids.iter().map(|id| rest.assert_ended(*id)).collect();
    let done = states.iter().filter(|s| *s == "done").count();
    (done, states.len() - done)
}

/// `sustainml launch` of the six test nodes (each `sustainml-<kind>` in the bin dir is
/// the test node), restarted on failure; HW_RESOURCES gets `hw_args`.
fn launch_test_nodes(domain: u16, tag: &str, hw_args: &[&str]) -> Launcher {
    let dir = scratch(tag);
    let bins = dir.join("bin");
    std::fs::create_dir_all(&bins).expect("bin dir");
    let mut lines = Vec::new();
    for (kind, test_kind) in KINDS {
        std::os::unix::fs::symlink(NODE, bins.join(format!("sustainml-{kind}")))
            .expect("symlink the test node");
        let mut args = vec!["--kind", test_kind];
        if kind == "hw-resources" {
            args.extend_from_slice(hw_args);
        }
        let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
        lines.push("[[node]]".to_owned());
        lines.push(format!("kind = \"{kind}\""));
        lines.push(format!("args = [{}]", args.join(", ")));
        lines.push("restart = \"on-failure\"".to_owned());
    }
    let file = temp_file(&format!("{tag}-launch.toml"), &lines);
    let bins = bins.display().to_string();
    Launcher::start_in(domain, &dir, &file, &["--bin-dir", &bins])
}

#[test]
fn a_node_killed_mid_stream_and_restarted_leaves_no_task_running() {
    // Protects: SIGKILL of HW_RESOURCES with tasks in flight; the launcher restarts it;
    // every accepted task ends done or failed with a reason within the deadline.
    assert_isolated();
    let _one = sustainml_tests::serial();
    let domain = 180;
    // HW_RESOURCES is the slowest stage, so tasks queue in front of it.
    let launcher = launch_test_nodes(domain, "node", &["--delay-ms", "300", "--concurrency", "1"]);
    let dir = scratch("node-store");
    let bind = format!("127.0.0.1:{}", free_port());
    let orch = orchestrator(domain, &dir, &bind);
    let rest = Rest::new(&bind);
    let logs = || {
        format!(
            "launcher:\n{}\norchestrator:\n{}",
            launcher.stderr(),
            orch.stderr_text()
        )
    };
    rest.wait_ready();

    let submitter = stream(&rest);
    wait_done(&rest, 3, &logs);
    let pids = launcher.pids("hw-resources");
    assert_eq!(pids.len(), 1, "{}", launcher.stderr());
    let in_flight = rest.count("running");
    sigkill(pids[0]);
    eprintln!(
        "killed HW_RESOURCES (pid {}) with {in_flight} task(s) running",
        pids[0]
    );
    assert!(in_flight > 0, "the kill must come mid-stream");

    // The launcher restarts it (on-failure).
    let deadline = Instant::now() + WAIT;
    while launcher.pids("hw-resources").len() < 2 {
        assert!(
            Instant::now() < deadline,
            "not restarted:\n{}",
            launcher.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let submitted = submitter.join().expect("the submitter");
    let accepted: Vec<TaskId> = submitted
        .iter()
        .map(|r| {
            r.clone()
                .unwrap_or_else(|e| panic!("a submission was refused: {e}"))
        })
        .collect();
    assert_eq!(accepted.len(), TASKS as usize);
    rest.wait_all_ended(&accepted, Duration::from_secs(DEADLINE_S) + WAIT, &logs);
    let (done, failed) = assert_every_task_ended(&rest, &accepted);
    eprintln!("{done} task(s) done, {failed} failed with a reason");
}

#[test]
fn an_orchestrator_killed_mid_stream_reloads_every_running_task() {
    // Protects: SIGKILL of the orchestrator with tasks in flight, restarted on its data
    // directory: every task that was running is reloaded and ends done or failed with
    // a reason; cancel works on a reloaded task.
    assert_isolated();
    let _one = sustainml_tests::serial();
    let domain = 181;
    // CARBON_FOOTPRINT is the slowest stage; HW_RESOURCES never finishes problem 2.
    let nodes: Vec<Peer> = KINDS
        .iter()
        .map(|(_, kind)| {
            let mut args = vec!["--kind", kind];
            match *kind {
                "carbon_footprint" => args.extend(["--delay-ms", "300", "--concurrency", "1"]),
                "hw_resources" => args.extend(["--hang-problem", "2", "--concurrency", "2"]),
                _ => {}
            }
            Peer::spawn(kind, Path::new(NODE), &args, domain, &[])
        })
        .collect();
    let node_logs = || {
        nodes
            .iter()
            .map(Peer::stderr_text)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let dir = scratch("orchestrator-store");
    let bind = format!("127.0.0.1:{}", free_port());
    let first = orchestrator(domain, &dir, &bind);
    let rest = Rest::new(&bind);
    rest.wait_ready();

    let submitter = stream(&rest);
    wait_done(&rest, 3, &node_logs);
    let running = rest.count("running");
    sigkill(first.pid());
    let (_, _, first_log) = first.outcome(WAIT);
    eprintln!("killed the orchestrator with {running} task(s) running");
    assert!(running > 0, "the kill must come mid-stream");

    // Restarted on the same directory (and address): the stream goes on against it.
    let second = orchestrator(domain, &dir, &bind);
    // Logged before it listens; read until it is there.
    let mut log = String::new();
    let deadline = Instant::now() + WAIT;
    while !log.contains("optimisation runs:") {
        assert!(Instant::now() < deadline, "no reload line in:\n{log}");
        log.push_str(&second.stderr_text());
    }
    let reloaded: usize = log
        .split("reloaded ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no reload line in:\n{log}"));
    assert!(
        log.contains(" running task(s) from the store: 0 failed as expired"),
        "{log}"
    );
    assert!(reloaded >= 1, "{log}");
    let logs = || {
        format!(
            "first orchestrator:\n{first_log}\nsecond:\n{log}{}\nnodes:\n{}",
            second.stderr_text(),
            node_logs()
        )
    };
    // Problem 2 hangs on HW_RESOURCES: running before the kill, it is cancelled now.
    let cancel: Value = rest
        .agent
        .post(&format!("{}/tasks/2/1/cancel", rest.url))
        .call()
        .expect("cancel 2.1")
        .into_json()
        .expect("JSON");
    assert_eq!(cancel["cancelled"], true, "{cancel}\n{}", logs());
    let t = rest.get("/tasks/2/1").expect("task 2.1");
    assert_eq!(
        (&t["state"], &t["reason"]),
        (&json!("failed"), &json!("cancelled"))
    );

    let submitted = submitter.join().expect("the submitter");
    let accepted: Vec<TaskId> = submitted.iter().filter_map(|r| r.clone().ok()).collect();
    let refused = submitted.len() - accepted.len();
    rest.wait_all_ended(&accepted, Duration::from_secs(DEADLINE_S) + WAIT, &logs);
    let (done, failed) = assert_every_task_ended(&rest, &accepted);
    eprintln!(
        "{reloaded} task(s) reloaded; {} accepted ({refused} refused while down): {done} done, \
         {failed} failed with a reason",
        accepted.len()
    );
}
