//! `sustainml node list`: the live nodes, from the statuses they publish on
//! `/sustainml/status` (transient-local, so a new reader gets every live node's last
//! status). Needs no orchestrator.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;
use sustainml_dds::Participant;
use sustainml_types::topics::STATUS;
use sustainml_types::{ErrorCode, NodeStatusImpl, TaskIdImpl};

/// What one node last said: about itself ({0,0}) and about its latest task.
#[derive(Debug, Default)]
pub struct Seen {
    /// Its last status about itself.
    pub node: Option<NodeStatusImpl>,
    /// Its last status about its latest task.
    pub task: Option<NodeStatusImpl>,
}

impl Seen {
    /// Its latest status (about itself if any, else about its task).
    pub fn latest(&self) -> Option<&NodeStatusImpl> {
        self.node.as_ref().or(self.task.as_ref())
    }
}

fn key(t: &TaskIdImpl) -> (u32, u32) {
    (t.problem_id, t.iteration_id)
}

/// Listens for `wait` and returns what each node said, by node name.
pub async fn collect(participant: &Participant, wait: Duration) -> Result<BTreeMap<String, Seen>> {
    let mut sub = participant
        .subscriber::<NodeStatusImpl>(STATUS)
        .context("subscribing to /sustainml/status")?;
    let mut nodes: BTreeMap<String, Seen> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(got) = tokio::time::timeout_at(deadline, sub.recv()).await {
        let status = got.context("reading /sustainml/status")?.value;
        let seen = nodes.entry(status.node_name.clone()).or_default();
        if key(&status.task_id) == (0, 0) {
            seen.node = Some(status);
        } else if seen
            .task
            .as_ref()
            .is_none_or(|t| key(&t.task_id) <= key(&status.task_id))
        {
            seen.task = Some(status);
        }
    }
    Ok(nodes)
}

/// Listens for `wait` and prints one row per node (a table, or JSON lines).
pub async fn list(participant: &Participant, wait: Duration, as_json: bool) -> Result<()> {
    let nodes = collect(participant, wait).await?;
    if !as_json {
        println!(
            "{:<24} {:<18} {:<18} {:<10} ERROR",
            "NODE", "STATUS", "TASK STATUS", "LAST TASK"
        );
    }
    for (name, seen) in &nodes {
        let Some(latest) = seen.latest() else {
            continue;
        };
        let task = seen.task.as_ref();
        let task_status = task.map(|t| t.task_status.to_string());
        let last_task =
            task.map(|t| format!("{}/{}", t.task_id.problem_id, t.task_id.iteration_id));
        let error = [seen.node.as_ref(), task]
            .into_iter()
            .flatten()
            .find(|s| s.error_code != ErrorCode::default())
            .map(|s| format!("{}: {}", s.error_code, s.error_description));
        if as_json {
            println!(
                "{}",
                json!({
                    "node": name,
                    "status": latest.node_status.to_string(),
                    "task_status": task_status,
                    "last_task": task.map(|t| json!({
                        "problem_id": t.task_id.problem_id,
                        "iteration_id": t.task_id.iteration_id,
                    })),
                    "error": error,
                })
            );
        } else {
            println!(
                "{:<24} {:<18} {:<18} {:<10} {}",
                name,
                latest.node_status.to_string(),
                task_status.as_deref().unwrap_or("-"),
                last_task.as_deref().unwrap_or("-"),
                error.as_deref().unwrap_or("-"),
            );
        }
    }
    if nodes.is_empty() && !as_json {
        eprintln!(
            "no node status heard within {:.1} s (domain {})",
            wait.as_secs_f64(),
            participant.domain()
        );
    }
    Ok(())
}
