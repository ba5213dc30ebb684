//! Protects the configuration service between our processes: a request reaches the
//! node it names and comes back with that node's answer; a request for a node that
//! does not answer, or when no node serves requests at all, fails at its timeout with
//! an error saying which, instead of hanging.

use std::path::Path;
use std::time::Duration;

use sustainml_tests::{assert_isolated, response_of, Peer};

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");

fn request(domain: u16, node: &str, timeout: &str) -> (bool, Vec<String>, String) {
    Peer::spawn(
        "request",
        Path::new(PEER),
        &[
            "request",
            "--node-id",
            node,
            "--configuration",
            "model_from_goal, image-classification",
            "--timeout",
            timeout,
        ],
        domain,
        &[],
    )
    .outcome(Duration::from_secs(60))
}

#[test]
fn a_request_is_answered_by_the_node_it_names() {
    assert_isolated();
    let domain = 61;
    let replier = Peer::spawn(
        "reply",
        Path::new(PEER),
        &["reply", "--node-id", "5"],
        domain,
        &[],
    );
    replier.expect_line("READY", Duration::from_secs(20));
    let other = Peer::spawn(
        "reply other",
        Path::new(PEER),
        &["reply", "--node-id", "4", "--timeout", "8"],
        domain,
        &[],
    );
    other.expect_line("READY", Duration::from_secs(20));
    let (ok, lines, stderr) = request(domain, "5", "20");
    assert!(ok, "{stderr}");
    let response = response_of(&lines);
    assert_eq!(response.node_id, 5);
    assert!(response.success);
    assert_eq!(
        response.configuration,
        "rust-echo: model_from_goal, image-classification"
    );
    replier.finish(Duration::from_secs(30));
    let (other_ok, _, _) = other.outcome(Duration::from_secs(30));
    assert!(
        !other_ok,
        "node 4 never saw a request for node 5 (it timed out)"
    );
}

#[test]
fn a_request_to_a_silent_node_times_out_with_a_clear_error() {
    assert_isolated();
    let domain = 62;
    let replier = Peer::spawn(
        "reply",
        Path::new(PEER),
        &["reply", "--node-id", "4", "--timeout", "10"],
        domain,
        &[],
    );
    replier.expect_line("READY", Duration::from_secs(20));
    let (ok, _, stderr) = request(domain, "3", "2");
    assert!(!ok);
    assert!(
        stderr.contains("node 3 did not answer transaction"),
        "{stderr}"
    );
}

#[test]
fn a_request_without_any_service_fails_at_its_timeout() {
    assert_isolated();
    let (ok, _, stderr) = request(63, "4", "1");
    assert!(!ok);
    assert!(
        stderr.contains("no configuration service found for node 4"),
        "{stderr}"
    );
}
