//! Protects `sustainml topic list|hz|pub` across processes: `list` shows the writers
//! and readers DDS discovery sees now (a live node's status writer, its control
//! reader); `hz` prints the rate of a topic another process feeds; `pub` turns JSON
//! into a sample a subscriber receives, refuses JSON that does not fit the type (exit
//! 2, naming the line or field), and fails without a reader (exit 1); an unknown topic
//! is exit 2.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use sustainml_tests::{assert_isolated, workspace_bin, Peer};

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");
const NODE: &str = env!("CARGO_BIN_EXE_sustainml-test-node");

fn sustainml() -> PathBuf {
    workspace_bin("sustainml")
}

fn run_with(domain: u16, args: &[&str], stdin: &str) -> (i32, String, String) {
    sustainml_tests::run_sustainml(domain, args, stdin)
}

fn run(domain: u16, args: &[&str]) -> (i32, String, String) {
    run_with(domain, args, "")
}

/// The `topic list --json` row of `topic`.
fn row<'a>(rows: &'a [Value], topic: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["topic"] == topic)
        .unwrap_or_else(|| panic!("no row for {topic} in {rows:?}"))
}

#[test]
fn list_shows_a_live_nodes_writers_and_readers() {
    assert_isolated();
    let d = 182;
    let _node = Peer::spawn(
        "app_requirements",
        Path::new(NODE),
        &["--kind", "app_requirements"],
        d,
        &[],
    );
    // The node is live once it has answered a command.
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
    let (code, out, err) = run(d, &["topic", "list", "--json", "--wait", "3"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(
        rows.len(),
        14,
        "only the SustainML topics are on the domain: {out}"
    );
    let status = row(&rows, "/sustainml/status");
    assert_eq!(status["type"], "NodeStatusImpl");
    // The node's two status writers: its state and its tasks'.
    assert_eq!(status["writers"], 2, "{out}");
    assert_eq!(row(&rows, "/sustainml/control")["readers"], 1, "{out}");
    assert_eq!(row(&rows, "/sustainml/user_input")["readers"], 1, "{out}");
    assert_eq!(
        row(&rows, "/sustainml/app_requirements/output")["writers"],
        1,
        "{out}"
    );
    assert_eq!(
        row(&rows, "/sustainml/hw_resources/output")["writers"],
        0,
        "{out}"
    );
    // The table form says the same, one line per topic.
    let (code, out, err) = run(d, &["topic", "list", "--wait", "3"]);
    assert_eq!(code, 0, "{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with("/sustainml/status "))
        .unwrap_or_else(|| panic!("no status line in {out}"));
    assert!(
        line.contains("NodeStatusImpl") && line.contains("2 writers"),
        "{line}"
    );
}

#[test]
fn hz_prints_the_rate_of_a_fed_topic() {
    assert_isolated();
    let d = 183;
    let hz = Peer::spawn(
        "hz",
        &sustainml(),
        &[
            "topic",
            "hz",
            "/sustainml/user_input",
            "--window",
            "20",
            "--duration",
            "6",
        ],
        d,
        &[],
    );
    // 20 samples a second, from when the hz reader is matched, for longer than hz runs.
    let _feed = Peer::spawn(
        "flood",
        Path::new(PEER),
        &[
            "flood",
            "--topics",
            "/sustainml/user_input",
            "--count",
            "1000",
            "--rate",
            "20",
        ],
        d,
        &[],
    );
    let (ok, lines, err) = hz.outcome(Duration::from_secs(60));
    assert!(ok, "{err}");
    let rates: Vec<f64> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("average rate: "))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect();
    assert!(!rates.is_empty(), "no rate line in {lines:?}\n{err}");
    let last = rates[rates.len() - 1];
    assert!(
        (5.0..80.0).contains(&last),
        "20 Hz measured as {last}: {lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("min: ") && l.contains("std dev: ")),
        "{lines:?}"
    );
}

#[test]
fn pub_reaches_a_subscriber() {
    assert_isolated();
    let d = 184;
    let echo = Peer::spawn(
        "echo",
        &sustainml(),
        &[
            "topic",
            "echo",
            "/sustainml/user_input",
            "--json",
            "--count",
            "1",
            "--timeout",
            "60",
        ],
        d,
        &[],
    );
    let sample = r#"{
        "modality": "images",
        "inputs": ["image"],
        "minimum_samples": 10,
        "extra_data": {"hardware_required": "PIM_AI_1chip"},
        "task_id": {"problem_id": 7, "iteration_id": 1}
    }"#;
    // From stdin; pub waits for the echo's reader and its acknowledgment.
    let (code, out, err) = run_with(
        d,
        &["topic", "pub", "/sustainml/user_input", "-", "--wait", "30"],
        sample,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("published on /sustainml/user_input (1 reader acknowledged)"),
        "{out}"
    );
    let lines = echo.finish(Duration::from_secs(60));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let got: Value = serde_json::from_str(&lines[0]).expect("JSON");
    assert_eq!(got["modality"], "images");
    assert_eq!(got["inputs"][0], "image");
    assert_eq!(got["minimum_samples"], 10);
    assert_eq!(got["extra_data"]["hardware_required"], "PIM_AI_1chip");
    assert_eq!(got["task_id"]["problem_id"], 7);
    assert_eq!(
        got["problem_definition"], "",
        "a field left out keeps its default"
    );
}

#[test]
fn pub_without_a_reader_fails() {
    assert_isolated();
    let (code, out, err) = run(
        185,
        &[
            "topic",
            "pub",
            "/sustainml/user_input",
            r#"{"modality": "images"}"#,
            "--wait",
            "1",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("no reader of /sustainml/user_input matched within 1 s"),
        "{err}"
    );
}

#[test]
fn pub_refuses_json_that_does_not_fit() {
    assert_isolated();
    let d = 186;
    let topic = "/sustainml/user_input";
    let (code, _, err) = run(
        d,
        &["topic", "pub", topic, "{\"modality\":\n  \"images\",,}"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("not valid JSON") && err.contains("line 2 column"),
        "{err}"
    );
    let (code, _, err) = run(d, &["topic", "pub", topic, r#"{"modalty": "images"}"#]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("UserInputImpl has no field `modalty`") && err.contains("modality"),
        "{err}"
    );
    let (code, _, err) = run(d, &["topic", "pub", topic, r#"{"minimum_samples": -3}"#]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("UserInputImpl.minimum_samples"), "{err}");
}

#[test]
fn unknown_topics_are_usage_errors() {
    assert_isolated();
    let d = 187;
    for args in [
        &["topic", "pub", "/sustainml/nope", "{}"][..],
        &["topic", "hz", "/sustainml/nope", "--duration", "1"][..],
    ] {
        let (code, _, err) = run(d, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains("unknown topic `/sustainml/nope`") && err.contains("/sustainml/status"),
            "{err}"
        );
    }
    // echo --type: a type outside the table, or one a SustainML topic does not carry.
    let (code, _, err) = run(d, &["topic", "echo", "/myorg/x", "--type", "FooImpl"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown type `FooImpl`") && err.contains("CO2FootprintImpl"),
        "{err}"
    );
    let (code, _, err) = run(
        d,
        &[
            "topic",
            "echo",
            "/sustainml/status",
            "--type",
            "UserInputImpl",
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("topic `/sustainml/status` carries NodeStatusImpl, not UserInputImpl"),
        "{err}"
    );
}
