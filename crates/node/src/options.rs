//! Tunables of a node, and why a node could not run.

use std::time::Duration;

/// Why a node could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The DDS layer failed (bad domain, cannot create endpoints…).
    #[error(transparent)]
    Dds(#[from] sustainml_dds::Error),
    /// The node's definition is inconsistent (generic nodes).
    #[error("invalid node definition: {0}")]
    Definition(String),
    /// The tokio runtime could not be built.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Tunables of a node.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub(crate) concurrency: usize,
    pub(crate) input_timeout: Duration,
    pub(crate) task_timeout: Duration,
    pub(crate) max_pending: usize,
    pub(crate) config_timeout: Duration,
    pub(crate) domain: Option<u16>,
    pub(crate) handle_signals: bool,
}

impl Default for NodeOptions {
    fn default() -> Self {
        Self {
            concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            input_timeout: Duration::from_secs(300),
            task_timeout: Duration::from_secs(600),
            max_pending: 10_000,
            config_timeout: Duration::from_secs(30),
            domain: None,
            handle_signals: true,
        }
    }
}

impl NodeOptions {
    /// How many callbacks may run at once (default: the number of cores).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How long a task may wait for its last input before it is evicted (default 300 s).
    pub fn input_timeout(mut self, d: Duration) -> Self {
        self.input_timeout = d;
        self
    }

    /// How long a callback may run before its task fails (default 600 s).
    pub fn task_timeout(mut self, d: Duration) -> Self {
        self.task_timeout = d;
        self
    }

    /// How many incomplete tasks are kept at most (default 10 000); the oldest is
    /// evicted beyond that.
    pub fn max_pending(mut self, n: usize) -> Self {
        self.max_pending = n.max(1);
        self
    }

    /// How long a configuration callback may take (default 30 s).
    pub fn config_timeout(mut self, d: Duration) -> Self {
        self.config_timeout = d;
        self
    }

    /// The DDS domain (default: `SUSTAINML_DOMAIN_ID`, else 0).
    pub fn domain(mut self, domain: u16) -> Self {
        self.domain = Some(domain);
        self
    }

    /// Whether Ctrl-C / SIGTERM stop the node (default true; embedders may handle
    /// signals themselves and use [`Node::run_until`](crate::Node::run_until)).
    pub fn handle_signals(mut self, yes: bool) -> Self {
        self.handle_signals = yes;
        self
    }
}
