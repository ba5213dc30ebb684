//! Protects delivery between our processes at the moments rustdds used to lose
//! samples: a writer that writes the instant it sees a reader (the reader's side of
//! discovery still under way), a writer that leaves right after writing while the
//! reader's application is still far behind, and a reader application more than
//! rustdds's 500-sample cache behind its writer. Every sample must arrive, every round.

use std::path::Path;
use std::time::Duration;

use sustainml_tests::{assert_isolated, decode_lines, sample_line, temp_file, Peer};
use sustainml_types::{samples, topics, UserInputImpl};

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");

fn inputs(count: u32) -> Vec<String> {
    (1..=count)
        .map(|k| sample_line(topics::USER_INPUT, samples::user_input(), k, 1))
        .collect()
}

/// Starts a subscriber and a publisher of `count` user inputs at the same instant;
/// the publisher writes as soon as its writer sees the reader and leaves as soon as
/// the reader acknowledged (`--linger 0`). Returns the problem ids received.
fn round(domain: u16, tag: &str, count: u32, start_delay_ms: u32) -> Vec<u32> {
    let file = temp_file(&format!("{tag}-{domain}.txt"), &inputs(count));
    let expect = count.to_string();
    let delay = start_delay_ms.to_string();
    let sub = Peer::spawn(
        "sub",
        Path::new(PEER),
        &[
            "sub",
            "--topics",
            topics::USER_INPUT.name,
            "--expect",
            &expect,
            "--timeout",
            "60",
            // The reader stays a second after its last sample, as a long-lived one
            // would, so that the writer gets its last acknowledgment.
            "--linger",
            "1",
            "--start-delay-ms",
            &delay,
        ],
        domain,
        &[],
    );
    let publ = Peer::spawn(
        "pub",
        Path::new(PEER),
        &[
            "pub",
            "--input",
            file.to_str().expect("path"),
            "--linger",
            "0",
        ],
        domain,
        &[],
    );
    let (ok, lines, stderr) = sub.outcome(Duration::from_secs(90));
    let (pub_ok, _, pub_err) = publ.outcome(Duration::from_secs(90));
    assert!(pub_ok, "{tag}: the publisher failed: {pub_err}");
    assert!(
        ok,
        "{tag}: the subscriber did not get every sample: {stderr}"
    );
    let mut got: Vec<u32> = decode_lines::<UserInputImpl>(&lines, topics::USER_INPUT)
        .iter()
        .map(|u| u.task_id.problem_id)
        .collect();
    got.sort_unstable();
    got.dedup();
    got
}

/// Writers write the instant they match: no sample is lost while the reader's side of
/// discovery completes (the test tools used to sleep 1.5 s here).
#[test]
fn samples_written_the_moment_a_reader_matches_all_arrive() {
    assert_isolated();
    for r in 0..10 {
        let got = round(60 + r, &format!("match-round-{r}"), 20, 0);
        assert_eq!(got, (1..=20).collect::<Vec<_>>(), "round {r}");
    }
}

/// The reader's application takes its first sample 3 s after subscribing, while a
/// writer writes 10 000 samples and leaves half a second after the last: rustdds hides
/// the untaken samples of a writer that left and keeps a bounded number per reader,
/// so before the subscriber pump this got none of them.
#[test]
fn a_late_reader_gets_every_sample_of_a_writer_that_already_left() {
    assert_isolated();
    let got = round(70, "late-reader", 10_000, 3000);
    assert_eq!(got, (1..=10_000).collect::<Vec<_>>());
}
