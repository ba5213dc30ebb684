//! The persistent task store: one SQLite file (`orchestrator.sqlite3`) in the data
//! directory, holding tasks, their user input, every node output (its CDR payload,
//! as on the wire), every node's status for each task, each node's last known state,
//! failure reasons and optimisation runs. SQLite keeps its write-ahead log beside it
//! (`orchestrator.sqlite3-wal`) while the orchestrator runs.
//!
//! A model graph (`MLModelImpl.raw_model`, often hundreds of kilobytes) is kept once
//! per distinct graph, in `models` by its BLAKE3 digest: ML_MODEL proposes the same
//! few graphs again and again, and writing each task's copy was most of the store's
//! work. The output row keeps the rest of the sample's CDR and the digest; reading
//! the output puts the graph back, so what comes out is what was received.
//!
//! The connection takes SQLite's exclusive lock when it opens and keeps it, so a
//! second orchestrator on the same directory gets [`StoreError::Locked`] instead of
//! writing beside the first. `Store` is synchronous; the orchestrator runs it on a
//! dedicated thread (see `db.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use sustainml_types::{codec, NodeId, TaskIdImpl, UserInputImpl};

use crate::error::StoreError;
use crate::model::{node_key, NodeInfo, TaskDetails, TaskNodeStatus, TaskState, TaskSummary};
use crate::output::NodeOutput;

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "orchestrator.sqlite3";

