//! Tunables of an orchestrator.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::optimize::Budget;

/// Options for [`Orchestrator::start`](crate::Orchestrator::start).
#[derive(Debug, Clone)]
pub struct OrchestratorOptions {
    pub(crate) data_dir: PathBuf,
    pub(crate) domain: Option<u16>,
    pub(crate) deadline: Duration,
    pub(crate) config_timeout: Duration,
    pub(crate) budget: Budget,
    pub(crate) event_capacity: usize,
    pub(crate) id_settle: Duration,
    pub(crate) keep_for: Option<Duration>,
}

impl OrchestratorOptions {
    /// Options storing tasks in `data_dir` (created if needed), with the defaults:
    /// domain from `SUSTAINML_DOMAIN_ID`, task deadline 120 s, configuration timeout
    /// 5 s, optimisation budget [`Budget::default`], id settling time 3 s, every task
    /// kept forever.
    pub fn new(data_dir: impl AsRef<Path>) -> Self {
        Self {
            data_dir: data_dir.as_ref().to_owned(),
            domain: None,
            deadline: Duration::from_secs(120),
            config_timeout: Duration::from_secs(5),
            budget: Budget::default(),
            event_capacity: 1024,
            id_settle: Duration::from_secs(3),
            keep_for: None,
        }
    }

    /// The DDS domain (default: `SUSTAINML_DOMAIN_ID`, else 0).
    pub fn domain(mut self, domain: u16) -> Self {
        self.domain = Some(domain);
        self
    }

    /// How long a task may run before it fails with the missing outputs named
    /// (default 120 s).
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }

    /// How long a configuration request waits for its answer (default 5 s).
    pub fn config_timeout(mut self, d: Duration) -> Self {
        self.config_timeout = d;
        self
    }

    /// The budget of automatic optimisation runs.
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// How many events a slow listener may fall behind before it misses some
    /// (default 1024).
    pub fn event_capacity(mut self, n: usize) -> Self {
        self.event_capacity = n.max(1);
        self
    }

    /// How long after its start the orchestrator listens for the task ids the nodes
    /// replay before it numbers a new problem (default 3 s). A task submitted sooner
    /// waits for the rest of this time. Zero numbers at once, at the risk of reusing
    /// an id that running nodes already did (they would ignore the task).
    pub fn id_settle(mut self, d: Duration) -> Self {
        self.id_settle = d;
        self
    }

    /// Deletes tasks that ended longer than `d` ago (with their outputs and statuses),
    /// checking at start and then every tenth of `d` (between 1 s and 1 h). Running
    /// tasks are never deleted. Default: keep everything.
    pub fn keep_for(mut self, d: Duration) -> Self {
        self.keep_for = Some(d);
        self
    }
}
