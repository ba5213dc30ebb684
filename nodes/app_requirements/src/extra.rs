//! Requirements given explicitly in the user's `extra_data` JSON.

use serde_json::{Map, Value};
use sustainml_types::extra_data;

use crate::text::currency_code;
use crate::{Kind, Requirement, RequirementsError};

/// The `extra_data` keys read, with what each must hold.
pub const EXTRA_DATA_KEYS: &[(&str, &str)] = &[
    ("max_latency_ms", "number >= 0: latency<=<N>ms"),
    ("min_fps", "number >= 0: fps>=<N>"),
    (
        "min_accuracy",
        "fraction 0..1 or percent 1..100: accuracy>=<fraction>",
    ),
    ("max_memory_mb", "number >= 0: memory<=<N>MB"),
    ("max_power_w", "number >= 0: power<=<N>W"),
    ("budget", "number >= 0: budget<=<N><currency>"),
    (
        "budget_currency",
        "string, ISO 4217 code or symbol (with budget)",
    ),
    ("real_time", "boolean: real-time (false removes it)"),
    ("on_device", "boolean: on-device (false removes it)"),
    ("privacy", "boolean: privacy (false removes it)"),
    ("processing", "\"streaming\" or \"batch\""),
    ("app_requirements", "array of strings, kept as given"),
];

/// What `extra_data` says: requirements to add and kinds to drop.
#[derive(Debug, Default)]
pub struct Explicit {
    pub requirements: Vec<Requirement>,
    pub disabled: Vec<Kind>,
}

fn bad(key: &'static str, expected: &'static str, got: &Value) -> RequirementsError {
    RequirementsError::InvalidValue {
        key,
        expected,
        got: got.to_string(),
    }
}

fn number(extra: &Map<String, Value>, key: &'static str) -> Result<Option<f64>, RequirementsError> {
    match extra.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
            _ => Err(bad(key, "a number >= 0", v)),
        },
    }
}

fn boolean(
    extra: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<bool>, RequirementsError> {
    match extra.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(bad(key, "true or false", v)),
    }
}

fn origin(key: &str) -> String {
    format!("extra_data.{key}")
}

/// Reads the keys of [`EXTRA_DATA_KEYS`] from `extra_data` (blank means none).
pub fn read(bytes: &[u8]) -> Result<Explicit, RequirementsError> {
    let extra = extra_data::parse_object(bytes).map_err(RequirementsError::from)?;
    let mut out = Explicit::default();
    for (key, kind) in [
        ("max_latency_ms", Kind::Latency),
        ("min_fps", Kind::Fps),
        ("max_memory_mb", Kind::Memory),
        ("max_power_w", Kind::Power),
    ] {
        if let Some(v) = number(&extra, key)? {
            out.requirements
                .push(Requirement::measured(kind, v, "", origin(key)));
        }
    }
    if let Some(v) = number(&extra, "min_accuracy")? {
        let fraction = if v > 1.0 { v / 100.0 } else { v };
        if fraction > 1.0 {
            return Err(bad(
                "min_accuracy",
                "a fraction 0..1 or a percent 1..100",
                &extra["min_accuracy"],
            ));
        }
        out.requirements.push(Requirement::measured(
            Kind::Accuracy,
            fraction,
            "",
            origin("min_accuracy"),
        ));
    }
    if let Some(v) = number(&extra, "budget")? {
        let currency = match extra.get("budget_currency") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => {
                let s = s.trim();
                match currency_code(&s.to_lowercase()) {
                    "" => s.to_uppercase(),
                    code => code.to_owned(),
                }
            }
            Some(other) => return Err(bad("budget_currency", "a string", other)),
        };
        out.requirements.push(Requirement::measured(
            Kind::Budget,
            v,
            &currency,
            origin("budget"),
        ));
    }
    for (key, kind) in [
        ("real_time", Kind::RealTime),
        ("on_device", Kind::OnDevice),
        ("privacy", Kind::Privacy),
    ] {
        match boolean(&extra, key)? {
            Some(true) => out.requirements.push(Requirement::flag(kind, origin(key))),
            Some(false) => out.disabled.push(kind),
            None => {}
        }
    }
    match extra.get("processing") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("streaming") => {
            out.requirements
                .push(Requirement::flag(Kind::Streaming, origin("processing")));
            out.disabled.push(Kind::Batch);
        }
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("batch") => {
            out.requirements
                .push(Requirement::flag(Kind::Batch, origin("processing")));
            out.disabled.push(Kind::Streaming);
        }
        Some(v) => return Err(bad("processing", "\"streaming\" or \"batch\"", v)),
    }
    match extra.get("app_requirements") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Array(items)) => {
            for item in items {
                let s = item
                    .as_str()
                    .ok_or_else(|| bad("app_requirements", "an array of strings", v))?;
                if !s.trim().is_empty() {
                    out.requirements.push(Requirement {
                        kind: Kind::Custom,
                        text: s.trim().to_owned(),
                        value: None,
                        origin: origin("app_requirements"),
                    });
                }
            }
        }
        Some(v) => return Err(bad("app_requirements", "an array of strings", v)),
    }
    Ok(out)
}
