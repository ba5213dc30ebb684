//! The node: options, builder, and the loop that joins inputs, runs callbacks and
//! answers control and configuration.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sustainml_dds::{Participant, Publisher, Replier};
use sustainml_types::topics::{self, TopicInfo};
use sustainml_types::{
    CmdNode, CmdTask, ErrorCode, NodeControlImpl, NodeId, Status, TaskData, TaskIdImpl, TaskStatus,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::inputs::{Arrival, InputSet};
use crate::join::{Evicted, Joined, Joiner};
use crate::kind::NodeKind;
use crate::status::StatusReporter;
use crate::task::{Callback, TaskContext, TaskError, TaskResult};

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
    concurrency: usize,
    input_timeout: Duration,
    task_timeout: Duration,
    max_pending: usize,
    config_timeout: Duration,
    domain: Option<u16>,
    handle_signals: bool,
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
    /// signals themselves and use [`Node::run_until`]).
    pub fn handle_signals(mut self, yes: bool) -> Self {
        self.handle_signals = yes;
        self
    }
}

type ConfigFn = Arc<dyn Fn(&str) -> Result<String, String> + Send + Sync>;

/// A node being defined: its inputs `I` (a tuple), its output `O`, its options and its
/// configuration callback. Finish it with [`callback`](Self::callback) or
/// [`async_callback`](Self::async_callback).
pub struct NodeBuilder<I, O> {
    name: String,
    node_id: Option<i32>,
    inputs: Vec<TopicInfo>,
    output: TopicInfo,
    options: NodeOptions,
    config: Option<ConfigFn>,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O> std::fmt::Debug for NodeBuilder<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBuilder")
            .field("name", &self.name)
            .field("inputs", &self.inputs)
            .field("output", &self.output.name)
            .finish_non_exhaustive()
    }
}

fn kind_builder<I: InputSet, O: TaskData + Default>(kind: NodeKind) -> NodeBuilder<I, O> {
    NodeBuilder {
        name: kind.node_name().to_owned(),
        node_id: Some(kind.id().value()),
        inputs: kind.inputs().to_vec(),
        output: kind.output(),
        options: NodeOptions::default(),
        config: None,
        _types: PhantomData,
    }
}

use sustainml_types::{
    AppRequirementsImpl, CO2FootprintImpl, HWConstraintsImpl, HWResourceImpl, MLModelImpl,
    MLModelMetadataImpl, UserInputImpl,
};

/// APP_REQUIREMENTS_NODE: (UserInput) → AppRequirements.
pub fn app_requirements() -> NodeBuilder<(UserInputImpl,), AppRequirementsImpl> {
    kind_builder(NodeKind::AppRequirements)
}

/// HW_CONSTRAINTS_NODE: (UserInput) → HWConstraints.
pub fn hw_constraints() -> NodeBuilder<(UserInputImpl,), HWConstraintsImpl> {
    kind_builder(NodeKind::HwConstraints)
}

/// ML_MODEL_METADATA_NODE: (UserInput) → MLModelMetadata.
pub fn ml_model_metadata() -> NodeBuilder<(UserInputImpl,), MLModelMetadataImpl> {
    kind_builder(NodeKind::MlModelMetadata)
}

/// The inputs of ML_MODEL_NODE, in callback order.
pub type MlModelInputs = (
    MLModelMetadataImpl,
    AppRequirementsImpl,
    HWConstraintsImpl,
    MLModelImpl,
    HWResourceImpl,
    CO2FootprintImpl,
);

/// ML_MODEL_NODE: (metadata, app requirements, hw constraints, model baseline,
/// hardware baseline, carbon baseline) → MLModel.
pub fn ml_model() -> NodeBuilder<MlModelInputs, MLModelImpl> {
    kind_builder(NodeKind::MlModel)
}

/// HW_RESOURCES_NODE: (MLModel, AppRequirements, HWConstraints) → HWResource.
pub fn hw_resources(
) -> NodeBuilder<(MLModelImpl, AppRequirementsImpl, HWConstraintsImpl), HWResourceImpl> {
    kind_builder(NodeKind::HwResources)
}

