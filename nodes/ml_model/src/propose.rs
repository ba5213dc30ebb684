//! Choosing a model: the rule, and what it needs from the node's inputs.
//!
//! The rule, in order:
//! 1. `model_selected` (user extra_data) names a catalogue model: propose it.
//! 2. Candidates: models for the goal, not in `model_restrains`, whose fp32 weights fit
//!    `max_memory_footprint` (MB), and whose published score meets the app's
//!    `accuracy>=` requirement when there is one.
//! 3. From iteration 2 on, with a baseline model: only candidates needing fewer MACs
//!    per inference than it (on the same hardware, energy follows MACs), and the
//!    estimated footprint is the baseline's scaled by the MACs ratio.
//! 4. Among scored candidates, the cheapest (fewest MACs) within [`TOLERANCE`] of the
//!    best score; with no scored candidate, the cheapest unscored one.
//! 5. No candidate: `NO_MODEL`, with every rejected model and why.

use std::collections::BTreeMap;

use crate::catalogue::{Catalogue, Model};

/// How far below the best score a cheaper model may be and still be preferred.
pub const TOLERANCE: f64 = 0.02;

/// What the rule needs, gathered from the node's six inputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    /// The ML goal (metadata output).
    pub goal: String,
    /// Largest fp32 weights allowed, in MB; 0 means no limit.
    pub max_memory_mb: f64,
    /// Lowest published score allowed (from `accuracy>=` in the app requirements).
    pub min_score: Option<f64>,
    /// Models the user excluded.
    pub restrained: Vec<String>,
    /// A model the user chose.
    pub selected: Option<String>,
    /// Iteration of the task.
    pub iteration: u32,
    /// The model proposed in the previous iteration, if any.
    pub baseline_model: Option<String>,
    /// The carbon footprint measured for it (kgCO2e), if any.
    pub baseline_carbon: Option<f64>,
}

/// What the rule decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A model, why it was chosen, and why the others were not.
    Proposed {
        /// The model.
        model: Box<Model>,
        /// Why it was chosen.
        reason: String,
        /// Other models of the goal and why they were not chosen.
        rejected: BTreeMap<String, String>,
        /// Estimated footprint (kgCO2e) from the baseline's, when there is one.
        estimated_carbon: Option<f64>,
    },
    /// No model fits.
    NoModel {
        /// Why.
        reason: String,
        /// Every model of the goal and why it was rejected.
        rejected: BTreeMap<String, String>,
    },
}

