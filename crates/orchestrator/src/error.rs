//! What can go wrong in the orchestrator.

use std::path::PathBuf;
use std::time::Duration;

/// Why the task store could not do what was asked. Every variant names the file.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The data directory or the database file could not be opened or created.
    #[error("cannot open the task store {path}: {reason}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not a task store (not SQLite, damaged, or from a newer version).
    #[error("the task store {path} is corrupt or not a task store: {reason}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        reason: String,
    },
    /// Another process (or another orchestrator in this one) holds the database.
    #[error("the task store {path} is locked by another orchestrator; stop it or use another data directory")]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// A query failed.
    #[error("task store {path}: {what} failed: {reason}")]
    Query {
        /// The database file.
        path: PathBuf,
        /// The operation.
        what: String,
        /// What SQLite said.
        reason: String,
    },
    /// A stored value could not be decoded.
    #[error("task store {path}: stored {what} does not decode: {reason}")]
    Decode {
        /// The database file.
        path: PathBuf,
        /// The value.
        what: String,
        /// Why.
        reason: String,
    },
    /// The store's thread has stopped (the orchestrator was closed).
    #[error("the task store was closed")]
    Closed,
}

/// Why an orchestrator operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The task store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The DDS layer failed (bad domain, cannot create endpoints, cannot write).
    #[error(transparent)]
    Dds(#[from] sustainml_dds::Error),
    /// No task of this problem exists.
    #[error("no problem {0} in the task store")]
    UnknownProblem(u32),
    /// No such task.
    #[error("no task {0} in the task store")]
    UnknownTask(sustainml_types::TaskIdImpl),
    /// Problem ids are exhausted (2^32 - 1 problems).
    #[error("no problem id left after {0}")]
    IdsExhausted(u32),
    /// The node addressed by a configuration request did not answer in time.
    #[error("configuration request to {node} timed out after {timeout:?}: the node did not answer (is it running on this domain?)")]
    ConfigTimeout {
        /// The node.
        node: String,
        /// How long we waited.
        timeout: Duration,
    },
    /// A configuration request could not be sent.
    #[error("configuration request to {node} failed: {reason}")]
    Config {
        /// The node.
        node: String,
        /// Why.
        reason: String,
    },
    /// A wait ran out of time.
    #[error("{what}: not finished within {timeout:?}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        timeout: Duration,
    },
    /// An output could not be encoded or decoded.
    #[error("output of {node}: {reason}")]
    BadOutput {
        /// The node.
        node: String,
        /// Why.
        reason: String,
    },
    /// The tokio runtime refused work (shutting down).
    #[error("the orchestrator is shutting down: {0}")]
    Runtime(String),
}

/// Result of the orchestrator.
pub type Result<T, E = Error> = std::result::Result<T, E>;