/// CARBON_FOOTPRINT_NODE: (MLModel, UserInput, HWResource) → CO2Footprint.
pub fn carbon_footprint(
) -> NodeBuilder<(MLModelImpl, UserInputImpl, HWResourceImpl), CO2FootprintImpl> {
    kind_builder(NodeKind::CarbonFootprint)
}

/// A node the reference does not have: any input topics (types `I`, in order) to any
/// output topic (type `O`). Fails if a topic's type is not the one given.
pub fn generic<I: InputSet, O: TaskData + Default>(
    name: &str,
    inputs: &[TopicInfo],
    output: TopicInfo,
) -> Result<NodeBuilder<I, O>, NodeError> {
    sustainml_types::NodeName::new(name).map_err(|e| NodeError::Definition(e.to_string()))?;
    let expected = I::type_names();
    if inputs.len() != expected.len() {
        return Err(NodeError::Definition(format!(
            "{name}: {} input topics for {} input types",
            inputs.len(),
            expected.len()
        )));
    }
    for (topic, ty) in inputs.iter().zip(&expected) {
        if topic.type_name != *ty {
            return Err(NodeError::Definition(format!(
                "{name}: input {} carries {}, not {ty}",
                topic.name, topic.type_name
            )));
        }
    }
    if output.type_name != O::TYPE_NAME {
        return Err(NodeError::Definition(format!(
            "{name}: output {} carries {}, not {}",
            output.name,
            output.type_name,
            O::TYPE_NAME
        )));
    }
    Ok(NodeBuilder {
        name: name.to_owned(),
        node_id: None,
        inputs: inputs.to_vec(),
        output,
        options: NodeOptions::default(),
        config: None,
        _types: PhantomData,
    })
}

impl<I: InputSet, O: TaskData + Default> NodeBuilder<I, O> {
    /// Sets the options.
    pub fn options(mut self, options: NodeOptions) -> Self {
        self.options = options;
        self
    }

    /// Renames the node (default: the reference name of its kind).
    pub fn name(mut self, name: &str) -> Result<Self, NodeError> {
        sustainml_types::NodeName::new(name).map_err(|e| NodeError::Definition(e.to_string()))?;
        self.name = name.to_owned();
        Ok(self)
    }

    /// Serves configuration requests addressed to `id` (kinds do this already).
    pub fn node_id(mut self, id: NodeId) -> Self {
        self.node_id = Some(id.value());
        self
    }

    /// The configuration callback: request text in, JSON text (or an error message)
    /// out. It runs on its own thread, so a slow one never stalls tasks; output that is
    /// not valid JSON is refused with success=false.
    pub fn on_configuration<F>(mut self, f: F) -> Self
    where
        F: Fn(&str) -> Result<String, String> + Send + Sync + 'static,
    {
        self.config = Some(Arc::new(f));
        self
    }

    /// Finishes the node with a synchronous task callback: inputs, the task's context
    /// (status message, cancellation) and the output to fill. It runs on a blocking
    /// thread.
    pub fn callback<F>(self, f: F) -> Node<I, O>
    where
        F: Fn(I, &mut TaskContext, &mut O) -> Result<(), TaskError> + Send + Sync + 'static,
    {
        self.finish(Callback::sync(f))
    }

    /// Finishes the node with an async task callback that returns the output.
    pub fn async_callback<F, Fut>(self, f: F) -> Node<I, O>
    where
        F: Fn(I, TaskContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = TaskResult<O>> + Send + 'static,
    {
        self.finish(Callback::asynchronous(f))
    }

    fn finish(self, callback: Callback<I, O>) -> Node<I, O> {
        Node {
            def: self,
            callback,
        }
    }
}

/// A runnable node.
pub struct Node<I, O> {
    def: NodeBuilder<I, O>,
    callback: Callback<I, O>,
}

impl<I, O> std::fmt::Debug for Node<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("def", &self.def)
            .finish_non_exhaustive()
    }
}

