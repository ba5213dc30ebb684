//! APP_REQUIREMENTS_NODE: what the application needs, read from the user's problem.
//!
//! The output is a list of short, machine-readable strings in
//! `AppRequirementsImpl.app_requirements`, one per [`Kind`], e.g.
//! `latency<=50ms`, `fps>=30`, `accuracy>=0.9`, `memory<=16MB`, `power<=2W`,
//! `budget<=500EUR`, `real-time`, `on-device`, `privacy`, `streaming`, `batch`, plus any
//! requirement the user lists verbatim. Units are normalised: ms, MB, W, accuracy as a
//! fraction.
//!
//! Two sources, the explicit one winning for the same kind:
//!
//! 1. **Problem text** (`problem_short_description` + `problem_definition`), by the
//!    regular expressions of the `text` module: a bound word and a number with a unit
//!    ("under 50 ms", "within 16 MB", "below 2 W", "under €500"), "at least 30 fps",
//!    "90% accuracy", "latency of 20 ms", and flag words ("real-time", "on-device",
//!    "microcontroller", "GDPR", "streaming", "nightly batch jobs"…). When the text
//!    gives a kind twice, the strictest value is kept.
//! 2. **`extra_data` keys** (see [`EXTRA_DATA_KEYS`]): `max_latency_ms`, `min_fps`,
//!    `min_accuracy` (fraction or percent), `max_power_w`, `max_memory_mb`, `budget`
//!    with `budget_currency`, the booleans `real_time`, `on_device`, `privacy` (false
//!    removes what the text implied), `processing` (`"streaming"` or `"batch"`), and
//!    `app_requirements` (strings kept as given).
//!
//! `extra_data` of the output explains each requirement: its kind, value and where it
//! came from (the words of the text, or the key). A malformed `extra_data` or a
//! wrong-typed key is an error naming it.
#![warn(missing_docs)]

mod extra;
mod text;

pub use extra::EXTRA_DATA_KEYS;

use serde_json::{json, Map, Value};
use sustainml_node::ConfigError;
use sustainml_types::extra_data::ExtraDataError;
use sustainml_types::{AppRequirementsImpl, UserInputImpl};

/// A kind of requirement, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// Latency bound per inference, ms (`latency<=50ms`).
    Latency,
    /// Minimum throughput, frames per second (`fps>=30`).
    Fps,
    /// Minimum accuracy, a fraction (`accuracy>=0.9`).
    Accuracy,
    /// Memory bound, MB (`memory<=16MB`).
    Memory,
    /// Power bound, W (`power<=2W`).
    Power,
    /// Budget bound, with an ISO 4217 currency when known (`budget<=500EUR`).
    Budget,
    /// Must answer in real time (`real-time`).
    RealTime,
    /// Must run on the device itself (`on-device`).
    OnDevice,
    /// Data must stay private (`privacy`).
    Privacy,
    /// Inputs arrive as a stream (`streaming`).
    Streaming,
    /// Inputs are processed in batches (`batch`).
    Batch,
    /// Given verbatim in `extra_data.app_requirements`.
    Custom,
}

impl Kind {
    /// Every kind, in output order.
    pub const ALL: [Kind; 12] = [
        Kind::Latency,
        Kind::Fps,
        Kind::Accuracy,
        Kind::Memory,
        Kind::Power,
        Kind::Budget,
        Kind::RealTime,
        Kind::OnDevice,
        Kind::Privacy,
        Kind::Streaming,
        Kind::Batch,
        Kind::Custom,
    ];

    /// The kind's name, as it starts its requirement strings.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Latency => "latency",
            Kind::Fps => "fps",
            Kind::Accuracy => "accuracy",
            Kind::Memory => "memory",
            Kind::Power => "power",
            Kind::Budget => "budget",
            Kind::RealTime => "real-time",
            Kind::OnDevice => "on-device",
            Kind::Privacy => "privacy",
            Kind::Streaming => "streaming",
            Kind::Batch => "batch",
            Kind::Custom => "custom",
        }
    }

    /// The comparison and unit of a numeric kind (`("", "")` for flags).
    pub fn op_and_unit(self) -> (&'static str, &'static str) {
        match self {
            Kind::Latency => ("<=", "ms"),
            Kind::Fps => (">=", ""),
            Kind::Accuracy => (">=", ""),
            Kind::Memory => ("<=", "MB"),
            Kind::Power => ("<=", "W"),
            Kind::Budget => ("<=", ""),
            _ => ("", ""),
        }
    }

    /// An example of the kind's strings.
    pub fn example(self) -> &'static str {
        match self {
            Kind::Latency => "latency<=50ms",
            Kind::Fps => "fps>=30",
            Kind::Accuracy => "accuracy>=0.9",
            Kind::Memory => "memory<=16MB",
            Kind::Power => "power<=2W",
            Kind::Budget => "budget<=500EUR",
            Kind::Custom => "(any text)",
            other => other.name(),
        }
    }
}

