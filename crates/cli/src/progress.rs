//! Per-node progress of a task for `sustainml task submit --wait`, on stderr: one
//! live line per node (indicatif) when stderr is a terminal, otherwise one plain line
//! each time a node's state changes.

use std::collections::BTreeMap;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;

/// The six module nodes by REST key, in the order a task flows through them.
pub const NODES: [&str; 6] = [
    "APP_REQUIREMENTS",
    "ML_MODEL_METADATA",
    "HW_CONSTRAINTS",
    "ML_MODEL",
    "HW_RESOURCES",
    "CARBON_FOOTPRINT",
];

/// Whether a status's `node_name` is the node with REST key `key`.
pub fn is_node(name: &Value, key: &str) -> bool {
    name.as_str()
        .is_some_and(|n| n == key || n.strip_suffix("_NODE") == Some(key))
}

/// Where one node is with a task (from `GET /tasks/P/I`), and whether that is final.
fn node_state(task: &Value, key: &str) -> (String, bool) {
    if task["outputs"].get(key).is_some() {
        return ("done".to_owned(), true);
    }
    let last = task["statuses"]
        .as_array()
        .and_then(|s| s.iter().rev().find(|s| is_node(&s["node_name"], key)));
    let finished = task["state"] != "running";
    let Some(last) = last else {
        let state = if finished { "no output" } else { "pending" };
        return (state.to_owned(), finished);
    };
    let description = last["description"].as_str().unwrap_or_default();
    match last["task_status"].as_str().unwrap_or_default() {
        "TASK_ERROR" if description.is_empty() => ("failed".to_owned(), true),
        "TASK_ERROR" => (format!("failed: {description}"), true),
        _ if finished => ("no output".to_owned(), true),
        "TASK_RUNNING" => ("running".to_owned(), false),
        "TASK_WAITING" => ("waiting for inputs".to_owned(), false),
        "TASK_SUCCEEDED" => ("output sent".to_owned(), false),
        other => (other.to_owned(), false),
    }
}

/// The display.
#[derive(Debug)]
pub enum Progress {
    /// Live lines on a terminal.
    Bars {
        /// Keeps the bars drawn together.
        _multi: MultiProgress,
        /// One per node, in [`NODES`] order.
        bars: Vec<ProgressBar>,
    },
    /// Plain lines: the last state printed per node.
    Lines(BTreeMap<&'static str, String>),
}

impl Progress {
    /// Live bars if `terminal`, else plain lines.
    pub fn new(terminal: bool) -> Self {
        if !terminal {
            return Self::Lines(BTreeMap::new());
        }
        let multi = MultiProgress::new();
        let style = ProgressStyle::with_template("{spinner} {prefix:<18} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bars = NODES
            .iter()
            .map(|key| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_prefix(*key);
                bar.set_message("pending");
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .collect();
        Self::Bars {
            _multi: multi,
            bars,
        }
    }

    /// Shows the nodes' states in `task`.
    pub fn update(&mut self, task: &Value) {
        match self {
            Self::Bars { bars, .. } => {
                for (bar, key) in bars.iter().zip(NODES) {
                    if bar.is_finished() {
                        continue;
                    }
                    let (state, last) = node_state(task, key);
                    if last {
                        bar.finish_with_message(state);
                    } else {
                        bar.set_message(state);
                    }
                }
            }
            Self::Lines(seen) => {
                for key in NODES {
                    let (state, _) = node_state(task, key);
                    let before = seen.get(key).map_or("pending", String::as_str);
                    if before != state {
                        eprintln!("  {key}: {state}");
                        seen.insert(key, state);
                    }
                }
            }
        }
    }

    /// Stops the live display (the last states stay on screen).
    pub fn finish(&mut self) {
        if let Self::Bars { bars, .. } = self {
            for bar in bars.iter().filter(|b| !b.is_finished()) {
                bar.abandon();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn node_states_come_from_outputs_then_statuses() {
        let task = json!({
            "state": "running",
            "outputs": {"APP_REQUIREMENTS": {}},
            "statuses": [
                {"node_name": "ML_MODEL_NODE", "task_status": "TASK_RUNNING", "description": ""},
                {"node_name": "HW_RESOURCES_NODE", "task_status": "TASK_ERROR", "description": "no CPU"},
            ],
        });
        assert_eq!(node_state(&task, "APP_REQUIREMENTS"), ("done".into(), true));
        assert_eq!(node_state(&task, "ML_MODEL"), ("running".into(), false));
        assert_eq!(
            node_state(&task, "HW_RESOURCES"),
            ("failed: no CPU".into(), true)
        );
        assert_eq!(
            node_state(&task, "HW_CONSTRAINTS"),
            ("pending".into(), false)
        );
        let failed = json!({"state": "failed", "outputs": {}, "statuses": []});
        assert_eq!(node_state(&failed, "ML_MODEL"), ("no output".into(), true));
    }
}