impl<I: InputSet, O: TaskData + Default> Node<I, O> {
    /// The node's name.
    pub fn name(&self) -> &str {
        &self.def.name
    }

    /// Runs the node on a new tokio runtime until Ctrl-C, SIGTERM or TERMINATE_NODE;
    /// then publishes TERMINATING, flushes its writers and returns. A second Ctrl-C
    /// exits the process at once (code 130).
    pub fn run_blocking(self) -> Result<(), NodeError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(NodeError::Runtime)?;
        runtime.block_on(self.run())
    }

    /// [`run_blocking`](Self::run_blocking) inside an existing runtime.
    pub async fn run(self) -> Result<(), NodeError> {
        let signals = self.def.options.handle_signals;
        self.run_until(async move {
            if signals {
                shutdown_signal().await;
            } else {
                std::future::pending::<()>().await;
            }
        })
        .await
    }

    /// Runs until `stop` completes or a TERMINATE_NODE command arrives.
    pub async fn run_until(self, stop: impl Future<Output = ()> + Send) -> Result<(), NodeError> {
        let name: Arc<str> = Arc::from(self.def.name.as_str());
        let mut builder = Participant::builder().name(&*name);
        if let Some(d) = self.def.options.domain {
            builder = builder.domain(d);
        }
        let participant = builder.build()?;
        let mut status = StatusReporter::new(&participant, &name)?;
        status.node(Status::Initializing).await;

        let output = participant.publisher::<O>(self.def.output)?;
        let (arrivals_tx, arrivals) = mpsc::channel(1024);
        let readers = I::spawn_readers(&participant, &self.def.inputs, arrivals_tx)?;
        status.watch_dropped(readers.dropped);
        let (control_tx, control) = mpsc::channel(64);
        let control_reader = spawn_control_reader(&participant, Arc::clone(&name), control_tx)?;
        let config = match self.def.node_id {
            Some(id) => Some(spawn_config_service(
                &participant,
                id,
                Arc::clone(&name),
                self.def.config.clone(),
                self.def.options.config_timeout,
            )?),
            None => None,
        };
        let mut state = Loop {
            name: Arc::clone(&name),
            inputs: self.def.inputs.clone(),
            options: self.def.options.clone(),
            callback: self.callback,
            output,
            status,
            joiner: Joiner::new(
                I::LEN,
                self.def.options.input_timeout,
                self.def.options.max_pending,
            ),
            ready: VecDeque::new(),
            running: HashMap::new(),
            accepting: true,
            last_failed: false,
        };
        state.status.node(Status::Idle).await;
        tracing::info!(
            inputs = state.inputs.len(),
            output = self.def.output.name,
            "node ready"
        );
        let result = state.serve(arrivals, control, stop).await;

        state.status.node(Status::Terminating).await;
        for task in state.running.values() {
            task.cancel.cancel();
        }
        let flush = Duration::from_secs(2);
        let _ = state.output.wait_for_acknowledgments(flush).await;
        state.status.flush(flush).await;
        // The reader tasks own their DDS readers: wait until they are gone, so that
        // they are deleted before the participant is.
        let listeners = readers
            .tasks
            .into_iter()
            .chain(std::iter::once(control_reader))
            .chain(config);
        for task in listeners {
            task.abort();
            let _ = task.await;
        }
        tracing::info!("node stopped");
        result
    }
}

/// Waits for Ctrl-C or SIGTERM; a second Ctrl-C then exits at once.
async fn shutdown_signal() {
    sustainml_dds::signal::stop_requested().await;
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("second interrupt: exiting now");
            std::process::exit(130);
        }
    });
}

fn spawn_control_reader(
    participant: &Participant,
    name: Arc<str>,
    tx: mpsc::Sender<NodeControlImpl>,
) -> Result<tokio::task::JoinHandle<()>, NodeError> {
    let mut subscriber = participant
        .subscriber_with_qos::<NodeControlImpl>(topics::CONTROL, sustainml_dds::qos::commands())?;
    Ok(tokio::spawn(async move {
        while let Ok(r) = subscriber.recv().await {
            let target = r.value.target_node.as_str();
            if (target == &*name || target.is_empty()) && tx.send(r.value).await.is_err() {
                break;
            }
        }
    }))
}

