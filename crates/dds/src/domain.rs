//! The DDS domain, from `SUSTAINML_DOMAIN_ID`.

use crate::error::{Error, Result};

/// The environment variable that selects the domain.
pub const DOMAIN_ENV: &str = "SUSTAINML_DOMAIN_ID";

/// Largest domain id whose RTPS ports fit in 16 bits (7400 + 250 × 232 + 11 < 65536).
pub const MAX_DOMAIN_ID: u16 = 232;

/// Parses a domain id: a decimal integer in 0..=232.
pub fn parse_domain_id(text: &str) -> Result<u16> {
    let trimmed = text.trim();
    let value: u64 = trimmed.parse().map_err(|_| Error::Domain {
        value: text.to_owned(),
        reason: "not a non-negative integer".into(),
    })?;
    u16::try_from(value)
        .ok()
        .filter(|v| *v <= MAX_DOMAIN_ID)
        .ok_or_else(|| Error::Domain {
            value: text.to_owned(),
            reason: format!("out of range 0..={MAX_DOMAIN_ID}"),
        })
}

/// The domain from `SUSTAINML_DOMAIN_ID`, or 0 when it is unset or empty.
pub fn domain_id_from_env() -> Result<u16> {
    match std::env::var(DOMAIN_ENV) {
        Ok(v) if v.trim().is_empty() => Ok(0),
        Ok(v) => parse_domain_id(&v),
        Err(std::env::VarError::NotPresent) => Ok(0),
        Err(std::env::VarError::NotUnicode(v)) => Err(Error::Domain {
            value: v.to_string_lossy().into_owned(),
            reason: "not valid Unicode".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid_domains() {
        assert_eq!(parse_domain_id("0").ok(), Some(0));
        assert_eq!(parse_domain_id(" 42 ").ok(), Some(42));
        assert_eq!(parse_domain_id("232").ok(), Some(232));
        let err = parse_domain_id("233")
            .expect_err("out of range")
            .to_string();
        assert!(
            err.contains("SUSTAINML_DOMAIN_ID=\"233\"") && err.contains("out of range"),
            "{err}"
        );
        let err = parse_domain_id("abc")
            .expect_err("not a number")
            .to_string();
        assert!(err.contains("\"abc\"") || err.contains("abc"), "{err}");
        assert!(parse_domain_id("-1").is_err());
        assert!(parse_domain_id("70000").is_err());
    }
}
