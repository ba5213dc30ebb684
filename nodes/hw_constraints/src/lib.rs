//! HW_CONSTRAINTS_NODE: the hardware limits the user sets for the model.
//!
//! The constraints come from the user's `extra_data` JSON, with the reference's keys
//! and defaults:
//!
//! | key | type | default | output |
//! |---|---|---|---|
//! | `max_memory_footprint` | whole number ≥ 0 of **MB**, or a string such as `"16"` / `"16 MB"` | 100 | `max_memory_footprint` |
//! | `hardware_required` | a string or an array of strings (empty = not given) | `"PIM_AI_1chip"` | `hardware_required` |
//!
//! As in the reference, the user's `extra_data` is copied into the output's
//! `extra_data` (`{}` when the user sent none), so downstream nodes see the same
//! settings (`hf_token`, `model_family`…).
//!
//! Unlike the reference, a value that cannot be used is an error naming the key, never
//! a silent default: `"max_memory_footprint": "big"`, a negative or fractional size,
//! `hardware_required` of another type, `extra_data` that is not a JSON object.
//! An empty `extra_data` gives the defaults.
#![warn(missing_docs)]

use serde_json::{json, Map, Value};
use sustainml_node::ConfigError;
use sustainml_types::extra_data::{self, ExtraDataError};
use sustainml_types::{HWConstraintsImpl, UserInputImpl};

/// Hardware used when the user names none (the reference's default).
pub const DEFAULT_HARDWARE: &str = "PIM_AI_1chip";
/// Memory limit in MB used when the user gives none (the reference's default).
pub const DEFAULT_MAX_MEMORY_FOOTPRINT: u32 = 100;

/// Why the constraints could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConstraintsError {
    /// `extra_data` is not a JSON object.
    #[error("user_input.extra_data {0}")]
    ExtraData(#[from] ExtraDataError),
    /// A key has a value of the wrong type or range.
    #[error("user_input.extra_data.{key} must be {expected}, got {got}")]
    InvalidValue {
        /// The key.
        key: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it was.
        got: String,
    },
}

/// Reads the constraints of one task from the user's input (see the crate docs).
/// The output's `task_id` is left for the runtime to set.
pub fn constraints(user: &UserInputImpl) -> Result<HWConstraintsImpl, ConstraintsError> {
    let extra = parse_extra_data(&user.extra_data)?;
    Ok(HWConstraintsImpl {
        max_memory_footprint: max_memory_footprint(extra.get("max_memory_footprint"))?,
        hardware_required: hardware_required(extra.get("hardware_required"))?,
        extra_data: if user.extra_data.trim_ascii().is_empty() {
            b"{}".to_vec()
        } else {
            user.extra_data.clone()
        },
        ..Default::default()
    })
}

/// Parses `extra_data`: empty (or blank) means `{}`; otherwise a JSON object.
pub fn parse_extra_data(bytes: &[u8]) -> Result<Map<String, Value>, ConstraintsError> {
    extra_data::parse_object(bytes).map_err(ConstraintsError::from)
}

/// The memory limit in MB from the `max_memory_footprint` value, if any.
pub fn max_memory_footprint(value: Option<&Value>) -> Result<u32, ConstraintsError> {
    let bad = |v: &Value| ConstraintsError::InvalidValue {
        key: "max_memory_footprint",
        expected: "a whole number >= 0 of MB (e.g. 16 or \"16 MB\")",
        got: v.to_string(),
    };
    let parsed = match value {
        None | Some(Value::Null) => return Ok(DEFAULT_MAX_MEMORY_FOOTPRINT),
        Some(v @ Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => Some(u),
            (None, Some(f)) if f >= 0.0 && f.fract() == 0.0 && f <= f64::from(u32::MAX) => {
                Some(f as u64)
            }
            _ => return Err(bad(v)),
        },
        Some(Value::String(s)) => {
            let t = s.trim();
            let digits = t
                .strip_suffix("MB")
                .or_else(|| t.strip_suffix("mb"))
                .or_else(|| t.strip_suffix("Mb"))
                .unwrap_or(t)
                .trim();
            digits.parse::<u64>().ok()
        }
        Some(_) => None,
    };
    let v = value.unwrap_or(&Value::Null);
    parsed
        .and_then(|u| u32::try_from(u).ok())
        .ok_or_else(|| bad(v))
}

/// The hardware list from the `hardware_required` value, if any.
pub fn hardware_required(value: Option<&Value>) -> Result<Vec<String>, ConstraintsError> {
    let bad = |v: &Value| ConstraintsError::InvalidValue {
        key: "hardware_required",
        expected: "a string or an array of strings",
        got: v.to_string(),
    };
    let list: Vec<String> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![s.trim().to_owned()],
        Some(v @ Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(|s| s.trim().to_owned()))
            .collect::<Option<_>>()
            .ok_or_else(|| bad(v))?,
        Some(v) => return Err(bad(v)),
    };
    let list: Vec<String> = list.into_iter().filter(|s| !s.is_empty()).collect();
    if list.is_empty() {
        Ok(vec![DEFAULT_HARDWARE.to_owned()])
    } else {
        Ok(list)
    }
}

/// Answers a configuration request: `defaults` gives
/// `{"defaults":{"hardware_required":…,"max_memory_footprint":…}}`; anything else is
/// an error, as in the reference.
pub fn configure(request: &str) -> Result<String, ConfigError> {
    match request.trim() {
        "defaults" => Ok(json!({
            "defaults": {
                "hardware_required": DEFAULT_HARDWARE,
                "max_memory_footprint": DEFAULT_MAX_MEMORY_FOOTPRINT,
                "max_memory_footprint_unit": "MB",
            }
        })
        .to_string()),
        _ => Err(ConfigError::new(format!(
            "Unsupported configuration request: {request}"
        ))),
    }
}

#[cfg(test)]
mod tests;