fn spawn_config_service(
    participant: &Participant,
    node_id: i32,
    name: Arc<str>,
    config: Option<ConfigFn>,
    timeout: Duration,
) -> Result<tokio::task::JoinHandle<()>, NodeError> {
    let mut replier = Replier::new(participant, node_id)?;
    let responder = replier.responder();
    Ok(tokio::spawn(async move {
        while let Ok(request) = replier.next().await {
            let responder = responder.clone();
            let config = config.clone();
            let name = Arc::clone(&name);
            tokio::spawn(async move {
                let text = request.configuration.clone();
                let answer = match config {
                    None => Err(format!("{name} has no configuration handler")),
                    Some(f) => {
                        let work = tokio::task::spawn_blocking(move || f(&text));
                        match tokio::time::timeout(timeout, work).await {
                            Ok(Ok(r)) => r,
                            Ok(Err(e)) => Err(format!("configuration callback panicked: {e}")),
                            Err(_) => Err(format!(
                                "configuration callback took longer than {timeout:?}"
                            )),
                        }
                    }
                };
                let (success, code, body) = match answer {
                    Ok(json) => match serde_json::from_str::<serde_json::Value>(&json) {
                        Ok(_) => (true, ErrorCode::NoError, json),
                        Err(e) => (
                            false,
                            ErrorCode::InternalError,
                            serde_json::json!({"error": format!("configuration callback returned invalid JSON: {e}")}).to_string(),
                        ),
                    },
                    Err(message) => (
                        false,
                        ErrorCode::InternalError,
                        serde_json::json!({ "error": message }).to_string(),
                    ),
                };
                if !success {
                    tracing::warn!(
                        transaction = request.transaction_id,
                        "configuration request failed: {body}"
                    );
                }
                if let Err(e) = responder.reply(&request, success, code, body).await {
                    tracing::warn!("cannot answer configuration request: {e}");
                }
            });
        }
    }))
}

struct Running {
    cancel: CancellationToken,
    stopped_by: Option<&'static str>,
}

type Completion<O> = (TaskIdImpl, String, TaskResult<O>);

struct Loop<I, O: TaskData> {
    name: Arc<str>,
    inputs: Vec<TopicInfo>,
    options: NodeOptions,
    callback: Callback<I, O>,
    output: Publisher<O>,
    status: StatusReporter,
    joiner: Joiner,
    ready: VecDeque<(TaskIdImpl, I)>,
    running: HashMap<TaskIdImpl, Running>,
    accepting: bool,
    last_failed: bool,
}

enum Next<O> {
    Arrival(Arrival),
    Control(NodeControlImpl),
    Done(Completion<O>),
    Tick,
    Stop,
}

impl<I: InputSet, O: TaskData + Default> Loop<I, O> {
    async fn serve(
        &mut self,
        mut arrivals: mpsc::Receiver<Arrival>,
        mut control: mpsc::Receiver<NodeControlImpl>,
        stop: impl Future<Output = ()> + Send,
    ) -> Result<(), NodeError> {
        let (done_tx, mut done) = mpsc::unbounded_channel::<Completion<O>>();
        let tick_every = (self.options.input_timeout / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(1));
        let mut tick = tokio::time::interval(tick_every);
        let mut stop: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(stop);
        loop {
            let next = tokio::select! {
                Some(a) = arrivals.recv() => Next::Arrival(a),
                Some(c) = control.recv() => Next::Control(c),
                Some(d) = done.recv() => Next::Done(d),
                _ = tick.tick() => Next::Tick,
                () = &mut stop => Next::Stop,
            };
            match next {
                Next::Arrival(a) => self.arrive(a).await,
                Next::Control(c) => {
                    if self.control(c).await {
                        return Ok(());
                    }
                }
                Next::Done((task, message, result)) => self.finish(task, message, result).await,
                Next::Tick => {
                    let evicted = self.joiner.evict_expired(Instant::now());
                    self.report_evicted(evicted).await;
                }
                Next::Stop => return Ok(()),
            }
            self.dispatch(&done_tx).await;
        }
    }

