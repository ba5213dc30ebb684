//! The shipped catalogue of modalities and goals (`data/goals.toml`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use crate::cues::{words, Cue};

/// The catalogue text shipped in the crate.
pub const SHIPPED_TOML: &str = include_str!("../data/goals.toml");

/// A data modality and the words users call it by.
#[derive(Debug, Clone)]
pub struct Modality {
    /// Canonical name, e.g. `image`.
    pub name: String,
    /// Names users give it (matched on words, case-insensitively).
    pub aliases: Vec<String>,
    alias_cues: Vec<Cue>,
}

/// A weighted cue of a goal, with its text as written in the catalogue.
#[derive(Debug, Clone)]
pub struct WeightedCue {
    /// The cue as written, e.g. `classif*`.
    pub text: String,
    /// Its weight.
    pub weight: u32,
    pub(crate) cue: Cue,
}

/// An ML goal (a Hugging Face pipeline tag) and how to recognise it.
#[derive(Debug, Clone)]
pub struct Goal {
    /// Pipeline tag, e.g. `image-classification`.
    pub name: String,
    /// Modality name.
    pub modality: String,
    /// What the model takes.
    pub inputs: Vec<String>,
    /// What the model gives.
    pub outputs: Vec<String>,
    /// Usual evaluation metrics.
    pub metrics: Vec<String>,
    /// Cues in the problem description.
    pub cues: Vec<WeightedCue>,
    /// Cues in the user's inputs.
    pub input_cues: Vec<WeightedCue>,
    /// Cues in the user's outputs.
    pub output_cues: Vec<WeightedCue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    modality: Vec<RawModality>,
    goal: Vec<RawGoal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModality {
    name: String,
    aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGoal {
    name: String,
    modality: String,
    inputs: Vec<String>,
    outputs: Vec<String>,
    metrics: Vec<String>,
    cues: BTreeMap<String, u32>,
    #[serde(default)]
    input_cues: BTreeMap<String, u32>,
    #[serde(default)]
    output_cues: BTreeMap<String, u32>,
}

/// Modalities and goals, in file order.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// The modalities.
    pub modalities: Vec<Modality>,
    /// The goals (file order is the tie-break order).
    pub goals: Vec<Goal>,
}

static SHIPPED: LazyLock<Result<Catalog, String>> = LazyLock::new(|| Catalog::parse(SHIPPED_TOML));

fn weighted(goal: &str, map: BTreeMap<String, u32>) -> Result<Vec<WeightedCue>, String> {
    map.into_iter()
        .map(|(text, weight)| {
            if weight == 0 {
                return Err(format!("goal {goal}: cue {text:?} has weight 0"));
            }
            let cue = Cue::parse(&text).map_err(|e| format!("goal {goal}: {e}"))?;
            Ok(WeightedCue { text, weight, cue })
        })
        .collect()
}

impl Catalog {
    /// The catalogue shipped in the crate, parsed once.
    pub fn shipped() -> Result<&'static Catalog, String> {
        SHIPPED.as_ref().map_err(Clone::clone)
    }

    /// Parses and checks a catalogue in the `goals.toml` format.
    pub fn parse(text: &str) -> Result<Self, String> {
        let raw: RawCatalog = toml::from_str(text).map_err(|e| e.to_string())?;
        let modalities = raw
            .modality
            .into_iter()
            .map(|m| {
                let alias_cues = m
                    .aliases
                    .iter()
                    .map(|a| Cue::parse(a))
                    .collect::<Result<_, _>>()?;
                Ok(Modality {
                    name: m.name,
                    aliases: m.aliases,
                    alias_cues,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut goals = Vec::new();
        for g in raw.goal {
            if !modalities.iter().any(|m| m.name == g.modality) {
                return Err(format!("goal {}: unknown modality {}", g.name, g.modality));
            }
            if goals.iter().any(|o: &Goal| o.name == g.name) {
                return Err(format!("goal {} listed twice", g.name));
            }
            goals.push(Goal {
                cues: weighted(&g.name, g.cues)?,
                input_cues: weighted(&g.name, g.input_cues)?,
                output_cues: weighted(&g.name, g.output_cues)?,
                name: g.name,
                modality: g.modality,
                inputs: g.inputs,
                outputs: g.outputs,
                metrics: g.metrics,
            });
        }
        Ok(Self { modalities, goals })
    }

    /// The modality a user's text names (its canonical name or an alias, compared on
    /// words, case-insensitively).
    pub fn modality(&self, text: &str) -> Option<&Modality> {
        let w = words(text);
        if w.is_empty() {
            return None;
        }
        self.modalities
            .iter()
            .find(|m| words(&m.name) == w || m.aliases.iter().any(|a| words(a) == w))
    }

    /// The modality whose aliases occur most in `text` (earlier modality on ties), if any.
    pub fn modality_mentioned(&self, text: &[String]) -> Option<&Modality> {
        let mut best: Option<(&Modality, usize)> = None;
        for m in &self.modalities {
            let hits = m
                .alias_cues
                .iter()
                .filter(|c| c.find(text).is_some())
                .count();
            if hits > 0 && best.is_none_or(|(_, b)| hits > b) {
                best = Some((m, hits));
            }
        }
        best.map(|(m, _)| m)
    }

    /// The goal named `name` (exact pipeline tag, case-insensitive).
    pub fn goal(&self, name: &str) -> Option<&Goal> {
        let name = name.trim();
        self.goals
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
    }

    /// The goals of a modality, in file order.
    pub fn goals_of<'a>(&'a self, modality: &'a str) -> impl Iterator<Item = &'a Goal> + 'a {
        self.goals.iter().filter(move |g| g.modality == modality)
    }

    /// Every goal name, comma-separated.
    pub fn goal_names(&self) -> String {
        join(self.goals.iter().map(|g| g.name.as_str()))
    }

    /// Every modality name, comma-separated.
    pub fn modality_names(&self) -> String {
        join(self.modalities.iter().map(|m| m.name.as_str()))
    }
}

/// Joins names with ", ", dropping repeats (first occurrence kept).
pub fn join<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for n in names {
        if !seen.contains(&n) {
            seen.push(n);
        }
    }
    seen.join(", ")
}
