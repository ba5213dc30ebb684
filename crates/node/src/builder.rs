//! Defining a node (its kind or topics, options, configuration and task callback)
//! and running it: the participant, readers, writers and services around the event
//! loop.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use sustainml_dds::Participant;
use sustainml_types::topics::TopicInfo;
use sustainml_types::{NodeId, Status, TaskData};
use tokio::sync::mpsc;

use crate::config_service::{spawn_config_service, ConfigError, ConfigFn, ConfigRequest};
use crate::event_loop::{spawn_control_reader, Loop, Output};
use crate::inputs::{AnySample, InputSet};
use crate::kind::NodeKind;
use crate::options::{NodeError, NodeOptions};
use crate::status::StatusReporter;
use crate::task::{Callback, TaskContext, TaskError, TaskResult};

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
    match I::type_names() {
        Some(expected) => {
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
        }
        None => {
            if inputs.is_empty() {
                return Err(NodeError::Definition(format!(
                    "{name}: a node needs at least one input topic"
                )));
            }
            if let Some(topic) = inputs
                .iter()
                .find(|t| !AnySample::TYPE_NAMES.contains(&t.type_name))
            {
                return Err(NodeError::Definition(format!(
                    "{name}: input {} carries {}, which is not a task data type (one of {})",
                    topic.name,
                    topic.type_name,
                    AnySample::TYPE_NAMES.join(", ")
                )));
            }
        }
    }
    if let Some(i) =
        (1..inputs.len()).find(|&i| inputs[..i].iter().any(|t| t.name == inputs[i].name))
    {
        return Err(NodeError::Definition(format!(
            "{name}: input {} is given twice",
            inputs[i].name
        )));
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

    /// The configuration callback: request text in, JSON text (or why it failed) out.
    /// It runs on its own thread, so a slow one never stalls tasks; output that is not
    /// valid JSON is refused with success=false.
    pub fn on_configuration<F>(self, f: F) -> Self
    where
        F: Fn(&str) -> Result<String, ConfigError> + Send + Sync + 'static,
    {
        self.on_configuration_request(move |request| f(request.configuration))
    }

    /// Like [`on_configuration`](Self::on_configuration), for a callback that needs the
    /// whole request (its node and transaction ids).
    pub fn on_configuration_request<F>(mut self, f: F) -> Self
    where
        F: Fn(ConfigRequest<'_>) -> Result<String, ConfigError> + Send + Sync + 'static,
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
        let mut state = Loop::new(
            Arc::clone(&name),
            self.def.inputs.clone(),
            self.def.options.clone(),
            self.callback,
            Output::Dds(output),
            status,
        );
        state.ready().await;
        tracing::info!(
            inputs = self.def.inputs.len(),
            output = self.def.output.name,
            "node ready"
        );
        let result = state.serve(arrivals, control, stop).await;
        state.shut_down().await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AnyInputs;
    use sustainml_types::topics;

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

    // A node whose inputs are typed at run time takes any task topics, each once.
    #[test]
    fn run_time_typed_nodes_check_their_topics() {
        let custom = TopicInfo {
            name: "/myorg/ranking",
            type_name: "MLModelImpl",
        };
        assert!(generic::<AnyInputs, CO2FootprintImpl>(
            "RANKER",
            &[topics::USER_INPUT, custom],
            topics::CARBON_FOOTPRINT_OUTPUT,
        )
        .is_ok());
        let status = generic::<AnyInputs, CO2FootprintImpl>(
            "RANKER",
            &[topics::STATUS],
            topics::CARBON_FOOTPRINT_OUTPUT,
        )
        .expect_err("status is not task data");
        assert!(status
            .to_string()
            .contains("/sustainml/status carries NodeStatusImpl, which is not a task data type"));
        let twice = generic::<AnyInputs, CO2FootprintImpl>(
            "RANKER",
            &[topics::USER_INPUT, topics::USER_INPUT],
            topics::CARBON_FOOTPRINT_OUTPUT,
        )
        .expect_err("same topic twice");
        assert!(twice
            .to_string()
            .contains("/sustainml/user_input is given twice"));
        let none =
            generic::<AnyInputs, CO2FootprintImpl>("RANKER", &[], topics::CARBON_FOOTPRINT_OUTPUT)
                .expect_err("no inputs");
        assert!(none.to_string().contains("at least one input topic"));
    }
}