    async fn arrive(&mut self, a: Arrival) {
        if !a.task_id.is_valid() {
            tracing::warn!(task = %a.task_id, topic = self.inputs[a.slot].name, "ignored an input with an invalid task id");
            return;
        }
        let mut evicted = Vec::new();
        match self
            .joiner
            .insert(a.task_id, a.slot, a.sample, Instant::now(), &mut evicted)
        {
            Joined::Complete(slots) => match I::from_slots(slots) {
                Some(inputs) => self.ready.push_back((a.task_id, inputs)),
                None => {
                    tracing::error!(task = %a.task_id, "inputs of the wrong type (internal error)")
                }
            },
            Joined::Pending => {}
            Joined::Duplicate => {
                tracing::debug!(task = %a.task_id, topic = self.inputs[a.slot].name, "duplicate input ignored")
            }
        }
        self.report_evicted(evicted).await;
    }

    async fn report_evicted(&mut self, evicted: Vec<Evicted>) {
        if evicted.is_empty() {
            return;
        }
        self.status.count_evicted(evicted.len() as u64);
        for e in evicted {
            let missing: Vec<String> = e
                .missing
                .iter()
                .map(|&i| format!("{} ({})", self.inputs[i].name, self.inputs[i].type_name))
                .collect();
            let text = format!("{}; missing inputs: {}", e.reason, missing.join(", "));
            tracing::warn!(task = %e.task_id, "{text}");
            self.status.task(e.task_id, TaskStatus::Error, &text).await;
        }
        let state = self.node_state();
        self.status.node(state).await;
    }

    fn node_state(&self) -> Status {
        if !self.running.is_empty() {
            Status::Running
        } else if self.last_failed {
            Status::Error
        } else {
            Status::Idle
        }
    }

    async fn dispatch(&mut self, done: &mpsc::UnboundedSender<Completion<O>>) {
        while self.accepting && self.running.len() < self.options.concurrency {
            let Some((task, inputs)) = self.ready.pop_front() else {
                break;
            };
            let cancel = CancellationToken::new();
            self.running.insert(
                task,
                Running {
                    cancel: cancel.clone(),
                    stopped_by: None,
                },
            );
            if self.status.state() != Status::Running {
                self.status.node(Status::Running).await;
            }
            self.status.task(task, TaskStatus::Running, "").await;
            let ctx = TaskContext::new(task, Arc::clone(&self.name), cancel);
            let callback = self.callback.clone();
            let timeout = self.options.task_timeout;
            let done = done.clone();
            tokio::spawn(async move {
                let (message, result) =
                    match tokio::time::timeout(timeout, callback.run(inputs, ctx)).await {
                        Ok(r) => r,
                        Err(_) => (
                            String::new(),
                            Err(TaskError(format!(
                                "the callback did not return within {timeout:?}"
                            ))),
                        ),
                    };
                let _ = done.send((task, message, result));
            });
        }
    }

    async fn finish(&mut self, task: TaskIdImpl, message: String, result: TaskResult<O>) {
        let Some(running) = self.running.remove(&task) else {
            return;
        };
        let result = match running.stopped_by {
            Some(why) => Err(TaskError(format!("task {why}"))),
            None => result,
        };
        match result {
            Ok(mut out) => {
                out.set_task_id(task);
                match self.output.write(out).await {
                    Ok(()) => {
                        self.last_failed = false;
                        self.status
                            .task(task, TaskStatus::Succeeded, &message)
                            .await;
                    }
                    Err(e) => {
                        self.last_failed = true;
                        let text = format!("cannot publish the output: {e}");
                        tracing::error!(%task, "{text}");
                        self.status.task(task, TaskStatus::Error, &text).await;
                    }
                }
            }
            Err(e) => {
                self.last_failed = true;
                tracing::warn!(%task, "task failed: {e}");
                self.status.task(task, TaskStatus::Error, &e.0).await;
            }
        }
        let state = self.node_state();
        self.status.node(state).await;
    }

