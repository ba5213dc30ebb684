//! `extra_data`: the byte fields in which SustainML carries a JSON object (the
//! reference's keys such as `hardware_required`, `model_restrains`, `num_outputs`).
//! Every node reads them the same way, with these helpers.

use serde_json::{Map, Value};

/// Why `extra_data` could not be read as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExtraDataError {
    /// The bytes are not JSON (serde_json's message says where).
    #[error("is not valid JSON: {0}")]
    NotJson(String),
    /// The bytes are JSON, but not an object; the kind found ("an array"…).
    #[error("must be a JSON object, found {0}")]
    NotObject(&'static str),
}

/// Reads `bytes` as a JSON object; empty or blank bytes are an empty object.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ExtraDataError> {
    if bytes.trim_ascii().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ExtraDataError::NotObject(json_kind(&other))),
        Err(e) => Err(ExtraDataError::NotJson(e.to_string())),
    }
}

/// The kind of a JSON value, for messages: "null", "a boolean", "a number", "a
/// string", "an array" or "an object".
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    // Protects how every node reads extra_data: blank is empty, anything but an object
    // is refused with what was found.
    use super::*;

    #[test]
    fn objects_blank_and_bad_input() {
        assert_eq!(parse_object(b"  ").map(|m| m.len()), Ok(0));
        assert_eq!(parse_object(br#"{"a":1}"#).map(|m| m.len()), Ok(1));
        assert_eq!(
            parse_object(b"[1]"),
            Err(ExtraDataError::NotObject("an array"))
        );
        assert!(matches!(
            parse_object(b"{oops"),
            Err(ExtraDataError::NotJson(_))
        ));
    }
}
