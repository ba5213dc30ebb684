//! Protects the `sustainml task|config|doctor` commands across processes: a problem
//! file submitted with `--wait` runs through the orchestrator and six nodes and its
//! result is printed with the documented exit codes, tasks are listed and shown,
//! nodes are queried and configured over DDS, bad input is exit 2 with one clear
//! line, an unreachable orchestrator is exit 1 with one line, and `doctor` reports
//! the domain and the loopback interface. Domains 160-169.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sustainml_node::NodeKind;
use sustainml_tests::{assert_isolated, repo_root, workspace_bin, Peer};

const NODE: &str = env!("CARGO_BIN_EXE_sustainml-test-node");
const WAIT: Duration = Duration::from_secs(60);

/// What `sustainml` did: exit code, stdout, stderr.
struct Outcome {
    code: i32,
    out: String,
    err: String,
}

/// Runs `sustainml args…` to completion on `domain`, with `stdin` if given.
fn sustainml(domain: u16, env: &[(&str, &str)], args: &[&str], stdin: Option<&str>) -> Outcome {
    let mut cmd = Command::new(workspace_bin("sustainml"));
    cmd.args(args)
        .env("SUSTAINML_DOMAIN_ID", domain.to_string())
        .env_remove("SUSTAINML_ORCHESTRATOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start sustainml");
    if let Some(mut pipe) = child.stdin.take() {
        // A command that does not read stdin may exit first: a broken pipe is fine.
        let _ = pipe.write_all(stdin.unwrap_or_default().as_bytes());
    }
    let out = child.wait_with_output().expect("run sustainml");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// An orchestrator and six test nodes on `domain`, killed when dropped.
struct Graph {
    url: String,
    _orchestrator: Peer,
    _nodes: Vec<Peer>,
}

impl Graph {
    /// The carbon node fails problem 2 and never finishes problem 3.
    fn start(domain: u16) -> Self {
        let nodes = NodeKind::ALL
            .iter()
            .map(|k| {
                let mut args = vec!["--kind", k.node_name()];
                if k.node_name() == "CARBON_FOOTPRINT_NODE" {
                    args.extend(["--fail-problem", "2", "--hang-problem", "3"]);
                }
                Peer::spawn(k.node_name(), Path::new(NODE), &args, domain, &[])
            })
            .collect();
        let dir = data_dir(domain);
        let bind = format!("127.0.0.1:{}", free_port());
        let args = [
            "--bind",
            &bind,
            "--data-dir",
            dir.to_str().expect("path"),
            "--domain",
            &domain.to_string(),
        ];
        let program = workspace_bin("sustainml-orchestrator");
        let orchestrator = Peer::spawn("orchestrator", &program, &args, domain, &[]);
        orchestrator.expect_line(&format!("listening on http://{bind}"), WAIT);
        let graph = Self {
            url: format!("http://{bind}"),
            _orchestrator: orchestrator,
            _nodes: nodes,
        };
        graph.wait_ready();
        graph
    }

    fn wait_ready(&self) {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(10))
            .build();
        let deadline = Instant::now() + WAIT;
        while agent.get(&format!("{}/ready", self.url)).call().is_err() {
            assert!(Instant::now() < deadline, "the graph never became ready");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn data_dir(domain: u16) -> PathBuf {
    let dir = repo_root().join(format!(
        "target/test-data/cli-task-{}-{domain}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

#[test]
fn tasks_run_list_show_and_nodes_answer_configuration() {
    // Protects: submit --wait prints the result with exit 0 (done) or 1 (failed,
    // --timeout), list/show find the tasks, config get/set talk to the nodes over DDS.
    assert_isolated();
    let domain = 160;
    let graph = Graph::start(domain);
    let env = [("SUSTAINML_ORCHESTRATOR", graph.url.as_str())];
    let toml = repo_root().join("scripts/sample-problem.toml");
    let toml = toml.to_str().expect("path");

    let done = sustainml(domain, &env, &["task", "submit", toml, "--wait"], None);
    assert_eq!(done.code, 0, "{}\n{}", done.out, done.err);
    assert!(done.out.starts_with("task 1.1: done"), "{}", done.out);
    assert!(
        done.out
            .contains("ML_MODEL           model: ML_MODEL_NODE@1.1"),
        "{}",
        done.out
    );
    assert!(
        done.out.contains("carbon footprint 10 kgCO2e"),
        "{}",
        done.out
    );
    assert!(done.err.contains("CARBON_FOOTPRINT: done"), "{}", done.err);

    // JSON on stdin; the carbon node refuses problem 2.
    let sample = std::fs::read_to_string(repo_root().join("scripts/sample-problem.json"))
        .expect("the JSON sample");
    let failed = sustainml(
        domain,
        &[],
        &[
            "task",
            "submit",
            "-",
            "--wait",
            "--json",
            "--orchestrator",
            &graph.url,
        ],
        Some(&sample),
    );
    assert_eq!(failed.code, 1, "{}\n{}", failed.out, failed.err);
    let task = json(&failed.out);
    assert_eq!(task["state"], "failed", "{task}");
    assert!(failed.err.contains("task 2.1 failed"), "{}", failed.err);

    // Problem 3 never finishes: --timeout gives up, saying so.
    let late = sustainml(
        domain,
        &env,
        &["task", "submit", toml, "--wait", "--timeout", "2"],
        None,
    );
    assert_eq!(late.code, 1, "{}\n{}", late.out, late.err);
    assert!(
        late.err
            .contains("task 3.1 still running after 2 s (--timeout)"),
        "{}",
        late.err
    );

    let list = sustainml(domain, &env, &["task", "list"], None);
    assert_eq!(list.code, 0, "{}", list.err);
    assert!(list.out.starts_with("TASK"), "{}", list.out);
    for row in ["1.1        done", "2.1        failed", "3.1        running"] {
        assert!(list.out.contains(row), "no {row:?} in:\n{}", list.out);
    }
    let listed = json(&sustainml(domain, &env, &["task", "list", "--json"], None).out);
    assert_eq!(listed.as_array().map(Vec::len), Some(3), "{listed}");

    let shown = sustainml(domain, &env, &["task", "show", "1.1", "--json"], None);
    assert_eq!(shown.code, 0, "{}", shown.err);
    let task = json(&shown.out);
    assert_eq!(task["state"], "done");
    assert_eq!(
        task["outputs"].as_object().map(|o| o.len()),
        Some(6),
        "{task}"
    );
    let latest = sustainml(domain, &env, &["task", "show", "2"], None);
    assert_eq!(latest.code, 0, "{}", latest.err);
    assert!(latest.out.contains("task 2.1: failed"), "{}", latest.out);

    let unknown = sustainml(domain, &env, &["task", "show", "9.9"], None);
    assert_eq!(unknown.code, 2, "{}", unknown.err);
    assert_eq!(unknown.err.trim(), "sustainml: no task 9.9");

    // The hanging task is cancelled; cancelling a finished one changes nothing.
    let cancel = sustainml(domain, &env, &["task", "cancel", "3.1"], None);
    assert_eq!(cancel.code, 0, "{}", cancel.err);
    assert_eq!(cancel.out.trim(), "task 3.1 cancelled");
    let shown = json(&sustainml(domain, &env, &["task", "show", "3.1", "--json"], None).out);
    assert_eq!(shown["state"], "failed", "{shown}");
    assert_eq!(shown["reason"], "cancelled", "{shown}");
    let again = sustainml(domain, &env, &["task", "cancel", "1.1"], None);
    assert_eq!(again.code, 0, "{}", again.err);
    assert!(again.out.contains("not running"), "{}", again.out);
    let bare = sustainml(domain, &env, &["task", "cancel", "3"], None);
    assert_eq!(bare.code, 2, "{}", bare.err);

    let answer = sustainml(
        domain,
        &[],
        &["config", "get", "hw-resources", "hardwares"],
        None,
    );
    assert_eq!(answer.code, 0, "{}", answer.err);
    let v = json(&answer.out);
    assert_eq!(v["node"], "HW_RESOURCES_NODE", "{v}");
    assert_eq!(v["request"], "hardwares");
    let set = sustainml(
        domain,
        &[],
        &["config", "set", "5", r#"{"model": "x"}"#, "--json"],
        None,
    );
    assert_eq!(set.code, 0, "{}", set.err);
    let v = json(&set.out);
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["configuration"]["node"], "ML_MODEL_NODE", "{v}");
    let refused = sustainml(
        domain,
        &[],
        &["config", "get", "ML_MODEL_METADATA_NODE", "fail"],
        None,
    );
    assert_eq!(refused.code, 1, "{}", refused.out);
    assert!(
        refused.err.contains("ML_MODEL_METADATA_NODE refused"),
        "{}",
        refused.err
    );

    let doctor = sustainml(domain, &[], &["doctor", "--json", "--wait", "3"], None);
    assert_eq!(doctor.code, 0, "{}\n{}", doctor.out, doctor.err);
    let report = json(&doctor.out);
    assert_eq!(report["domain"], domain);
    let checks = report["checks"].as_array().expect("checks");
    let ports = checks
        .iter()
        .find(|c| c["name"] == "udp ports")
        .expect("a port check");
    assert!(
        ports["data"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["role"] == "discovery multicast")),
        "the graph's discovery port is in use: {ports}"
    );
}

#[test]
fn an_unreachable_orchestrator_is_one_line_and_exit_1() {
    // Protects: with no orchestrator, task commands say where they looked and how to start one.
    let url = format!("http://127.0.0.1:{}", free_port());
    let env = [("SUSTAINML_ORCHESTRATOR", url.as_str())];
    for args in [
        vec!["task", "list"],
        vec!["task", "show", "1.1"],
        vec!["task", "submit", "-"],
    ] {
        let o = sustainml(162, &env, &args, Some("{}"));
        assert_eq!(o.code, 1, "{args:?}: {}", o.err);
        assert_eq!(o.err.trim().lines().count(), 1, "{args:?}: {}", o.err);
        assert!(
            o.err
                .contains(&format!("cannot reach the orchestrator at {url}"))
                && o.err
                    .contains("is it running? (sustainml launch launch/local.toml)"),
            "{args:?}: {}",
            o.err
        );
    }
}

#[test]
fn bad_input_is_one_clear_line_and_exit_2() {
    // Protects: malformed ids, unknown nodes, bad JSON and bad problem files are usage errors naming what was wrong.
    let cases: [(&[&str], Option<&str>, &str); 6] = [
        (&["task", "show", "x.1"], None, "bad task id `x.1`"),
        (&["task", "show", "1.y"], None, "bad task id `1.y`"),
        (
            &["config", "get", "ml-modle", "x"],
            None,
            "unknown node `ml-modle`; the nodes are: app_requirements (0)",
        ),
        (
            &["config", "set", "ml_model", r#"{"a": }"#],
            None,
            "not valid JSON: expected value at line 1 column 7",
        ),
        (&["task", "submit", "-"], Some("{\"a\": "), "not valid JSON"),
        (&["task", "submit", "problem.yaml"], None, ".toml or .json"),
    ];
    for (args, stdin, expected) in cases {
        let o = sustainml(163, &[], args, stdin);
        assert_eq!(o.code, 2, "{args:?}: {}", o.err);
        assert_eq!(o.err.trim().lines().count(), 1, "{args:?}: {}", o.err);
        assert!(o.err.contains(expected), "{args:?}: {}", o.err);
    }
    let file = repo_root().join(format!(
        "target/test-data/{}-bad-problem.toml",
        std::process::id()
    ));
    std::fs::create_dir_all(file.parent().expect("dir")).expect("test-data dir");
    std::fs::write(&file, "modality = \"image\"\ninputs = [\"a\",\n").expect("write");
    let o = sustainml(
        163,
        &[],
        &["task", "submit", file.to_str().expect("path")],
        None,
    );
    assert_eq!(o.code, 2, "{}", o.err);
    assert!(o.err.contains("not valid TOML at line"), "{}", o.err);
}

#[test]
fn config_without_the_node_names_it_and_the_timeout() {
    // Protects: a configuration request nobody answers ends at --timeout with one line, exit 1.
    assert_isolated();
    let o = sustainml(
        164,
        &[],
        &["config", "get", "carbon_footprint", "x", "--timeout", "1"],
        None,
    );
    assert_eq!(o.code, 1, "{}", o.err);
    assert_eq!(o.err.trim().lines().count(), 1, "{}", o.err);
    assert!(
        o.err.contains("CARBON_FOOTPRINT_NODE (node 1)") && o.err.contains("within 1 s"),
        "{}",
        o.err
    );
}

#[test]
fn doctor_reports_the_domain_and_loopback() {
    // Protects: doctor lists the domain and its ports and the loopback interface; a bad domain fails it (exit 1).
    assert_isolated();
    let o = sustainml(165, &[], &["doctor", "--wait", "1"], None);
    assert_eq!(o.code, 0, "{}\n{}", o.out, o.err);
    assert!(
        o.out
            .contains("domain           165 (from SUSTAINML_DOMAIN_ID)")
            && o.out.contains("239.255.0.1:48650"),
        "{}",
        o.out
    );
    assert!(
        o.out
            .contains("interface lo     up, MULTICAST, loopback: 127.0.0.1"),
        "{}",
        o.out
    );
    assert!(o.out.contains("warn  nodes"), "{}", o.out);
    let bad = sustainml(165, &[("SUSTAINML_DOMAIN_ID", "abc")], &["doctor"], None);
    assert_eq!(bad.code, 1, "{}", bad.out);
    assert!(bad.out.contains("FAIL  domain"), "{}", bad.out);
}
