//! Protects `sustainml node control NODE stop|start|reset|terminate` across processes:
//! the command reaches a real node over DDS and the CLI prints the node-wide state the
//! node reports (INACTIVE after stop, and tasks wait until start; IDLE after reset;
//! TERMINATING and the node exits after terminate); an absent node is exit 2 naming
//! the live ones, a bad action exit 2.

use std::path::Path;
use std::time::Duration;

use sustainml_tests::{assert_isolated, Peer};

const NODE: &str = env!("CARGO_BIN_EXE_sustainml-test-node");

fn run_with(domain: u16, args: &[&str], stdin: &str) -> (i32, String, String) {
    sustainml_tests::run_sustainml(domain, args, stdin)
}

fn run(domain: u16, args: &[&str]) -> (i32, String, String) {
    run_with(domain, args, "")
}

fn app_requirements(domain: u16) -> Peer {
    Peer::spawn(
        "app_requirements",
        Path::new(NODE),
        &["--kind", "app_requirements"],
        domain,
        &[],
    )
}

#[test]
fn stop_then_start_pauses_and_resumes_the_node() {
    assert_isolated();
    let d = 190;
    let _node = app_requirements(d);
    let (code, out, err) = run(
        d,
        &[
            "node",
            "control",
            "APP_REQUIREMENTS_NODE",
            "stop",
            "--wait",
            "30",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(
            "APP_REQUIREMENTS_NODE: NODE_INACTIVE (stopped by STOP_NODE from sustainml-cli-"
        ),
        "{out}"
    );
    // A task given to the stopped node waits (the node has acknowledged the input).
    let input = r#"{"modality": "images", "task_id": {"problem_id": 4, "iteration_id": 1}}"#;
    let (code, _, err) = run_with(
        d,
        &["topic", "pub", "/sustainml/user_input", "-", "--wait", "30"],
        input,
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(d, &["node", "list", "--json", "--wait", "3"]);
    assert_eq!(code, 0, "{err}");
    let listed: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(listed["status"], "NODE_INACTIVE", "{out}");
    assert!(
        listed["last_task"].is_null(),
        "a stopped node ran a task: {out}"
    );
    // The short kind names the node too; start gives it back its tasks.
    let (code, out, err) = run(
        d,
        &[
            "node",
            "control",
            "app-requirements",
            "start",
            "--json",
            "--wait",
            "30",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let state: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(state["node"], "APP_REQUIREMENTS_NODE", "{out}");
    assert!(
        state["status"] == "NODE_IDLE" || state["status"] == "NODE_RUNNING",
        "{out}"
    );
    let (code, out, err) = run(
        d,
        &[
            "topic",
            "echo",
            "/sustainml/app_requirements/output",
            "--json",
            "--count",
            "1",
            "--timeout",
            "30",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let output: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(output["task_id"]["problem_id"], 4, "{out}");
}

#[test]
fn reset_reports_the_state_after_it_and_terminate_ends_the_node() {
    assert_isolated();
    let d = 191;
    let node = app_requirements(d);
    let (code, out, err) = run(
        d,
        &[
            "node",
            "control",
            "app_requirements",
            "reset",
            "--wait",
            "30",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "APP_REQUIREMENTS_NODE: NODE_IDLE", "{out}");
    let (code, out, err) = run(
        d,
        &[
            "node",
            "control",
            "APP_REQUIREMENTS_NODE",
            "terminate",
            "--wait",
            "30",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("APP_REQUIREMENTS_NODE: NODE_TERMINATING"),
        "{out}"
    );
    let (ok, _, stderr) = node.outcome(Duration::from_secs(30));
    assert!(
        ok,
        "the node did not exit cleanly after TERMINATE_NODE:\n{stderr}"
    );
}

#[test]
fn an_absent_node_is_exit_2_naming_the_live_ones() {
    assert_isolated();
    let d = 192;
    let (code, _, err) = run(d, &["node", "control", "ml-model", "stop", "--wait", "1"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no node `ml-model` heard on DDS domain 192")
            && err.contains("no node status heard"),
        "{err}"
    );
    let _node = app_requirements(d);
    // Once the node has answered a command, it is live for the next one too.
    let (code, _, err) = run(
        d,
        &[
            "node",
            "control",
            "app-requirements",
            "start",
            "--wait",
            "30",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(d, &["node", "control", "ml-model", "stop", "--wait", "5"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("live nodes: APP_REQUIREMENTS_NODE"), "{err}");
}

#[test]
fn a_bad_action_is_a_usage_error() {
    assert_isolated();
    let (code, _, err) = run(193, &["node", "control", "APP_REQUIREMENTS_NODE", "pause"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("pause") && err.contains("stop, start, reset, terminate"),
        "{err}"
    );
}
