//! Protects interoperability with the reference's DDS stack: a real Fast DDS 2.9
//! process and our process exchange all 12 SustainML topics with 20 task ids each, in
//! both directions, with every payload byte-identical after the trip; and a
//! configuration request/response works each way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use sustainml_tests::{assert_isolated, fastdds_peer, response_of, sample_line, temp_file, Peer};
use sustainml_types::topics::*;
use sustainml_types::{samples, TaskData};

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");
const TASKS: u32 = 20;

fn line<T: TaskData>(topic: TopicInfo, value: T, k: u32) -> String {
    sample_line(topic, value, k, 1 + k % 3)
}

/// 20 distinct samples on each of the 12 topics, as `TOPIC HEX` lines.
fn all_topic_lines() -> Vec<String> {
    let mut lines = Vec::new();
    for k in 1..=TASKS {
        let mut status = samples::node_status();
        status.error_description = format!("status of task {k}");
        let mut control = samples::node_control();
        control.target_node = format!("NODE_{k}");
        let mut model = samples::ml_model();
        model.raw_model.truncate(k as usize * 7);
        lines.push(line(USER_INPUT, samples::user_input(), k));
        lines.push(line(
            APP_REQUIREMENTS_OUTPUT,
            samples::app_requirements(),
            k,
        ));
        lines.push(line(HW_CONSTRAINTS_OUTPUT, samples::hw_constraints(), k));
        lines.push(line(
            ML_MODEL_METADATA_OUTPUT,
            samples::ml_model_metadata(),
            k,
        ));
        lines.push(line(ML_MODEL_OUTPUT, model.clone(), k));
        lines.push(line(HW_RESOURCES_OUTPUT, samples::hw_resource(), k));
        lines.push(line(CARBON_FOOTPRINT_OUTPUT, samples::co2_footprint(), k));
        lines.push(line(ML_MODEL_BASELINE, model, k));
        lines.push(line(HW_RESOURCES_BASELINE, samples::hw_resource(), k));
        lines.push(line(CARBON_FOOTPRINT_BASELINE, samples::co2_footprint(), k));
        lines.push(line(STATUS, status, k));
        lines.push(line(CONTROL, control, k));
    }
    lines
}

fn by_topic(lines: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.starts_with('/')) {
        let (topic, hex) = l.split_once(' ').expect("TOPIC HEX");
        map.entry(topic.to_owned())
            .or_default()
            .insert(hex.to_owned());
    }
    map
}

fn exchange(publisher: &Path, subscriber: &Path, domain: u16) {
    let sent = all_topic_lines();
    let input = temp_file(&format!("interop-{domain}.txt"), &sent);
    let input = input.to_str().expect("utf8 path");
    let sub = Peer::spawn(
        "subscriber",
        subscriber,
        &["sub", "--expect", "20", "--timeout", "60"],
        domain,
        &[],
    );
    sub.expect_line("READY", Duration::from_secs(20));
    let publ = Peer::spawn(
        "publisher",
        publisher,
        &["pub", "--input", input, "--linger", "3"],
        domain,
        &[],
    );
    let received = sub.finish(Duration::from_secs(90));
    publ.finish(Duration::from_secs(90));
    let (sent, received) = (by_topic(&sent), by_topic(&received));
    assert_eq!(sent.len(), 12);
    for (topic, payloads) in &sent {
        assert_eq!(payloads.len(), TASKS as usize);
        assert_eq!(
            received.get(topic),
            Some(payloads),
            "{topic}: the subscriber did not get exactly the 20 payloads sent"
        );
    }
}

#[test]
fn rust_publisher_to_fastdds_subscriber_all_topics() {
    assert_isolated();
    exchange(Path::new(PEER), &fastdds_peer(), 31);
}

#[test]
fn fastdds_publisher_to_rust_subscriber_all_topics() {
    assert_isolated();
    exchange(&fastdds_peer(), Path::new(PEER), 32);
}

#[test]
fn rust_requester_to_fastdds_replier() {
    assert_isolated();
    let domain = 33;
    let replier = Peer::spawn(
        "fastdds reply",
        &fastdds_peer(),
        &["reply", "--node-id", "4"],
        domain,
        &[],
    );
    replier.expect_line("READY", Duration::from_secs(20));
    let request = Peer::spawn(
        "rust request",
        Path::new(PEER),
        &["request", "--node-id", "4", "--configuration", "modality"],
        domain,
        &[],
    );
    let response = response_of(&request.finish(Duration::from_secs(40)));
    replier.finish(Duration::from_secs(40));
    assert_eq!(response.node_id, 4);
    assert!(response.success);
    assert_eq!(response.configuration, "fastdds-echo: modality");
}

#[test]
fn fastdds_requester_to_rust_replier() {
    assert_isolated();
    let domain = 34;
    let replier = Peer::spawn(
        "rust reply",
        Path::new(PEER),
        &["reply", "--node-id", "3"],
        domain,
        &[],
    );
    replier.expect_line("READY", Duration::from_secs(20));
    let request = Peer::spawn(
        "fastdds request",
        &fastdds_peer(),
        &[
            "request",
            "--node-id",
            "3",
            "--transaction-id",
            "77",
            "--configuration",
            "hardwares",
        ],
        domain,
        &[],
    );
    let response = response_of(&request.finish(Duration::from_secs(40)));
    replier.finish(Duration::from_secs(40));
    assert_eq!((response.node_id, response.transaction_id), (3, 77));
    assert!(response.success);
    assert_eq!(response.configuration, "rust-echo: hardwares");
}
