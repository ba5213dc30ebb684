//! ML_MODEL_METADATA_NODE: the ML goal of the user's problem, and the words that
//! show it.
//!
//! The goal is one of the Hugging Face pipeline tags listed in `data/goals.toml`
//! (image-classification, object-detection, … tabular-regression). The method is
//! deterministic and explainable, with all its data in that file:
//!
//! 1. **Modality.** `user_input.modality` is matched against each modality's name and
//!    aliases (`"Images"`, `"vision"` → `image`); an unknown one is an error naming it.
//!    An empty modality is inferred from the aliases found in the inputs and
//!    description; failing that, every goal is a candidate.
//! 2. **Scores.** Each candidate goal scores the sum of the weights of its cues found
//!    in the problem text (`problem_short_description` + `problem_definition`), its
//!    `input_cues` found in `inputs` and its `output_cues` found in `outputs`. Cues are
//!    word sequences, matched case- and punctuation-blind (`classif*` is a prefix).
//! 3. **Choice.** The highest score wins; on a tie, the goal listed first in the file.
//!    If no cue matches at all, the task fails saying so.
//!
//! The output holds `ml_model_metadata = [goal]`, `keywords` = the words the cues
//! matched (in text order), and `extra_data` = the explanation: modality, every
//! candidate's score and matched cues, ties. The reference's `extra_data` keys are
//! honoured: a `goal` chosen in the UI is used as is (after checking it is a known
//! goal), `model_selected` gives an empty goal list; `model_restrains`, `model_selected`
//! and `type` are passed on with `problem_short_description`, as the reference does.
//!
//! [`configure`] answers the reference's configuration queries (`modality`,
//! `in_out_modalities`, `problem_from_modality, <m>`, `metrics, <…>`) from the same
//! file.
#![warn(missing_docs)]

mod catalog;
mod classify;
mod config;
mod cues;

pub use catalog::{Catalog, Goal, Modality, WeightedCue, SHIPPED_TOML};
pub use classify::{classify, Classification, GoalScore, ModalitySource};

use serde_json::{json, Map, Value};
use sustainml_node::ConfigError;
use sustainml_types::extra_data::{self, ExtraDataError};
use sustainml_types::{MLModelMetadataImpl, UserInputImpl};

/// Why no goal could be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// `user_input.modality` names no known modality.
    #[error("unknown modality {given:?} in user_input.modality; known: {known}")]
    UnknownModality {
        /// What the user wrote.
        given: String,
        /// The known modalities.
        known: String,
    },
    /// No cue of any candidate goal occurs in the problem.
    #[error("no goal matches the problem: no cue of the {modality} goals ({goals}) occurs in problem_short_description, problem_definition, inputs or outputs")]
    NoMatch {
        /// The modality (or "candidate" when every goal was tried).
        modality: String,
        /// The goals tried.
        goals: String,
    },
    /// The goal chosen in the UI is not a known goal.
    #[error("unknown goal {given:?} in user_input.extra_data.goal; known: {known}")]
    UnknownGoal {
        /// What the UI sent.
        given: String,
        /// The known goals.
        known: String,
    },
    /// `extra_data` is not a JSON object.
    #[error("user_input.extra_data {0}")]
    ExtraData(#[from] ExtraDataError),
    /// A key of `extra_data` has the wrong type.
    #[error("user_input.extra_data.{key} must be {expected}, got {got}")]
    InvalidValue {
        /// The key.
        key: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it was.
        got: String,
    },
    /// The shipped catalogue is unreadable (a build problem, not an input problem).
    #[error("the shipped goal catalogue is unreadable: {0}")]
    Catalog(String),
}

/// Parses a user's `extra_data`: blank means `{}`; otherwise a JSON object.
pub fn parse_extra_data(bytes: &[u8]) -> Result<Map<String, Value>, MetadataError> {
    extra_data::parse_object(bytes).map_err(MetadataError::from)
}

/// A non-empty string value of `extra_data[key]`; null, absent or blank → `None`.
fn text_key(
    extra: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<String>, MetadataError> {
    match extra.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(other) => Err(MetadataError::InvalidValue {
            key,
            expected: "a string",
            got: other.to_string(),
        }),
    }
}

/// [`metadata_with`] over the shipped catalogue.
pub fn metadata(user: &UserInputImpl) -> Result<MLModelMetadataImpl, MetadataError> {
    let catalog = Catalog::shipped().map_err(MetadataError::Catalog)?;
    metadata_with(catalog, user)
}

/// The node's output for one task (see the crate docs). The `task_id` is left for the
/// runtime to set.
pub fn metadata_with(
    catalog: &Catalog,
    user: &UserInputImpl,
) -> Result<MLModelMetadataImpl, MetadataError> {
    let extra = parse_extra_data(&user.extra_data)?;
    let ui_goal = text_key(&extra, "goal")?;
    let selected = text_key(&extra, "model_selected")?;
    let mut out = MLModelMetadataImpl::default();
    let mut note = Map::new();
    let source = if let Some(model) = &selected {
        note.insert("model_selected".into(), json!(model));
        "model_selected"
    } else if let Some(goal) = &ui_goal {
        let known = catalog
            .goal(goal)
            .ok_or_else(|| MetadataError::UnknownGoal {
                given: goal.clone(),
                known: catalog.goal_names(),
            })?;
        out.ml_model_metadata = vec![known.name.clone()];
        "ui_goal"
    } else {
        "cues"
    };
    // The UI's choices need no classification; it still gives keywords when it can.
    match (classify(catalog, user), source) {
        (Ok(c), _) => {
            out.keywords = c.keywords.clone();
            if source == "cues" {
                out.ml_model_metadata = vec![c.goal.clone()];
            }
            note.insert("classification".into(), c.explain());
        }
        (Err(e), "cues") => return Err(e),
        (Err(e), _) => {
            note.insert("classification".into(), json!({ "skipped": e.to_string() }));
        }
    }
    note.insert("source".into(), json!(source));
    note.insert(
        "method".into(),
        json!("weighted cues of data/goals.toml; highest score wins, file order breaks ties"),
    );
    if let Some(goal) = out.ml_model_metadata.first() {
        note.insert("goal".into(), json!(goal));
    }
    for key in ["model_restrains", "type"] {
        if let Some(v) = extra.get(key) {
            note.insert(key.into(), v.clone());
        }
    }
    note.insert(
        "problem_short_description".into(),
        json!(user.problem_short_description),
    );
    out.extra_data = Value::Object(note).to_string().into_bytes();
    Ok(out)
}

/// Answers a configuration request, as the reference's queries:
///
/// - `modality` → `{"modalities":"a, b", "goals":"x, y"}`
/// - `in_out_modalities` → `{"inputs":"…", "outputs":"…"}`
/// - `problem_from_modality, <m>` → `{"goals":"…"}` (unknown modality → error)
/// - `metrics, <spec>` → `{"metrics":"…"}`, where spec is `all`, `problem: a, b` (or
///   `goal:`, `task:`, `cover_tag:`), `modality: m`, or bare goal/modality names
/// - anything else → `Unsupported configuration request: …`
pub fn configure(request: &str) -> Result<String, ConfigError> {
    Ok(config::answer(Catalog::shipped()?, request)?)
}

#[cfg(test)]
mod tests;
