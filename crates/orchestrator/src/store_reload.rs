//! What a restarted orchestrator reads back: the tasks the store still marks running
//! (with the outputs already stored for them) and the optimisation runs.

use rusqlite::params;
use sustainml_types::{NodeId, TaskIdImpl};

use super::Store;
use crate::error::StoreError;

/// A task the store still marks running.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningTask {
    /// The task.
    pub task_id: TaskIdImpl,
    /// When it was started (ms since the Unix epoch).
    pub created_ms: u64,
    /// The nodes whose outputs are stored, each with the footprint it carries
    /// (CARBON_FOOTPRINT's), oldest node id first.
    pub outputs: Vec<(NodeId, Option<f64>)>,
}

impl Store {
    /// Every task still marked running, oldest first, with the outputs stored for it.
    pub fn running_tasks(&self) -> Result<Vec<RunningTask>, StoreError> {
        let what = "reading the running tasks";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT t.problem_id, t.iteration_id, t.created_ms, o.node_id, o.carbon
                 FROM tasks t LEFT JOIN outputs o
                   ON o.problem_id = t.problem_id AND o.iteration_id = t.iteration_id
                 WHERE t.state = 'running'
                 ORDER BY t.problem_id, t.iteration_id, o.node_id",
            )
            .map_err(|e| self.err(what, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    TaskIdImpl::new(r.get(0)?, r.get(1)?),
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i32>>(3)?,
                    r.get::<_, Option<f64>>(4)?,
                ))
            })
            .map_err(|e| self.err(what, e))?;
        let mut out: Vec<RunningTask> = Vec::new();
        for row in rows {
            let (task_id, created, node, carbon) = row.map_err(|e| self.err(what, e))?;
            if out.last().is_none_or(|t| t.task_id != task_id) {
                out.push(RunningTask {
                    task_id,
                    created_ms: u64::try_from(created).unwrap_or(0),
                    outputs: Vec::new(),
                });
            }
            let Some(node) = node else { continue };
            let node = NodeId::from_value(node).ok_or_else(|| StoreError::Decode {
                path: self.path.clone(),
                what: format!("output of {task_id}"),
                reason: format!("unknown node id {node}"),
            })?;
            if let Some(t) = out.last_mut() {
                t.outputs.push((node, carbon));
            }
        }
        Ok(out)
    }

    /// When a task was started (ms since the Unix epoch).
    pub fn created_ms(&self, id: TaskIdImpl) -> Result<Option<u64>, StoreError> {
        use rusqlite::OptionalExtension;
        let created: Option<i64> = self
            .conn
            .query_row(
                "SELECT created_ms FROM tasks WHERE problem_id = ?1 AND iteration_id = ?2",
                params![id.problem_id, id.iteration_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err("reading a task's start", e))?;
        Ok(created.map(|c| u64::try_from(c).unwrap_or(0)))
    }

    /// Every optimisation run's report (JSON), by problem id.
    pub fn runs(&self) -> Result<Vec<(u32, String)>, StoreError> {
        let what = "reading the optimisation runs";
        let mut stmt = self
            .conn
            .prepare("SELECT problem_id, report FROM runs ORDER BY problem_id")
            .map_err(|e| self.err(what, e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(what, e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| self.err(what, e))
    }
}
