//! Protects domain selection: a SUSTAINML_DOMAIN_ID that is not a number in 0..=232 is
//! refused with a message naming the variable and the value, instead of silently
//! joining domain 0 as the reference does.

use std::path::Path;
use std::time::Duration;

use sustainml_tests::{assert_isolated, Peer};

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");

#[test]
fn a_bad_domain_is_a_clear_error() {
    assert_isolated();
    for bad in ["abc", "233", "-1", "7.5"] {
        let peer = Peer::spawn(
            "sub",
            Path::new(PEER),
            &["sub", "--expect", "1", "--timeout", "5"],
            0,
            &[("SUSTAINML_DOMAIN_ID", bad)],
        );
        let (ok, _, stderr) = peer.outcome(Duration::from_secs(30));
        assert!(!ok, "domain {bad:?} was accepted");
        assert!(
            stderr.contains(&format!("invalid SUSTAINML_DOMAIN_ID={bad:?}")),
            "{bad}: {stderr}"
        );
    }
}