/// Applies the rule. Errors name what in the request is wrong (unknown goal, unknown
/// selected or baseline model).
pub fn propose(catalogue: &Catalogue, req: &Request) -> Result<Outcome, String> {
    if let Some(name) = &req.selected {
        let model = catalogue.get(name).ok_or_else(|| {
            format!("model_selected {name:?} is not in the model catalogue (configuration query \"catalogue\" lists it)")
        })?;
        return Ok(Outcome::Proposed {
            model: Box::new(model.clone()),
            reason: format!("{name} was selected by the user"),
            rejected: BTreeMap::new(),
            estimated_carbon: None,
        });
    }
    if req.goal.is_empty() {
        return Err("the metadata gives no ML goal".into());
    }
    if !catalogue.goals().contains(&req.goal.as_str()) {
        return Err(format!(
            "unknown goal {:?}; the catalogue has models for: {}",
            req.goal,
            catalogue.goals().join(", ")
        ));
    }
    let baseline =
        match (&req.baseline_model, req.iteration > 1) {
            (Some(name), true) => Some(catalogue.get(name).ok_or_else(|| {
                format!("the baseline model {name:?} is not in the model catalogue")
            })?),
            _ => None,
        };

    let mut rejected = BTreeMap::new();
    let mut candidates: Vec<&Model> = Vec::new();
    for m in catalogue.models().iter().filter(|m| m.goal == req.goal) {
        let why = if req.restrained.contains(&m.name) {
            Some("excluded by model_restrains".to_owned())
        } else if req.max_memory_mb > 0.0 && m.weights_mb() > req.max_memory_mb {
            Some(format!(
                "weights take {:.1} MB, above max_memory_footprint {} MB",
                m.weights_mb(),
                req.max_memory_mb
            ))
        } else if let (Some(min), score) = (req.min_score, m.score) {
            match score {
                None => Some(format!("no published score to meet accuracy >= {min}")),
                Some(s) if s < min => Some(format!("score {s} is below accuracy >= {min}")),
                Some(_) => None,
            }
        } else {
            None
        };
        let why = why.or_else(|| match baseline {
            Some(b) if m.gmacs >= b.gmacs => Some(format!(
                "needs {} GMACs, not fewer than the baseline {} ({} GMACs)",
                m.gmacs, b.name, b.gmacs
            )),
            _ => None,
        });
        match why {
            Some(w) => {
                rejected.insert(m.name.clone(), w);
            }
            None => candidates.push(m),
        }
    }

    let scored: Vec<&Model> = candidates
        .iter()
        .copied()
        .filter(|m| m.score.is_some())
        .collect();
    let (chosen, reason) = if let Some(best) = scored
        .iter()
        .map(|m| m.score.unwrap_or(0.0))
        .reduce(f64::max)
    {
        let chosen = scored
            .iter()
            .copied()
            .filter(|m| m.score.unwrap_or(0.0) >= best - TOLERANCE)
            .min_by(|a, b| a.gmacs.total_cmp(&b.gmacs));
        (
            chosen,
            format!("fewest MACs among the models within {TOLERANCE} of the best score ({best})"),
        )
    } else {
        (
            candidates
                .iter()
                .copied()
                .min_by(|a, b| a.gmacs.total_cmp(&b.gmacs)),
            "fewest MACs; no candidate has a published score".to_owned(),
        )
    };
    let Some(chosen) = chosen else {
        let reason = match baseline {
            Some(b) => format!(
                "no {} model with a lower footprint than the baseline {} fits the constraints",
                req.goal, b.name
            ),
            None => format!("no {} model fits the constraints", req.goal),
        };
        return Ok(Outcome::NoModel { reason, rejected });
    };
    let best = scored.iter().filter_map(|m| m.score).reduce(f64::max);
    for m in candidates.iter().filter(|m| m.name != chosen.name) {
        let why = match (m.score, best) {
            (None, Some(_)) => "no published score; scored models come first".to_owned(),
            (Some(s), Some(b)) if s < b - TOLERANCE => {
                format!("score {s} is more than {TOLERANCE} below the best ({b})")
            }
            _ => format!(
                "needs {} GMACs, more than {} ({} GMACs)",
                m.gmacs, chosen.name, chosen.gmacs
            ),
        };
        rejected.insert(m.name.clone(), why);
    }
    let estimated_carbon = match (baseline, req.baseline_carbon) {
        (Some(b), Some(c)) => Some(c * chosen.gmacs / b.gmacs),
        _ => None,
    };
    let reason = match baseline {
        Some(b) => format!("{reason}, below the baseline {}", b.name),
        None => reason,
    };
    Ok(Outcome::Proposed {
        model: Box::new(chosen.clone()),
        reason,
        rejected,
        estimated_carbon,
    })
}

/// Reads `accuracy>=X` (a fraction or a percentage) from app requirement strings.
pub fn min_score(requirements: &[String]) -> Option<f64> {
    requirements.iter().find_map(|r| {
        let v = threshold(r, "accuracy>=")?;
        Some(if v > 1.0 { v / 100.0 } else { v })
    })
}

/// Reads `latency<=X ms` (or `s`) from app requirement strings, in ms.
pub fn target_latency_ms(requirements: &[String]) -> Option<f64> {
    requirements.iter().find_map(|r| {
        let compact: String = r.chars().filter(|c| !c.is_whitespace()).collect();
        let rest = compact.to_ascii_lowercase();
        let rest = rest.strip_prefix("latency<=")?;
        if let Some(ms) = rest.strip_suffix("ms") {
            ms.parse().ok()
        } else {
            rest.strip_suffix('s')
                .and_then(|s| s.parse::<f64>().ok())
                .map(|s| s * 1000.0)
        }
    })
}

fn threshold(requirement: &str, prefix: &str) -> Option<f64> {
    let compact: String = requirement
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let rest = compact.strip_prefix(prefix)?;
    rest.trim_end_matches('%').parse().ok()
}