    /// Applies a command; true if the node must terminate.
    async fn control(&mut self, c: NodeControlImpl) -> bool {
        tracing::info!(from = c.source_node, cmd_node = %c.cmd_node, cmd_task = %c.cmd_task, task = %c.task_id, "control command");
        match c.cmd_node {
            CmdNode::NoCmd => {}
            CmdNode::Start => self.accepting = true,
            CmdNode::Stop => self.accepting = false,
            CmdNode::Reset => {
                let pending = self.joiner.clear();
                let ready = self.ready.len();
                self.ready.clear();
                tracing::info!(pending, ready, "reset: dropped pending tasks");
            }
            CmdNode::Terminate => return true,
        }
        let task = c.task_id;
        match c.cmd_task {
            CmdTask::NoCmd => {}
            CmdTask::Stop | CmdTask::Preempt | CmdTask::Terminate => {
                let why = match c.cmd_task {
                    CmdTask::Preempt => "preempted",
                    _ => "stopped",
                };
                if let Some(r) = self.running.get_mut(&task) {
                    r.stopped_by = Some(why);
                    r.cancel.cancel();
                } else if let Some(pos) = self.ready.iter().position(|(t, _)| *t == task) {
                    self.ready.remove(pos);
                    self.status
                        .task(
                            task,
                            TaskStatus::Error,
                            &format!("task {why} before it ran"),
                        )
                        .await;
                } else if self.joiner.remove_pending(task) {
                    self.status
                        .task(
                            task,
                            TaskStatus::Error,
                            &format!("task {why} while waiting for inputs"),
                        )
                        .await;
                } else {
                    tracing::info!(%task, "nothing to stop: the task is not pending or running here");
                }
            }
            CmdTask::Reset => {
                self.ready.retain(|(t, _)| *t != task);
                self.joiner.forget(task);
            }
        }
        let state = if self.accepting {
            self.node_state()
        } else {
            Status::Idle
        };
        self.status.node(state).await;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_nodes_check_their_topics_against_their_types() {
        let ok = generic::<(UserInputImpl, HWResourceImpl), CO2FootprintImpl>(
            "CUSTOM",
            &[topics::USER_INPUT, topics::HW_RESOURCES_OUTPUT],
            topics::CARBON_FOOTPRINT_OUTPUT,
        );
        assert!(ok.is_ok());
        let wrong_input = generic::<(UserInputImpl,), CO2FootprintImpl>(
            "CUSTOM",
            &[topics::HW_RESOURCES_OUTPUT],
            topics::CARBON_FOOTPRINT_OUTPUT,
        )
        .expect_err("wrong input type");
        assert_eq!(
            wrong_input.to_string(),
            "invalid node definition: CUSTOM: input /sustainml/hw_resources/output carries HWResourceImpl, not UserInputImpl"
        );
        let wrong_count = generic::<(UserInputImpl,), CO2FootprintImpl>(
            "CUSTOM",
            &[topics::USER_INPUT, topics::USER_INPUT],
            topics::CARBON_FOOTPRINT_OUTPUT,
        )
        .expect_err("wrong count");
        assert!(wrong_count
            .to_string()
            .contains("2 input topics for 1 input types"));
        let wrong_output = generic::<(UserInputImpl,), CO2FootprintImpl>(
            "CUSTOM",
            &[topics::USER_INPUT],
            topics::STATUS,
        )
        .expect_err("wrong output");
        assert!(wrong_output
            .to_string()
            .contains("carries NodeStatusImpl, not CO2FootprintImpl"));
        let bad_name = generic::<(UserInputImpl,), CO2FootprintImpl>(
            "",
            &[topics::USER_INPUT],
            topics::CARBON_FOOTPRINT_OUTPUT,
        )
        .expect_err("empty name");
        assert!(bad_name.to_string().contains("cannot be empty"));
    }
}