/// One requirement: its kind, text form, value (numeric kinds) and origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    /// The kind.
    pub kind: Kind,
    /// The text published, e.g. `latency<=50ms`.
    pub text: String,
    /// The normalised value of a numeric kind.
    pub value: Option<f64>,
    /// Where it came from: `text "under 50 ms"` or `extra_data.max_latency_ms`.
    pub origin: String,
}

impl Requirement {
    fn measured(kind: Kind, value: f64, unit: &str, origin: String) -> Self {
        Self {
            kind,
            text: text::render(kind, value, unit),
            value: Some(value),
            origin,
        }
    }

    fn flag(kind: Kind, origin: String) -> Self {
        Self {
            kind,
            text: kind.name().to_owned(),
            value: None,
            origin,
        }
    }
}

/// A number without a needless `.0` (`50`, `0.9`, `12.5`).
pub(crate) fn fmt_num(v: f64) -> String {
    let rounded = (v * 1e6).round() / 1e6;
    format!("{rounded}")
}

/// Why the requirements could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequirementsError {
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

/// Requirements found in free text (strictest value per kind, in [`Kind`] order).
pub fn from_text(text: &str) -> Vec<Requirement> {
    merge(
        text::scan(text).into_iter().map(|(_, r)| r).collect(),
        Vec::new(),
        &[],
    )
}

/// Every requirement of a user's problem: text first, `extra_data` overriding per kind.
pub fn extract(user: &UserInputImpl) -> Result<Vec<Requirement>, RequirementsError> {
    let explicit = extra::read(&user.extra_data)?;
    let text = format!(
        "{}\n{}",
        user.problem_short_description, user.problem_definition
    );
    let found = text::scan(&text).into_iter().map(|(_, r)| r).collect();
    Ok(merge(found, explicit.requirements, &explicit.disabled))
}

/// Keeps one requirement per kind: explicit ones replace found ones, disabled kinds go,
/// and among found ones the strictest value (or the first flag) stays.
fn merge(
    found: Vec<Requirement>,
    explicit: Vec<Requirement>,
    disabled: &[Kind],
) -> Vec<Requirement> {
    let mut kept: Vec<Requirement> = Vec::new();
    for r in found {
        if disabled.contains(&r.kind) || explicit.iter().any(|e| e.kind == r.kind) {
            continue;
        }
        match kept.iter_mut().find(|k| k.kind == r.kind) {
            None => kept.push(r),
            Some(k) => {
                let stricter = match (r.kind.op_and_unit().0, r.value, k.value) {
                    ("<=", Some(new), Some(old)) => new < old,
                    (">=", Some(new), Some(old)) => new > old,
                    _ => false,
                };
                if stricter && unit_of(&r.text) == unit_of(&k.text) {
                    *k = r;
                }
            }
        }
    }
    kept.extend(explicit);
    kept.sort_by_key(|r| r.kind);
    kept
}

/// What follows the last digit of a requirement string (its unit or currency).
fn unit_of(text: &str) -> &str {
    text.rsplit(|c: char| c.is_ascii_digit())
        .next()
        .unwrap_or("")
}

/// The node's output for one task. The `task_id` is left for the runtime to set.
pub fn requirements(user: &UserInputImpl) -> Result<AppRequirementsImpl, RequirementsError> {
    let reqs = extract(user)?;
    let explained: Vec<Value> = reqs
        .iter()
        .map(|r| {
            let mut o = Map::new();
            o.insert("requirement".into(), json!(r.text));
            o.insert("kind".into(), json!(r.kind.name()));
            if let Some(v) = r.value {
                o.insert("value".into(), json!(v));
            }
            o.insert("from".into(), json!(r.origin));
            Value::Object(o)
        })
        .collect();
    Ok(AppRequirementsImpl {
        app_requirements: reqs.into_iter().map(|r| r.text).collect(),
        extra_data: json!({ "requirements": explained })
            .to_string()
            .into_bytes(),
        ..Default::default()
    })
}

/// Answers a configuration request: `requirement_kinds` (or `kinds`) lists the kinds
/// understood, an example of each and the `extra_data` keys read; anything else is an
/// error.
pub fn configure(request: &str) -> Result<String, ConfigError> {
    match request.trim() {
        "requirement_kinds" | "kinds" => {
            let examples: Map<String, Value> = Kind::ALL
                .iter()
                .map(|k| (k.name().to_owned(), json!(k.example())))
                .collect();
            let keys: Map<String, Value> = EXTRA_DATA_KEYS
                .iter()
                .map(|(k, d)| ((*k).to_owned(), json!(d)))
                .collect();
            Ok(json!({
                "kinds": Kind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "),
                "examples": examples,
                "extra_data_keys": keys,
            })
            .to_string())
        }
        _ => Err(ConfigError::new(format!(
            "Unsupported configuration request: {request}"
        ))),
    }
}

#[cfg(test)]
mod tests;
