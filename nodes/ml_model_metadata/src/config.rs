//! Configuration requests: the reference's queries, answered from the catalogue.

use serde_json::json;

use crate::catalog::{join, Catalog, Goal};

/// Answers one configuration request (see [`crate::configure`]).
pub fn answer(catalog: &Catalog, request: &str) -> Result<String, String> {
    let (verb, arg) = request.split_once(',').unwrap_or((request, ""));
    let arg = arg.trim();
    let reply = match (verb.trim(), arg.is_empty()) {
        ("modality", true) => json!({
            "modalities": catalog.modality_names(),
            "goals": catalog.goal_names(),
        }),
        ("in_out_modalities", true) => json!({
            "inputs": join(catalog.goals.iter().flat_map(|g| g.inputs.iter().map(String::as_str))),
            "outputs": join(catalog.goals.iter().flat_map(|g| g.outputs.iter().map(String::as_str))),
        }),
        ("problem_from_modality", false) => {
            let m = catalog
                .modality(arg)
                .ok_or_else(|| unknown_modality(catalog, arg))?;
            json!({ "goals": join(catalog.goals_of(&m.name).map(|g| g.name.as_str())) })
        }
        ("metrics", false) => {
            let goals = metric_goals(catalog, arg)?;
            json!({ "metrics": join(goals.iter().flat_map(|g| g.metrics.iter().map(String::as_str))) })
        }
        _ => return Err(format!("Unsupported configuration request: {request}")),
    };
    Ok(reply.to_string())
}

fn unknown_modality(catalog: &Catalog, given: &str) -> String {
    format!(
        "unknown modality {given:?}; known: {}",
        catalog.modality_names()
    )
}

/// The goals a `metrics` request is about: `all`, `problem: a, b` (also `goal:`,
/// `task:`, `cover_tag:`), `modality: m`, or bare names of goals or modalities.
fn metric_goals<'a>(catalog: &'a Catalog, spec: &str) -> Result<Vec<&'a Goal>, String> {
    let (selector, values) = match spec.split_once(':') {
        Some((s, v)) => (s.trim().to_lowercase(), v),
        None => (String::new(), spec),
    };
    let names: Vec<&str> = values
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    if selector == "all" || names == ["all"] {
        return Ok(catalog.goals.iter().collect());
    }
    if names.is_empty() {
        return Err(format!("metrics request names nothing: {spec:?}"));
    }
    let by_goal = |n: &str| catalog.goal(n).map(|g| vec![g]);
    let by_modality = |n: &str| {
        catalog
            .modality(n)
            .map(|m| catalog.goals_of(&m.name).collect::<Vec<_>>())
    };
    let mut goals = Vec::new();
    for name in names {
        let found = match selector.as_str() {
            "problem" | "goal" | "goals" | "task" | "cover_tag" => by_goal(name),
            "modality" => by_modality(name),
            "" => by_goal(name).or_else(|| by_modality(name)),
            other => return Err(format!("unknown metrics selector {other:?}")),
        };
        goals.extend(found.ok_or_else(|| {
            format!(
                "unknown goal or modality {name:?}; goals: {}; modalities: {}",
                catalog.goal_names(),
                catalog.modality_names()
            )
        })?);
    }
    Ok(goals)
}
