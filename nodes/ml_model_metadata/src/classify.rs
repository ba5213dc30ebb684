//! Scoring the candidate goals of a problem against their cues.

use serde_json::{json, Map, Value};
use sustainml_types::UserInputImpl;

use crate::catalog::{join, Catalog, Goal, WeightedCue};
use crate::cues::words;
use crate::MetadataError;

/// Where the modality came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModalitySource {
    /// `user_input.modality`.
    User,
    /// Inferred from modality words in the inputs and description.
    Inferred,
    /// None given or found: every goal was a candidate.
    Any,
}

/// One candidate goal's score and the cues behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalScore {
    /// The goal.
    pub goal: String,
    /// Sum of the matched cues' weights.
    pub score: u32,
    /// Each match as `"<words found>" (<cue>, <where>, +<weight>)`.
    pub matched: Vec<String>,
}

/// The outcome of [`classify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// The chosen goal.
    pub goal: String,
    /// The modality used (`"any"` when none).
    pub modality: String,
    /// Where it came from.
    pub modality_source: ModalitySource,
    /// Every candidate, best first (file order among equals).
    pub scores: Vec<GoalScore>,
    /// Goals with the winner's score that lost on file order.
    pub tied_with: Vec<String>,
    /// The words the cues matched, in text order (description, inputs, outputs).
    pub keywords: Vec<String>,
}

impl Classification {
    /// The explanation as JSON (what goes into `extra_data`).
    pub fn explain(&self) -> Value {
        let mut scores = Map::new();
        let mut matched = Map::new();
        for s in &self.scores {
            scores.insert(s.goal.clone(), json!(s.score));
            if !s.matched.is_empty() {
                matched.insert(s.goal.clone(), json!(s.matched));
            }
        }
        json!({
            "goal": self.goal,
            "modality": self.modality,
            "modality_source": match self.modality_source {
                ModalitySource::User => "user_input.modality",
                ModalitySource::Inferred => "inferred from inputs and description",
                ModalitySource::Any => "none: every goal was a candidate",
            },
            "scores": scores,
            "matched": matched,
            "tied_with": self.tied_with,
        })
    }
}

/// Where cues are looked for: `(name, items)`, each item a list of words.
struct Texts {
    parts: [(&'static str, Vec<Vec<String>>); 3],
}

/// A matched cue: its position (part, item, word) and the words found.
type Hit = ((usize, usize, usize), String);

/// Matches `cues` in one part of the texts: score, explanations and hits.
fn match_cues(cues: &[WeightedCue], part: usize, texts: &Texts) -> (u32, Vec<String>, Vec<Hit>) {
    let (where_, items) = &texts.parts[part];
    let mut score = 0;
    let mut explained = Vec::new();
    let mut hits = Vec::new();
    for c in cues {
        let found = items
            .iter()
            .enumerate()
            .find_map(|(i, item)| c.cue.find(item).map(|(w, s)| (i, w, s)));
        if let Some((item, word, surface)) = found {
            score += c.weight;
            explained.push(format!("{surface:?} ({}, {where_}, +{})", c.text, c.weight));
            hits.push(((part, item, word), surface));
        }
    }
    (score, explained, hits)
}

fn score_goal(goal: &Goal, texts: &Texts, hits: &mut Vec<Hit>) -> GoalScore {
    let mut total = GoalScore {
        goal: goal.name.clone(),
        score: 0,
        matched: Vec::new(),
    };
    for (part, cues) in [&goal.cues, &goal.input_cues, &goal.output_cues]
        .into_iter()
        .enumerate()
    {
        let (s, explained, h) = match_cues(cues, part, texts);
        total.score += s;
        total.matched.extend(explained);
        hits.extend(h);
    }
    total
}

/// Chooses the goal of a user's problem (the method is described in the crate docs).
pub fn classify(catalog: &Catalog, user: &UserInputImpl) -> Result<Classification, MetadataError> {
    let description = words(&format!(
        "{} {}",
        user.problem_short_description, user.problem_definition
    ));
    let texts = Texts {
        parts: [
            ("description", vec![description]),
            ("inputs", user.inputs.iter().map(|s| words(s)).collect()),
            ("outputs", user.outputs.iter().map(|s| words(s)).collect()),
        ],
    };
    let (modality, source) = if user.modality.trim().is_empty() {
        let mut seen: Vec<String> = texts.parts[1].1.concat();
        seen.extend(texts.parts[0].1.concat());
        match catalog.modality_mentioned(&seen) {
            Some(m) => (Some(m), ModalitySource::Inferred),
            None => (None, ModalitySource::Any),
        }
    } else {
        let m = catalog
            .modality(&user.modality)
            .ok_or_else(|| MetadataError::UnknownModality {
                given: user.modality.clone(),
                known: catalog.modality_names(),
            })?;
        (Some(m), ModalitySource::User)
    };
    let candidates: Vec<&Goal> = match modality {
        Some(m) => catalog.goals_of(&m.name).collect(),
        None => catalog.goals.iter().collect(),
    };
    let mut hits = Vec::new();
    let mut scores: Vec<GoalScore> = candidates
        .iter()
        .map(|g| score_goal(g, &texts, &mut hits))
        .collect();
    // Stable sort: equal scores keep file order, so the first is the winner.
    scores.sort_by_key(|s| std::cmp::Reverse(s.score));
    let modality_name = modality.map_or("candidate", |m| m.name.as_str()).to_owned();
    let best = match scores.first() {
        Some(b) if b.score > 0 => b.clone(),
        _ => {
            return Err(MetadataError::NoMatch {
                modality: modality_name,
                goals: join(candidates.iter().map(|g| g.name.as_str())),
            })
        }
    };
    hits.sort();
    let mut keywords: Vec<String> = Vec::new();
    for (i, (pos, w)) in hits.iter().enumerate() {
        // A cue inside a longer one found at the same place ("keyword" in
        // "keyword spotting") adds no keyword of its own.
        let covered = hits[i + 1..]
            .iter()
            .any(|(p, longer)| p == pos && longer.starts_with(w.as_str()));
        if !covered && !keywords.contains(w) {
            keywords.push(w.clone());
        }
    }
    Ok(Classification {
        tied_with: scores[1..]
            .iter()
            .filter(|s| s.score == best.score)
            .map(|s| s.goal.clone())
            .collect(),
        goal: best.goal,
        modality: modality.map_or("any", |m| m.name.as_str()).to_owned(),
        modality_source: source,
        scores,
        keywords,
    })
}
