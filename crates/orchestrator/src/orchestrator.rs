//! The orchestrator: its shared state, start (with the reload of running tasks), queries,
//! configuration requests and node control.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sustainml_dds::{Participant, Publisher, Requester, RpcError};
use sustainml_types::topics;
use sustainml_types::{
    CO2FootprintImpl, CmdNode, CmdTask, HWResourceImpl, MLModelImpl, NodeControlImpl, NodeId,
    ResponseTypeImpl, TaskIdImpl, UserInputImpl,
};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::model::{Event, NodeInfo, TaskDetails, TaskState, TaskSummary};
use crate::optimize::{self, Budget, OptimizationReport};
use crate::options::OrchestratorOptions;
use crate::output::NodeOutput;
use crate::registry::Registry;
use crate::store::{Store, DB_FILE};

/// A task waiting for its nodes.
#[derive(Debug)]
pub(crate) struct Active {
    pub deadline: Instant,
    pub received: BTreeSet<NodeId>,
    /// When CARBON_FOOTPRINT answered, if it did before some other output arrived.
    pub carbon: Option<(Instant, f64)>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub next_problem: u32,
    pub last_iteration: HashMap<u32, u32>,
    pub active: HashMap<TaskIdImpl, Active>,
    pub registry: Registry,
    pub runs: HashMap<u32, OptimizationReport>,
    /// How to cancel each optimisation run in flight, by problem.
    pub cancels: HashMap<u32, tokio::sync::watch::Sender<bool>>,
}

impl State {
    /// Keeps the next problem id above one a node reports (the reference's
    /// `update_task_id`): long-lived nodes remember the tasks they did and ignore a
    /// task id they have seen, so a new orchestrator with an empty store must not
    /// reuse one. Returns whether the id was raised.
    pub fn observe(&mut self, id: TaskIdImpl) -> bool {
        if id.problem_id > self.next_problem {
            self.next_problem = id.problem_id;
            true
        } else {
            false
        }
    }
}

/// What the orchestrator's tasks share.
#[derive(Debug)]
pub(crate) struct Inner {
    pub options: OrchestratorOptions,
    pub user_input: Publisher<UserInputImpl>,
    pub ml_baseline: Publisher<MLModelImpl>,
    pub hw_baseline: Publisher<HWResourceImpl>,
    pub co2_baseline: Publisher<CO2FootprintImpl>,
    pub control: Publisher<NodeControlImpl>,
    pub requester: Requester,
    pub db: Db,
    pub state: Mutex<State>,
    pub events: broadcast::Sender<Event>,
    pub path: PathBuf,
    /// When the orchestrator joined the domain (see `OrchestratorOptions::id_settle`).
    pub started: Instant,
    /// Optimisation runs in flight.
    pub jobs: Mutex<Vec<JoinHandle<()>>>,
    /// Last: fields drop in order, and the writers above must go before it.
    pub participant: Participant,
}

impl Inner {
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// See [`Orchestrator::send_control`].
    pub async fn send_control(
        &self,
        target: Option<&str>,
        cmd_node: CmdNode,
        cmd_task: CmdTask,
        task_id: TaskIdImpl,
    ) -> Result<()> {
        let command = NodeControlImpl {
            cmd_node,
            cmd_task,
            target_node: target.unwrap_or_default().to_owned(),
            source_node: NodeId::Orchestrator.node_name().to_owned(),
            task_id,
        };
        tracing::info!(target = target.unwrap_or("every node"), %cmd_node, %cmd_task, task = %task_id, "control command");
        self.control.write(command).await?;
        Ok(())
    }

    /// Tells every node to stop task `id` and fails it as "cancelled" (a task that is
    /// not running is left as it is).
    pub async fn cancel_running(&self, id: TaskIdImpl) {
        if !self.state().active.contains_key(&id) {
            return;
        }
        if let Err(e) = self
            .send_control(None, CmdNode::NoCmd, CmdTask::Stop, id)
            .await
        {
            tracing::warn!(task = %id, "cannot tell the nodes to stop it: {e}");
        }
        self.fail(id, "cancelled".to_owned());
    }

    pub fn emit(&self, event: Event) {
        // No listener is fine.
        let _ = self.events.send(event);
    }
}