/// The schema version this build writes (SQLite `user_version`).
/// Version 1 had no `models` table and kept every graph inline in its output; such a
/// file is upgraded in place when it is opened (its old rows stay readable).
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tasks (
    problem_id   INTEGER NOT NULL,
    iteration_id INTEGER NOT NULL,
    state        TEXT    NOT NULL,
    reason       TEXT,
    created_ms   INTEGER NOT NULL,
    updated_ms   INTEGER NOT NULL,
    user_input   BLOB    NOT NULL,
    PRIMARY KEY (problem_id, iteration_id)
);
CREATE TABLE IF NOT EXISTS outputs (
    problem_id   INTEGER NOT NULL,
    iteration_id INTEGER NOT NULL,
    node_id      INTEGER NOT NULL,
    type_name    TEXT    NOT NULL,
    payload      BLOB    NOT NULL,
    carbon       REAL,
    received_ms  INTEGER NOT NULL,
    raw_model    BLOB,
    PRIMARY KEY (problem_id, iteration_id, node_id)
);
CREATE TABLE IF NOT EXISTS models (
    digest BLOB PRIMARY KEY,
    bytes  BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS task_status (
    problem_id   INTEGER NOT NULL,
    iteration_id INTEGER NOT NULL,
    node_name    TEXT    NOT NULL,
    task_status  TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    updated_ms   INTEGER NOT NULL,
    PRIMARY KEY (problem_id, iteration_id, node_name)
);
CREATE TABLE IF NOT EXISTS nodes (
    node_name         TEXT    PRIMARY KEY,
    status            TEXT    NOT NULL,
    error_description TEXT    NOT NULL,
    last_seen_ms      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    problem_id INTEGER PRIMARY KEY,
    report     TEXT NOT NULL
);
";

/// The task store (synchronous).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

fn ms(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// Opens (or creates) the store in `dir`, creating the directory if needed.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(DB_FILE);
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
            path: path.clone(),
            reason: format!("cannot create the data directory {}: {e}", dir.display()),
        })?;
        let conn = Connection::open(&path).map_err(|e| StoreError::Open {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let store = Self { conn, path };
        store.init()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, what: &str, e: rusqlite::Error) -> StoreError {
        let code = e.sqlite_error_code();
        match code {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked {
                path: self.path.clone(),
            },
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
                path: self.path.clone(),
                reason: e.to_string(),
            },
            _ => StoreError::Query {
                path: self.path.clone(),
                what: what.to_owned(),
                reason: e.to_string(),
            },
        }
    }

    fn init(&self) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(Duration::from_millis(500))
            .map_err(|e| self.err("setting the busy timeout", e))?;
        // Take the write lock now and keep it for the connection's lifetime.
        self.conn
            .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;")
            .map_err(|e| self.err("locking the database", e))?;
        // A write-ahead log with NORMAL sync: a commit is one append, fsynced at
        // checkpoints. A crash of the process loses nothing; a power cut can lose the
        // last commits, never corrupt the file. (The default rollback journal fsyncs
        // several times per commit, and the orchestrator commits on every output.)
        self.conn
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .map_err(|e| self.err("enabling the write-ahead log", e))?;
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err("reading the schema version", e))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                reason: format!(
                    "schema version {version} is newer than this orchestrator's ({SCHEMA_VERSION})"
                ),
            });
        }
        self.conn
            .execute_batch(SCHEMA)
            .map_err(|e| self.err("creating the schema", e))?;
        if version == 1 {
            // Version 1's outputs have no digest column: every graph is inline there.
            // The column and the new version go in one transaction.
            self.conn
                .execute_batch(&format!(
                    "BEGIN; ALTER TABLE outputs ADD COLUMN raw_model BLOB;
                     PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
                ))
                .map_err(|e| self.err("upgrading the schema from version 1", e))?;
        }
        // A file that is SQLite but not ours has other tables and none of ours filled
        // in: the check above and the schema creation are enough for that case.
        self.conn
            .execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .map_err(|e| self.err("writing the schema version", e))?;
        self.conn
            .query_row("PRAGMA quick_check", [], |r| r.get::<_, String>(0))
            .map_err(|e| self.err("checking the database", e))
            .and_then(|ok| {
                if ok == "ok" {
                    Ok(())
                } else {
                    Err(StoreError::Corrupt {
                        path: self.path.clone(),
                        reason: ok,
                    })
                }
            })
    }

    /// The highest problem id stored (0 if none).
    pub fn max_problem_id(&self) -> Result<u32, StoreError> {
        let max: Option<i64> = self
            .conn
            .query_row("SELECT MAX(problem_id) FROM tasks", [], |r| r.get(0))
            .map_err(|e| self.err("reading the highest problem id", e))?;
        Ok(max.and_then(|m| u32::try_from(m).ok()).unwrap_or(0))
    }

    /// The last iteration stored for `problem_id`.
    pub fn last_iteration(&self, problem_id: u32) -> Result<Option<u32>, StoreError> {
        let max: Option<i64> = self
            .conn
            .query_row(
                "SELECT MAX(iteration_id) FROM tasks WHERE problem_id = ?1",
                [problem_id],
                |r| r.get(0),
            )
            .map_err(|e| self.err("reading the last iteration", e))?;
        Ok(max.and_then(|m| u32::try_from(m).ok()))
    }

    /// Records a new running task with its user input.
    pub fn insert_task(&self, input: &UserInputImpl, now: u64) -> Result<(), StoreError> {
        let id = input.task_id;
        let payload = codec::encode(input).map_err(|e| StoreError::Decode {
            path: self.path.clone(),
            what: format!("user input of {id}"),
            reason: e.to_string(),
        })?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO tasks VALUES (?1, ?2, 'running', NULL, ?3, ?3, ?4)",
                params![id.problem_id, id.iteration_id, ms(now), payload],
            )
            .map_err(|e| self.err("recording a task", e))?;
        Ok(())
    }

    /// Sets a task's state.
    pub fn set_state(&self, id: TaskIdImpl, state: &TaskState, now: u64) -> Result<(), StoreError> {
        let (name, reason) = state.parts();
        self.conn
            .execute(
                "UPDATE tasks SET state = ?3, reason = ?4, updated_ms = ?5
                 WHERE problem_id = ?1 AND iteration_id = ?2",
                params![id.problem_id, id.iteration_id, name, reason, ms(now)],
            )
            .map_err(|e| self.err("updating a task's state", e))?;
        Ok(())
    }

    /// Stores an output if its task is known; returns whether it was stored. A model
    /// graph goes to `models` (once per distinct graph) and the row keeps its digest.
    pub fn put_output(&self, out: &NodeOutput, now: u64) -> Result<bool, StoreError> {
        let id = out.task_id();
        let graph = match out {
            NodeOutput::MlModel(m) if !m.raw_model.is_empty() => Some(m),
            _ => None,
        };
        let encoded = match graph {
            Some(m) => NodeOutput::MlModel(m.without_raw_model()).encode(),
            None => out.encode(),
        };
        let payload = encoded.map_err(|e| StoreError::Decode {
            path: self.path.clone(),
            what: format!("output of {} for {id}", out.node()),
            reason: e.to_string(),
        })?;
        let digest = graph.map(|m| blake3::hash(&m.raw_model));
        let digest_bytes = digest.as_ref().map(|d| d.as_bytes().as_slice());
        let type_name = crate::output::output_topic(out.node()).map_or("", |t| t.type_name);
        self.atomically("storing an output", || {
            let n = self
                .conn
                .prepare_cached(
                    "INSERT OR REPLACE INTO outputs
                     (problem_id, iteration_id, node_id, type_name, payload, carbon,
                      received_ms, raw_model)
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
                     WHERE EXISTS (SELECT 1 FROM tasks
                                   WHERE problem_id = ?1 AND iteration_id = ?2)",
                )?
                .execute(params![
                    id.problem_id,
                    id.iteration_id,
                    out.node().value(),
                    type_name,
                    payload,
                    out.carbon_footprint(),
                    ms(now),
                    digest_bytes,
                ])?;
            if let (true, Some(m), Some(d)) = (n > 0, graph, digest_bytes) {
                let known = self
                    .conn
                    .prepare_cached("SELECT 1 FROM models WHERE digest = ?1")?
                    .exists([d])?;
                if !known {
                    self.conn
                        .prepare_cached("INSERT INTO models VALUES (?1, ?2)")?
                        .execute(params![d, m.raw_model])?;
                }
            }
            Ok(n > 0)
        })
    }

    /// Runs `f` as one unit (a savepoint: inside the store thread's batch transaction,
    /// or as its own transaction outside one); on an error nothing of it stays.
    fn atomically<R>(
        &self,
        what: &str,
        f: impl FnOnce() -> rusqlite::Result<R>,
    ) -> Result<R, StoreError> {
        self.conn
            .execute_batch("SAVEPOINT unit")
            .map_err(|e| self.err(what, e))?;
        match f() {
            Ok(r) => {
                self.conn
                    .execute_batch("RELEASE unit")
                    .map_err(|e| self.err(what, e))?;
                Ok(r)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK TO unit; RELEASE unit");
                Err(self.err(what, e))
            }
        }
    }

    /// Opens a transaction that the writes and reads until [`Store::commit`] share
    /// (the store thread batches the work queued at once this way).
    pub(crate) fn begin(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("BEGIN")
            .map_err(|e| self.err("starting a transaction", e))
    }

    /// Commits the transaction [`Store::begin`] opened (rolls it back if that fails).
    pub(crate) fn commit(&self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT").map_err(|e| {
            let err = self.err("committing", e);
            let _ = self.conn.execute_batch("ROLLBACK");
            err
        })
    }

    /// Stores what a node said about a task, if the task is known.
    pub fn put_task_status(&self, id: TaskIdImpl, s: &TaskNodeStatus) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO task_status
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6
                 WHERE EXISTS (SELECT 1 FROM tasks WHERE problem_id = ?1 AND iteration_id = ?2)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    id.problem_id,
                    id.iteration_id,
                    s.node_name,
                    s.task_status,
                    s.description,
                    ms(s.updated_ms)
                ])
            })
            .map_err(|e| self.err("storing a task status", e))?;
        Ok(())
    }

    /// Every task, oldest first.
    pub fn tasks(&self) -> Result<Vec<TaskSummary>, StoreError> {
        self.summaries("", params![])
    }

    fn summaries(
        &self,
        filter: &str,
        args: impl rusqlite::Params,
    ) -> Result<Vec<TaskSummary>, StoreError> {
        let sql = format!(
            "SELECT t.problem_id, t.iteration_id, t.state, t.reason, t.created_ms, t.updated_ms,
                    (SELECT COUNT(*) FROM outputs o
                      WHERE o.problem_id = t.problem_id AND o.iteration_id = t.iteration_id),
                    (SELECT o.carbon FROM outputs o
                      WHERE o.problem_id = t.problem_id AND o.iteration_id = t.iteration_id
                        AND o.carbon IS NOT NULL)
             FROM tasks t {filter} ORDER BY t.problem_id, t.iteration_id"
        );
        let mut stmt = self
            .conn
            .prepare(&sql)
            .map_err(|e| self.err("listing tasks", e))?;
        let rows = stmt
            .query_map(args, |r| {
                Ok((
                    TaskIdImpl::new(r.get(0)?, r.get(1)?),
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, Option<f64>>(7)?,
                ))
            })
            .map_err(|e| self.err("listing tasks", e))?;
        let mut out = Vec::new();
        for row in rows {
            let (task_id, state, reason, created, updated, outputs, carbon) =
                row.map_err(|e| self.err("listing tasks", e))?;
            let state =
                TaskState::from_parts(&state, reason).ok_or_else(|| StoreError::Decode {
                    path: self.path.clone(),
                    what: format!("state of task {task_id}"),
                    reason: format!("unknown state {state:?}"),
                })?;
            out.push(TaskSummary {
                task_id,
                state,
                created_ms: u64::try_from(created).unwrap_or(0),
                updated_ms: u64::try_from(updated).unwrap_or(0),
                outputs: u32::try_from(outputs).unwrap_or(0),
                carbon_footprint: carbon,
            });
        }
        Ok(out)
    }

    /// One task's summary.
    pub fn summary(&self, id: TaskIdImpl) -> Result<Option<TaskSummary>, StoreError> {
        Ok(self
            .summaries(
                "WHERE t.problem_id = ?1 AND t.iteration_id = ?2",
                params![id.problem_id, id.iteration_id],
            )?
            .pop())
    }

    /// The user input of a task.
    pub fn user_input(&self, id: TaskIdImpl) -> Result<Option<UserInputImpl>, StoreError> {
        let payload: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT user_input FROM tasks WHERE problem_id = ?1 AND iteration_id = ?2",
                [id.problem_id, id.iteration_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err("reading a user input", e))?;
        payload
            .map(|p| {
                codec::decode(&p).map_err(|e| StoreError::Decode {
                    path: self.path.clone(),
                    what: format!("user input of {id}"),
                    reason: e.to_string(),
                })
            })
            .transpose()
    }

    /// One node's output for a task.
    pub fn output(&self, id: TaskIdImpl, node: NodeId) -> Result<Option<NodeOutput>, StoreError> {
        Ok(self.outputs(id, Some(node))?.into_values().next())
    }

    /// A task's outputs (all of them, or one node's).
    pub fn outputs(
        &self,
        id: TaskIdImpl,
        node: Option<NodeId>,
    ) -> Result<BTreeMap<NodeId, NodeOutput>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT o.node_id, o.payload, o.raw_model IS NOT NULL, m.bytes
                 FROM outputs o LEFT JOIN models m ON m.digest = o.raw_model
                 WHERE o.problem_id = ?1 AND o.iteration_id = ?2
                   AND (?3 IS NULL OR o.node_id = ?3)",
            )
            .map_err(|e| self.err("reading outputs", e))?;
        let rows = stmt
            .query_map(
                params![id.problem_id, id.iteration_id, node.map(NodeId::value)],
                |r| {
                    Ok((
                        r.get::<_, i32>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, Option<Vec<u8>>>(3)?,
                    ))
                },
            )
            .map_err(|e| self.err("reading outputs", e))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (node_id, payload, has_graph, graph) =
                row.map_err(|e| self.err("reading outputs", e))?;
            let decoded = NodeId::from_value(node_id)
                .ok_or_else(|| format!("unknown node id {node_id}"))
                .and_then(|n| NodeOutput::decode(n, &payload).map_err(|e| e.to_string()))
                .and_then(|o| match (o, has_graph, graph) {
                    (NodeOutput::MlModel(mut m), true, Some(bytes)) => {
                        m.raw_model = bytes;
                        Ok(NodeOutput::MlModel(m))
                    }
                    (_, true, None) => Err("its model graph is missing from the store".into()),
                    (o, _, _) => Ok(o),
                })
                .map_err(|reason| StoreError::Decode {
                    path: self.path.clone(),
                    what: format!("output of node {node_id} for {id}"),
                    reason,
                })?;
            out.insert(decoded.node(), decoded);
        }
        Ok(out)
    }

    /// What every node said about a task.
    pub fn task_statuses(&self, id: TaskIdImpl) -> Result<Vec<TaskNodeStatus>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT node_name, task_status, description, updated_ms FROM task_status
                 WHERE problem_id = ?1 AND iteration_id = ?2 ORDER BY node_name",
            )
            .map_err(|e| self.err("reading task statuses", e))?;
        let rows = stmt
            .query_map([id.problem_id, id.iteration_id], |r| {
                Ok(TaskNodeStatus {
                    node_name: r.get(0)?,
                    task_status: r.get(1)?,
                    description: r.get(2)?,
                    updated_ms: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                })
            })
            .map_err(|e| self.err("reading task statuses", e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| self.err("reading task statuses", e))
    }

    /// Everything about a task.
    pub fn task(&self, id: TaskIdImpl) -> Result<Option<TaskDetails>, StoreError> {
        let Some(summary) = self.summary(id)? else {
            return Ok(None);
        };
        Ok(Some(TaskDetails {
            summary,
            user_input: self.user_input(id)?,
            outputs: self.outputs(id, None)?,
            statuses: self.task_statuses(id)?,
        }))
    }

    /// Deletes the tasks that ended (done or failed) before `before_ms`, with their
    /// outputs and statuses, and the optimisation runs none of whose iterations is
    /// left. Running tasks stay whatever their age. Returns how many tasks went.
    pub fn prune(&self, before_ms: u64) -> Result<usize, StoreError> {
        let old = "SELECT problem_id, iteration_id FROM tasks
                   WHERE state <> 'running' AND updated_ms < ?1";
        let cutoff = [ms(before_ms)];
        self.atomically("pruning old tasks", || {
            let c = &self.conn;
            c.execute(
                &format!("DELETE FROM outputs WHERE (problem_id, iteration_id) IN ({old})"),
                cutoff,
            )?;
            c.execute(
                &format!("DELETE FROM task_status WHERE (problem_id, iteration_id) IN ({old})"),
                cutoff,
            )?;
            let n = c.execute(
                "DELETE FROM tasks WHERE state <> 'running' AND updated_ms < ?1",
                cutoff,
            )?;
            c.execute(
                "DELETE FROM runs WHERE problem_id NOT IN (SELECT problem_id FROM tasks)",
                [],
            )?;
            c.execute(
                "DELETE FROM models WHERE digest NOT IN
                   (SELECT raw_model FROM outputs WHERE raw_model IS NOT NULL)",
                [],
            )?;
            Ok(n)
        })
    }

    /// Remembers a node's latest state (its status as last heard, or INACTIVE).
    pub fn put_node(&self, n: &NodeInfo) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO nodes VALUES (?1, ?2, ?3, ?4)",
                params![
                    n.node_name,
                    n.status,
                    n.error_description,
                    ms(n.last_seen_ms)
                ],
            )
            .map_err(|e| self.err("storing a node's state", e))?;
        Ok(())
    }

    /// Every node ever heard from, as last recorded, with `alive` false: nothing is
    /// known about them until they are heard from again.
    pub fn nodes(&self) -> Result<Vec<NodeInfo>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT node_name, status, error_description, last_seen_ms FROM nodes
                 ORDER BY node_name",
            )
            .map_err(|e| self.err("reading the nodes", e))?;
        let rows = stmt
            .query_map([], |r| {
                let node_name: String = r.get(0)?;
                Ok(NodeInfo {
                    key: node_key(&node_name),
                    node_name,
                    status: r.get(1)?,
                    error_description: r.get(2)?,
                    last_seen_ms: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                    alive: false,
                })
            })
            .map_err(|e| self.err("reading the nodes", e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| self.err("reading the nodes", e))
    }

    /// Stores an optimisation run's report (JSON).
    pub fn put_run(&self, problem_id: u32, report: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO runs VALUES (?1, ?2)",
                params![problem_id, report],
            )
            .map_err(|e| self.err("storing an optimisation run", e))?;
        Ok(())
    }

    /// An optimisation run's report (JSON).
    pub fn run(&self, problem_id: u32) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT report FROM runs WHERE problem_id = ?1",
                [problem_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err("reading an optimisation run", e))
    }
}

#[path = "store_reload.rs"]
mod reload;
pub use reload::RunningTask;

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
