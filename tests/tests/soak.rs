//! Protects start-up delivery across vendors: `sustainml launch launch/local.toml`
//! started at the same instant as a Cyclone DDS reader of /sustainml/status shows six
//! IDLE nodes at the orchestrator and at the reader, round after round (with a Fast
//! DDS reader too: the ignored test). Domains 200-232; rounds
//! from SUSTAINML_SOAK_ROUNDS (default 30, about 1.5 s each when clean, 31 s when
//! not); SUSTAINML_SOAK_RTI=1 adds an RTI Connext reader.

use std::time::{Duration, Instant};

use sustainml_tests::delivery::{run_round, vendor_python, RoundConfig, LOCAL_REST};
use sustainml_tests::{assert_isolated, fastdds_peer, repo_root, workspace_bin};

const FIRST_DOMAIN: u16 = 200;
const DOMAINS: u16 = 33;

fn rounds() -> usize {
    match std::env::var("SUSTAINML_SOAK_ROUNDS") {
        Err(_) => 30,
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("SUSTAINML_SOAK_ROUNDS must be a count, not {v:?}")),
    }
}

/// Which foreign readers start beside the graph.
#[derive(Clone, Copy)]
enum Vendors {
    /// A Cyclone DDS reader.
    Cyclone,
    /// A Fast DDS and a Cyclone DDS reader.
    Both,
}

fn config(fastdds: bool, cyclone: bool) -> RoundConfig {
    RoundConfig {
        sustainml: workspace_bin("sustainml"),
        launch_file: repo_root().join("launch/local.toml"),
        fastdds_peer: fastdds_peer(),
        python: vendor_python(),
        fastdds,
        cyclone,
        rti: std::env::var("SUSTAINML_SOAK_RTI").as_deref() == Ok("1"),
        rest: LOCAL_REST.to_owned(),
        deadline: Duration::from_secs(30),
        scratch: repo_root().join(format!("target/test-data/soak-{}", std::process::id())),
        graph_wrapper: Vec::new(),
        observer_wrapper: Vec::new(),
    }
}

#[test]
fn every_launch_delivers_six_statuses_to_a_cyclone_reader_starting_beside_it() {
    // Each round, in a fresh domain: launcher + a Cyclone reader at once; within
    // 30 s the orchestrator shows six IDLE and the reader saw all six.
    assert_isolated();
    soak(Vendors::Cyclone);
}

/// The scenario: a Fast DDS and a Cyclone reader in every round. Known to
/// fail: in about one launch in ten (more on a loaded machine) the Fast DDS reader
/// never discovers some writers of one to four of our nodes, through a Fast DDS
/// history-ordering defect that rustdds's SEDP announcements (no INFO_TS) trigger
/// (README, Known limitations); the orchestrator and the Cyclone reader see every
/// node. Run it with `cargo test -- --ignored`.
#[test]
#[ignore = "Fast DDS skips some SEDP announcements of rustdds participants (README, Known limitations)"]
fn every_launch_delivers_six_statuses_to_fastdds_and_cyclone_together() {
    assert_isolated();
    soak(Vendors::Both);
}

fn soak(vendors: Vendors) {
    let rounds = rounds();
    let started = Instant::now();
    let mut failures = Vec::new();
    for round in 1..=rounds {
        // Round n gets its own domain (wrapping after 33 rounds).
        let domain = FIRST_DOMAIN + ((round - 1) as u16 % DOMAINS);
        let cfg = match vendors {
            Vendors::Cyclone => config(false, true),
            Vendors::Both => config(true, true),
        };
        let report = run_round(&cfg, domain, &format!("round-{round}"));
        eprintln!(
            "soak round {round}/{rounds} domain {domain}: {} in {:.1} s",
            if report.clean() { "clean" } else { "NOT clean" },
            report.elapsed.as_secs_f64()
        );
        if !report.clean() {
            failures.push(report.describe(round));
        }
    }
    eprintln!(
        "soak: {} of {rounds} rounds clean in {:.0} s",
        rounds - failures.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {rounds} rounds lost a status:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