/// The SustainML orchestrator (see the crate documentation).
#[derive(Debug)]
pub struct Orchestrator {
    inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Orchestrator {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        for j in self
            .inner
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            j.abort();
        }
    }
}

impl Orchestrator {
    /// Opens the task store in the options' data directory, joins the DDS domain and
    /// starts listening to the nodes. Must run inside a tokio runtime.
    pub async fn start(options: OrchestratorOptions) -> Result<Self> {
        let dir = options.data_dir.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&dir))
            .await
            .map_err(|e| Error::Runtime(e.to_string()))??;
        let path = store.path().to_owned();
        let next_problem = store.max_problem_id()?;
        let known_nodes = store.nodes()?;
        let db = Db::start(store)?;
        let mut builder = Participant::builder().name(NodeId::Orchestrator.node_name());
        if let Some(d) = options.domain {
            builder = builder.domain(d);
        }
        let participant = builder.build()?;
        let (events, _) = broadcast::channel(options.event_capacity);
        let inner = Arc::new(Inner {
            user_input: participant.publisher(topics::USER_INPUT)?,
            ml_baseline: participant.publisher(topics::ML_MODEL_BASELINE)?,
            hw_baseline: participant.publisher(topics::HW_RESOURCES_BASELINE)?,
            co2_baseline: participant.publisher(topics::CARBON_FOOTPRINT_BASELINE)?,
            control: participant
                .publisher_with_qos(topics::CONTROL, sustainml_dds::qos::commands())?,
            requester: Requester::new(&participant)?,
            db,
            state: Mutex::new(State {
                next_problem,
                registry: Registry::restored(known_nodes),
                ..State::default()
            }),
            events,
            path,
            started: Instant::now(),
            jobs: Mutex::new(Vec::new()),
            options,
            participant,
        });
        // Running tasks first, so that no output of theirs arrives before them.
        let mut reloaded = inner.reload_tasks().await?;
        let tasks = crate::intake::spawn(&inner)?;
        let orchestrator = Self {
            inner: Arc::clone(&inner),
            tasks,
        };
        // (An error drops `orchestrator`, which stops the listeners.)
        inner.resume_runs(&mut reloaded).await?;
        tracing::info!(
            domain = inner.participant.domain(),
            store = %inner.path.display(),
            next_problem = next_problem + 1,
            "orchestrator started"
        );
        let r = reloaded;
        tracing::info!(
            "reloaded {} running task(s) from the store: {} failed as expired, {} done, {} \
             running again ({} published again); optimisation runs: {} resumed, {} stopped",
            r.tasks,
            r.expired,
            r.done,
            r.tasks - r.expired - r.done,
            r.republished,
            r.runs_resumed,
            r.runs_stopped
        );
        Ok(orchestrator)
    }

    /// The database file.
    pub fn store_path(&self) -> &Path {
        &self.inner.path
    }

    /// The DDS domain.
    pub fn domain(&self) -> u16 {
        self.inner.participant.domain()
    }

    /// Starts a new problem: task {n+1, 1}, with empty baselines stamped with its id.
    /// If the input asks for automatic optimisation (`optimize_carbon_footprint_auto`
    /// with a `desired_carbon_footprint` above 0), iterations follow in the background
    /// until the target or the budget is reached (see [`optimization`](Self::optimization)).
    ///
    /// Problem ids continue after the highest one in the store or reported by a node.
    /// Nodes replay what they did to a new orchestrator when discovery matches them,
    /// so within [`id_settle`](OrchestratorOptions::id_settle) of the start this waits
    /// for that replay before choosing an id.
    pub async fn new_task(&self, input: UserInputImpl) -> Result<TaskIdImpl> {
        let auto = (input.optimize_carbon_footprint_auto && input.desired_carbon_footprint > 0.0)
            .then(|| (input.desired_carbon_footprint, self.inner.options.budget));
        self.start_problem(input, auto).await
    }

    /// Starts a new problem as an automatic optimisation run with its own target and
    /// budget, whatever the input's `optimize_carbon_footprint_auto` says: iterations
    /// follow until the footprint is at or below `target` (0: no target), the budget
    /// runs out, ML_MODEL has no better model, an iteration fails, or
    /// [`cancel_optimization`](Self::cancel_optimization). A problem has at most one
    /// run, named by the problem id.
    pub async fn optimize(
        &self,
        input: UserInputImpl,
        target: f64,
        budget: Budget,
    ) -> Result<TaskIdImpl> {
        self.start_problem(input, Some((target, budget))).await
    }

    /// The budget of a run that does not give its own (from the options).
    pub fn default_budget(&self) -> Budget {
        self.inner.options.budget
    }

    /// Every optimisation run, by problem id (running ones as they are now).
    pub async fn optimizations(&self) -> Result<Vec<OptimizationReport>> {
        optimize::list(&self.inner).await
    }

    /// Stops the optimisation run of `problem_id` and cancels its running iteration;
    /// the run's stop reason is [`StopKind::Cancelled`](crate::StopKind::Cancelled).
    /// `false` if it had already stopped; [`Error::UnknownProblem`] if there is none.
    pub async fn cancel_optimization(&self, problem_id: u32) -> Result<bool> {
        optimize::cancel(&self.inner, problem_id).await
    }

    async fn start_problem(
        &self,
        input: UserInputImpl,
        auto: Option<(f64, Budget)>,
    ) -> Result<TaskIdImpl> {
        let settle = self
            .inner
            .options
            .id_settle
            .saturating_sub(self.inner.started.elapsed());
        if !settle.is_zero() {
            tracing::debug!(?settle, "waiting for the nodes' task ids before numbering");
            tokio::time::sleep(settle).await;
        }
        let id = {
            let mut st = self.inner.state();
            let p = st
                .next_problem
                .checked_add(1)
                .ok_or(Error::IdsExhausted(st.next_problem))?;
            st.next_problem = p;
            st.last_iteration.insert(p, 1);
            TaskIdImpl::new(p, 1)
        };
        let empty = (
            MLModelImpl::default(),
            HWResourceImpl::default(),
            CO2FootprintImpl::default(),
        );
        self.inner.start_task(id, input, empty).await?;
        if let Some((target, budget)) = auto {
            let job = optimize::spawn(&self.inner, id, target, budget);
            let mut jobs = self.inner.jobs.lock().unwrap_or_else(|p| p.into_inner());
            jobs.retain(|j| !j.is_finished());
            jobs.push(job);
        }
        Ok(id)
    }

    /// Starts the next iteration of `problem_id` with the previous iteration's model,
    /// hardware and footprint as baselines, and its user input unless one is given.
    pub async fn new_iteration(
        &self,
        problem_id: u32,
        input: Option<UserInputImpl>,
    ) -> Result<TaskIdImpl> {
        self.inner.next_iteration(problem_id, input).await
    }

    /// Waits until task `id` is done or failed (at most `timeout`).
    pub async fn wait_task(&self, id: TaskIdImpl, timeout: Duration) -> Result<TaskState> {
        self.inner.wait_task(id, timeout).await
    }

    /// Every task, oldest first.
    pub async fn tasks(&self) -> Result<Vec<TaskSummary>> {
        Ok(self.inner.db.call(|s| s.tasks()).await?)
    }

    /// Everything about one task as it is now (outputs not there yet are absent).
    pub async fn task(&self, id: TaskIdImpl) -> Result<Option<TaskDetails>> {
        Ok(self.inner.db.call(move |s| s.task(id)).await?)
    }

    /// One node's output for a task, if it arrived.
    pub async fn output(&self, id: TaskIdImpl, node: NodeId) -> Result<Option<NodeOutput>> {
        Ok(self.inner.db.call(move |s| s.output(id, node)).await?)
    }

    /// The user input a task was published with.
    pub async fn user_input(&self, id: TaskIdImpl) -> Result<Option<UserInputImpl>> {
        Ok(self.inner.db.call(move |s| s.user_input(id)).await?)
    }

    /// Every node heard from, keyed as the reference's REST API (APP_REQUIREMENTS,
    /// CARBON_FOOTPRINT…; other nodes by their name).
    pub fn node_statuses(&self) -> BTreeMap<String, NodeInfo> {
        self.inner.state().registry.snapshot()
    }

    /// Events from now on (tasks, outputs, statuses, nodes, optimisation).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// The automatic optimisation run of a problem, if it has one.
    pub async fn optimization(&self, problem_id: u32) -> Result<Option<OptimizationReport>> {
        if let Some(r) = self.inner.state().runs.get(&problem_id) {
            return Ok(Some(r.clone()));
        }
        optimize::load(&self.inner, problem_id).await
    }

    /// Waits until the optimisation run of `problem_id` has stopped.
    pub async fn wait_optimization(
        &self,
        problem_id: u32,
        timeout: Duration,
    ) -> Result<OptimizationReport> {
        optimize::wait(&self.inner, problem_id, timeout).await
    }

    /// Sends a command on `/sustainml/control` to the node named `target` (its status
    /// name, e.g. `ML_MODEL_NODE`), or to every node when `target` is `None`. Only
    /// nodes running now receive it: commands are never replayed to a node started
    /// later. The reference's nodes ignore commands; sustainml-rs nodes stop or start
    /// taking tasks (`CmdNode::Stop`/`Start`), drop what is pending (`Reset`), exit
    /// (`Terminate`), or stop one task (`CmdTask::Stop`/`Preempt`).
    pub async fn send_control(
        &self,
        target: Option<&str>,
        cmd_node: CmdNode,
        cmd_task: CmdTask,
        task_id: TaskIdImpl,
    ) -> Result<()> {
        self.inner
            .send_control(target, cmd_node, cmd_task, task_id)
            .await
    }

    /// Cancels a running task: every node is told to stop it, and it fails with the
    /// reason "cancelled". Returns false (and sends nothing) if the task is not
    /// running; [`Error::UnknownTask`] if there is no such task.
    pub async fn cancel_task(&self, id: TaskIdImpl) -> Result<bool> {
        if !self.inner.state().active.contains_key(&id) {
            return match self.task(id).await? {
                Some(_) => Ok(false),
                None => Err(Error::UnknownTask(id)),
            };
        }
        self.inner.cancel_running(id).await;
        Ok(true)
    }

    /// Sends `configuration` to `node` and waits for its answer (at most the
    /// configured timeout, 5 s by default). The node's `success` and `err_code` are
    /// returned as it sent them; no answer in time is [`Error::ConfigTimeout`].
    pub async fn configuration_request(
        &self,
        node: NodeId,
        configuration: &str,
    ) -> Result<ResponseTypeImpl> {
        let timeout = self.inner.options.config_timeout;
        match self
            .inner
            .requester
            .request(node.value(), configuration, timeout)
            .await
        {
            Ok(r) => Ok(r),
            Err(RpcError::NoService { timeout, .. } | RpcError::Timeout { timeout, .. }) => {
                Err(Error::ConfigTimeout {
                    node: node.to_string(),
                    timeout,
                })
            }
            Err(e) => Err(Error::Config {
                node: node.to_string(),
                reason: e.to_string(),
            }),
        }
    }

    /// Waits until the six module nodes are alive and ready for tasks (not stopped,
    /// starting or terminating) and the orchestrator's user-input and baseline writers
    /// have found their readers.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let nodes = {
                let st = self.inner.state();
                NodeId::MODULES
                    .iter()
                    .all(|n| st.registry.is_ready(n.node_name()))
            };
            let i = &self.inner;
            if nodes
                && i.user_input.matched_readers() >= 4
                && i.ml_baseline.matched_readers() >= 1
                && i.hw_baseline.matched_readers() >= 1
                && i.co2_baseline.matched_readers() >= 1
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout {
                    what: format!(
                        "waiting for the six nodes (seen: {:?})",
                        self.node_statuses().keys().collect::<Vec<_>>()
                    ),
                    timeout,
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops listening, finishes pending store writes and closes the store (its lock
    /// is released when this returns).
    pub async fn close(mut self) {
        let jobs: Vec<_> = self
            .inner
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
            .collect();
        for t in self.tasks.drain(..).chain(jobs) {
            t.abort();
            let _ = t.await;
        }
        // Remember when each node was last heard from.
        let nodes: Vec<NodeInfo> = self
            .inner
            .state()
            .registry
            .snapshot()
            .into_values()
            .collect();
        let saved = self
            .inner
            .db
            .call(move |s| nodes.iter().try_for_each(|n| s.put_node(n)))
            .await;
        if let Err(e) = saved {
            tracing::warn!("cannot remember the nodes' states: {e}");
        }
        self.inner.db.close().await;
    }
}

/// The store file in a data directory.
pub fn store_file(data_dir: &Path) -> PathBuf {
    data_dir.join(DB_FILE)
}
