//! Protects bounded memory: a node fed 100 000 tasks that each miss one input keeps a
//! flat resident set (pending tasks, the remembered window and the DDS readers are all
//! bounded), and still reports every task it gave up on.

use std::path::Path;
use std::time::{Duration, Instant};

use sustainml_tests::{assert_isolated, Peer};
use sustainml_types::topics;

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");
const NODE: &str = env!("CARGO_BIN_EXE_sustainml-test-node");
const TASKS: u32 = 100_000;
/// Tasks per second: below what a debug-built node takes in (about 2 500 a second on
/// the 2-core CI machine). rustdds drops samples a reader leaves untaken beyond its
/// topic cache, so a flood faster than the node reads would lose tasks, not memory.
const RATE: u32 = 1_500;
const MAX_PENDING: u32 = 1_000;
/// Growth allowed between the first 20 000 tasks and the end. Readers keep at most
/// 1 088 slots × 8 samples of history (`sustainml_dds::qos::SLOT_DEPTH`); a node that
/// falls behind on a loaded machine fills that, about 17 MB, and no more. Keeping the
/// 80 000 tasks, as rustdds did with one instance per task, cost over 60 MB here.
const ALLOWED_GROWTH_KIB: u64 = 24 * 1024;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[test]
fn resident_memory_stays_flat_over_100k_incomplete_tasks() {
    assert_isolated();
    let domain = 99;
    // The generic node joins (UserInput, HWResource); only user inputs are sent, so
    // every task stays incomplete and is evicted once 1 000 are pending.
    let node = Peer::spawn(
        "node",
        Path::new(NODE),
        &[
            "--kind",
            "generic",
            "--max-pending",
            &MAX_PENDING.to_string(),
            "--input-timeout-ms",
            "600000",
        ],
        domain,
        &[],
    );
    let flood = Peer::spawn(
        "flood",
        Path::new(PEER),
        &[
            "flood",
            "--topics",
            topics::USER_INPUT.name,
            "--count",
            &TASKS.to_string(),
            "--rate",
            &RATE.to_string(),
        ],
        domain,
        &[],
    );
    flood.expect_line("SENT 20000", Duration::from_secs(120));
    // Let the node drain what is in flight before the first reading.
    std::thread::sleep(Duration::from_secs(1));
    let early = rss_kib(node.pid());
    let started = Instant::now();
    flood.expect_line(&format!("DONE {TASKS}"), Duration::from_secs(300));
    std::thread::sleep(Duration::from_secs(1));
    let late = rss_kib(node.pid());
    eprintln!(
        "node RSS after 20 000 tasks: {early} KiB; after {TASKS}: {late} KiB ({:?} for the last 80 000)",
        started.elapsed()
    );
    assert!(
        late <= early + ALLOWED_GROWTH_KIB,
        "resident memory grew from {early} KiB to {late} KiB over 80 000 incomplete tasks"
    );
    // Every task but the last MAX_PENDING was given up on, with its missing input named.
    let evicted = node
        .stderr_text()
        .lines()
        .filter(|l| {
            l.contains("too many incomplete tasks; missing inputs: /sustainml/hw_resources/output")
        })
        .count();
    assert_eq!(
        evicted,
        (TASKS - MAX_PENDING) as usize,
        "evicted tasks reported"
    );
}
