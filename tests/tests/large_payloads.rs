//! Protects large model transfer: MLModelImpl samples whose raw_model is 1 MB, 16 MB
//! and 64 MB travel between two of our processes intact, repeatedly; and a Fast DDS
//! reader still gets an ordinary MLModelImpl (no inline bytes, a descriptor in valid
//! extra_data JSON) for such a model.

use std::path::Path;
use std::time::Duration;

use sustainml_tests::{assert_isolated, fastdds_peer, Peer};
use sustainml_types::{codec, MLModelImpl};

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");
const MB: usize = 1 << 20;

#[test]
fn models_of_1_16_and_64_mb_arrive_intact_three_times() {
    assert_isolated();
    let domain = 41;
    let recv = Peer::spawn(
        "models-recv",
        Path::new(PEER),
        &["models-recv", "--expect", "9", "--timeout", "300"],
        domain,
        &[],
    );
    recv.expect_line("READY", Duration::from_secs(20));
    let sizes = format!("{},{},{}", MB, 16 * MB, 64 * MB);
    let send = Peer::spawn(
        "models-send",
        Path::new(PEER),
        &[
            "models-send",
            "--sizes",
            &sizes,
            "--repeat",
            "3",
            "--linger",
            "900",
        ],
        domain,
        &[],
    );
    // The sender stays up until the receiver has every model, as a real node does: it
    // serves the raw_model bytes, and rustdds drops the samples a reader has not taken
    // yet when their writer leaves (README, "Known limitations").
    let lines = recv.finish(Duration::from_secs(300));
    drop(send);
    let models: Vec<Vec<&str>> = lines
        .iter()
        .filter(|l| l.starts_with("model "))
        .map(|l| l.split(' ').collect())
        .collect();
    assert_eq!(models.len(), 9, "{lines:?}");
    for m in &models {
        assert_eq!(m[3], "ok", "{m:?}");
    }
    for size in [MB, 16 * MB, 64 * MB] {
        let n = models.iter().filter(|m| m[2] == size.to_string()).count();
        assert_eq!(n, 3, "three models of {size} bytes");
    }
}

#[test]
fn a_fastdds_reader_gets_an_ordinary_model_with_a_descriptor() {
    assert_isolated();
    let domain = 42;
    let sub = Peer::spawn(
        "fastdds sub",
        &fastdds_peer(),
        &[
            "sub",
            "--topics",
            "/sustainml/ml_model_provider/output",
            "--expect",
            "1",
        ],
        domain,
        &[],
    );
    sub.expect_line("READY", Duration::from_secs(20));
    let send = Peer::spawn(
        "models-send",
        Path::new(PEER),
        &["models-send", "--sizes", &MB.to_string(), "--linger", "1"],
        domain,
        &[],
    );
    let lines = sub.finish(Duration::from_secs(60));
    send.finish(Duration::from_secs(60));
    let hex = lines
        .iter()
        .find_map(|l| l.strip_prefix("/sustainml/ml_model_provider/output "))
        .expect("a model");
    let model: MLModelImpl = codec::decode(&hex::decode(hex).expect("hex")).expect("decode");
    assert!(model.raw_model.is_empty(), "the bytes travel beside DDS");
    assert_eq!(model.model, format!("model-{MB}"));
    let extra: serde_json::Value =
        serde_json::from_slice(&model.extra_data).expect("extra_data is JSON");
    assert_eq!(extra["size"], MB, "the original members are kept");
    assert_eq!(extra["sustainml_rs_raw_model"]["size"], MB);
}
