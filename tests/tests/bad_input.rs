//! Protects robustness against bad samples: a payload that does not decode (XCDR2,
//! truncated, a sequence length larger than the payload, invalid UTF-8) is dropped
//! with one warning naming the topic and the writer, and the reader goes on to
//! deliver the next valid sample.

use std::path::Path;
use std::time::Duration;

use sustainml_tests::{assert_isolated, temp_file, Peer};
use sustainml_types::codec::{self, Hex};
use sustainml_types::samples;

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");

#[test]
fn undecodable_samples_are_dropped_with_a_warning_and_the_reader_goes_on() {
    assert_isolated();
    let domain = 51;
    let valid = codec::encode(&samples::user_input()).expect("encode");
    let body = valid[4..].to_vec();
    let truncated = body[..body.len() / 2].to_vec();
    let mut absurd = body.clone();
    absurd[0..4].copy_from_slice(&u32::MAX.to_le_bytes()); // modality length
    let mut bad_utf8 = body.clone();
    bad_utf8[4] = 0xff; // first byte of "images"

    let sub = Peer::spawn(
        "rust sub",
        Path::new(PEER),
        &[
            "sub",
            "--topics",
            "/sustainml/user_input",
            "--expect",
            "1",
            "--timeout",
            "60",
        ],
        domain,
        &[("RUST_LOG", "warn")],
    );
    sub.expect_line("READY", Duration::from_secs(20));
    let raw = |encapsulation: &str, bodies: &[&Vec<u8>]| {
        let mut args = vec![
            "pub-raw".to_owned(),
            "--topic".into(),
            "/sustainml/user_input".into(),
        ];
        args.extend([
            "--encapsulation".into(),
            encapsulation.into(),
            "--linger".into(),
            "0".into(),
        ]);
        for b in bodies {
            args.extend(["--body".into(), hex::encode(b)]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Peer::spawn("pub-raw", Path::new(PEER), &args, domain, &[]).finish(Duration::from_secs(60));
    };
    raw("0007", &[&body]);
    raw("0001", &[&truncated, &absurd, &bad_utf8]);
    let input = temp_file(
        "bad-input-valid.txt",
        &[format!("/sustainml/user_input {}", Hex(&valid))],
    );
    Peer::spawn(
        "pub",
        Path::new(PEER),
        &["pub", "--input", input.to_str().expect("path")],
        domain,
        &[],
    )
    .finish(Duration::from_secs(60));

    let (ok, lines, stderr) = sub.outcome(Duration::from_secs(60));
    assert!(
        ok,
        "the reader kept running and got the valid sample:\n{stderr}"
    );
    assert!(lines.contains(&format!("/sustainml/user_input {}", Hex(&valid))));
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("dropped a sample"))
        .collect();
    assert_eq!(warnings.len(), 4, "one warning per bad sample:\n{stderr}");
    for w in &warnings {
        assert!(w.contains("topic=\"/sustainml/user_input\""), "{w}");
        assert!(w.contains("writer="), "{w}");
    }
    for reason in ["XCDR2", "truncated", "not valid UTF-8"] {
        assert!(
            warnings.iter().any(|w| w.contains(reason)),
            "a warning says {reason}:\n{stderr}"
        );
    }
}
