//! `Node`: the base of `sustainml_py.nodes.XNode` and of `GenericNode`. `spin()` runs
//! the node on the runtime in a thread of its own and waits with the GIL released,
//! handling Python signals (Ctrl-C) every 50 ms; the static `terminate()` stops every
//! node of the process, as the reference's does.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};
use sustainml_node::{AnyInputs, AnySample, InputSet, NodeBuilder, NodeError, NodeKind};
use sustainml_types::topics::{self, TopicInfo};
use sustainml_types::{
    AppRequirementsImpl, CO2FootprintImpl, HWConstraintsImpl, HWResourceImpl, MLModelImpl,
    MLModelMetadataImpl, NodeId, TaskData, UserInputImpl,
};
use tokio::sync::watch;

use crate::callbacks::{config_callback, task_callback, PyInputs};
use crate::data::PyData;

/// The process-wide stop request of `terminate()`.
fn stop_flag() -> &'static watch::Sender<bool> {
    static STOP: OnceLock<watch::Sender<bool>> = OnceLock::new();
    STOP.get_or_init(|| watch::channel(false).0)
}

async fn terminated() {
    let mut rx = stop_flag().subscribe();
    let _ = rx.wait_for(|stop| *stop).await;
}

/// What a node is: one of the reference's kinds, or topics chosen by the script.
#[derive(Debug, Clone)]
enum Definition {
    Kind(NodeKind),
    Generic {
        inputs: Vec<TopicInfo>,
        output: TopicInfo,
        node_id: Option<NodeId>,
    },
}

/// Runs `$body` with `$O` bound to the output type named `$type_name`, or evaluates
/// `$other` for a name that is not a task data type.
macro_rules! with_output_type {
    ($type_name:expr, $O:ident => $body:expr, $other:ident => $fallback:expr) => {
        match $type_name {
            n if n == <UserInputImpl as sustainml_types::WireType>::TYPE_NAME => {
                type $O = UserInputImpl;
                $body
            }
            n if n == <AppRequirementsImpl as sustainml_types::WireType>::TYPE_NAME => {
                type $O = AppRequirementsImpl;
                $body
            }
            n if n == <HWConstraintsImpl as sustainml_types::WireType>::TYPE_NAME => {
                type $O = HWConstraintsImpl;
                $body
            }
            n if n == <MLModelMetadataImpl as sustainml_types::WireType>::TYPE_NAME => {
                type $O = MLModelMetadataImpl;
                $body
            }
            n if n == <MLModelImpl as sustainml_types::WireType>::TYPE_NAME => {
                type $O = MLModelImpl;
                $body
            }
            n if n == <HWResourceImpl as sustainml_types::WireType>::TYPE_NAME => {
                type $O = HWResourceImpl;
                $body
            }
            n if n == <CO2FootprintImpl as sustainml_types::WireType>::TYPE_NAME => {
                type $O = CO2FootprintImpl;
                $body
            }
            $other => $fallback,
        }
    };
}

/// A topic given from Python: a SustainML topic's name, or `(name, type_name)` for a
/// topic of the script's own. The names of such a topic live as long as the process
/// (a node definition is made once).
fn topic_from_py(value: &Bound<'_, PyAny>, what: &str) -> PyResult<TopicInfo> {
    if let Ok(name) = value.downcast::<PyString>() {
        let name: String = name.extract()?;
        let name = name.as_str();
        return topics::by_name(name).ok_or_else(|| {
            let known: Vec<&str> = topics::TOPICS
                .iter()
                .filter(|t| AnySample::TYPE_NAMES.contains(&t.type_name))
                .map(|t| t.name)
                .collect();
            PyValueError::new_err(format!(
                "{what}: unknown topic {name:?}; give (name, type_name) for a topic of your \
                 own, or one of: {}",
                known.join(", ")
            ))
        });
    }
    if let Ok(pair) = value.downcast::<PyTuple>() {
        if let Ok((name, type_name)) = pair.extract::<(String, String)>() {
            let Some(type_name) = AnySample::TYPE_NAMES.iter().find(|t| **t == type_name) else {
                return Err(PyValueError::new_err(format!(
                    "{what}: topic {name:?} carries {type_name:?}, which is not a task data \
                     type (one of {})",
                    AnySample::TYPE_NAMES.join(", ")
                )));
            };
            if name.is_empty() {
                return Err(PyValueError::new_err(format!("{what}: empty topic name")));
            }
            let name: &'static str = Box::leak(name.into_boxed_str());
            return Ok(TopicInfo { name, type_name });
        }
    }
    Err(PyTypeError::new_err(format!(
        "{what}: a topic is a topic name (str) or a (name, type_name) tuple, not {}",
        value.get_type().name()?
    )))
}

/// Checks a generic definition as the runtime will when the node starts.
fn check_generic(name: &str, inputs: &[TopicInfo], output: TopicInfo) -> PyResult<()> {
    let checked = with_output_type!(output.type_name,
    O => sustainml_node::generic::<AnyInputs, O>(name, inputs, output).map(drop),
    other => Err(NodeError::Definition(format!(
        "{name}: output {} carries {other}, which is not a task data type (one of {})",
        output.name,
        AnySample::TYPE_NAMES.join(", ")
    ))));
    checked.map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A node defined from Python: one of the reference's kinds, or a generic node.
#[pyclass(subclass, module = "sustainml_py")]
#[derive(Debug)]
pub struct Node {
    definition: Definition,
    name: Option<String>,
    callback: Arc<Py<PyAny>>,
    service: Option<Arc<Py<PyAny>>>,
}

#[pymethods]
impl Node {
    #[new]
    #[pyo3(signature = (
        kind, callback = None, service_callback = None, *,
        name = None, inputs = None, output = None, node_id = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        kind: &str,
        callback: Option<Py<PyAny>>,
        service_callback: Option<Py<PyAny>>,
        name: Option<String>,
        inputs: Option<Vec<Bound<'_, PyAny>>>,
        output: Option<Bound<'_, PyAny>>,
        node_id: Option<i32>,
    ) -> PyResult<Self> {
        let callback = callback.ok_or_else(|| {
            PyValueError::new_err("callback is required: XNode(callback=f, service_callback=g)")
        })?;
        if let Some(name) = &name {
            sustainml_types::NodeName::new(name)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        let definition = if kind == "generic" {
            let name = name.as_deref().ok_or_else(|| {
                PyValueError::new_err(
                    "a generic node needs a name: GenericNode(name, inputs, output, ...)",
                )
            })?;
            let inputs = inputs
                .ok_or_else(|| PyValueError::new_err(format!("{name}: inputs= is required")))?
                .iter()
                .enumerate()
                .map(|(i, t)| topic_from_py(t, &format!("{name}: input {i}")))
                .collect::<PyResult<Vec<_>>>()?;
            let output = output
                .ok_or_else(|| PyValueError::new_err(format!("{name}: output= is required")))?;
            let output = topic_from_py(&output, &format!("{name}: output"))?;
            check_generic(name, &inputs, output)?;
            let node_id = node_id
                .map(|v| {
                    NodeId::from_value(v).ok_or_else(|| {
                        PyValueError::new_err(format!(
                            "{name}: node_id={v} is not a NodeID (one of {})",
                            NodeId::ALL
                                .map(|n| format!("{}={}", n.node_name(), n.value()))
                                .join(", ")
                        ))
                    })
                })
                .transpose()?;
            if service_callback.is_some() && node_id.is_none() {
                return Err(PyValueError::new_err(format!(
                    "{name}: service_callback needs node_id= (configuration requests are \
                     addressed by node id)"
                )));
            }
            Definition::Generic {
                inputs,
                output,
                node_id,
            }
        } else {
            if inputs.is_some() || output.is_some() || node_id.is_some() {
                return Err(PyValueError::new_err(
                    "inputs=, output= and node_id= are for generic nodes (GenericNode)",
                ));
            }
            Definition::Kind(
                NodeKind::parse(kind)
                    .ok_or_else(|| PyValueError::new_err(format!("unknown node kind {kind:?}")))?,
            )
        };
        Ok(Self {
            definition,
            name,
            callback: Arc::new(callback),
            service: service_callback.map(Arc::new),
        })
    }

    /// The node's name (participant and status name).
    fn name(&self) -> String {
        match (&self.name, &self.definition) {
            (Some(name), _) => name.clone(),
            (None, Definition::Kind(kind)) => kind.node_name().to_owned(),
            // A generic node is refused without a name, so this is never seen.
            (None, Definition::Generic { .. }) => String::new(),
        }
    }

    /// The input topics, in callback order.
    fn inputs(&self) -> Vec<&'static str> {
        match &self.definition {
            Definition::Kind(kind) => kind.inputs().iter().map(|t| t.name).collect(),
            Definition::Generic { inputs, .. } => inputs.iter().map(|t| t.name).collect(),
        }
    }

    /// The output topic.
    fn output(&self) -> &'static str {
        match &self.definition {
            Definition::Kind(kind) => kind.output().name,
            Definition::Generic { output, .. } => output.name,
        }
    }

    /// Runs the node until `terminate()`, TERMINATE_NODE or Ctrl-C (when spinning on
    /// the main thread). Releases the GIL while it waits.
    fn spin(&self, py: Python<'_>) -> PyResult<()> {
        let name = self.name();
        sustainml_node::logging::init(Some(&name));
        let signals = PyModule::import(py, "sustainml_py._signals")?;
        let previous = signals.call_method0("install")?;
        let result = self.spin_inner(py, name);
        signals.call_method1("restore", (previous,))?;
        result
    }

    /// Stops every node of this process (static, as the reference's; safe to call
    /// from a signal handler). A terminated process does not spin again.
    #[staticmethod]
    fn terminate() {
        stop_flag().send_replace(true);
    }

    fn __repr__(&self) -> String {
        format!("<{} node>", self.name())
    }
}

impl Node {
    fn spin_inner(&self, py: Python<'_>, name: String) -> PyResult<()> {
        let (done_tx, done) = mpsc::channel();
        let done = std::sync::Mutex::new(done);
        let (definition, rename) = (self.definition.clone(), self.name.clone());
        let (callback, service) = (Arc::clone(&self.callback), self.service.clone());
        std::thread::Builder::new()
            .name(format!("{name} runtime"))
            .spawn(move || {
                let _ = done_tx.send(run(definition, rename, callback, service));
            })
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start the node thread: {e}")))?;
        let mut interrupted = None;
        loop {
            match py.allow_threads(|| {
                done.lock()
                    .map_err(|_| RecvTimeoutError::Disconnected)?
                    .recv_timeout(Duration::from_millis(50))
            }) {
                Ok(result) => {
                    result.map_err(|e| PyRuntimeError::new_err(format!("{name}: {e}")))?;
                    return match interrupted {
                        Some(e) => Err(e),
                        None => Ok(()),
                    };
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(PyRuntimeError::new_err(format!("{name}: node thread died")))
                }
                Err(RecvTimeoutError::Timeout) => {
                    if interrupted.is_some() {
                        continue;
                    }
                    if let Err(e) = py.check_signals() {
                        // Ctrl-C ends spin() cleanly; another exception from a signal
                        // handler stops the node, then propagates.
                        stop_flag().send_replace(true);
                        if !e.is_instance_of::<PyKeyboardInterrupt>(py) {
                            interrupted = Some(e);
                        } else {
                            tracing::info!("interrupted");
                        }
                    }
                }
            }
        }
    }
}

fn run(
    definition: Definition,
    name: Option<String>,
    callback: Arc<Py<PyAny>>,
    service: Option<Arc<Py<PyAny>>>,
) -> Result<(), NodeError> {
    use sustainml_node as n;
    let kind = match definition {
        Definition::Kind(kind) => kind,
        Definition::Generic {
            inputs,
            output,
            node_id,
        } => {
            let name = name.unwrap_or_default();
            return with_output_type!(output.type_name,
                O => {
                    let mut builder = n::generic::<AnyInputs, O>(&name, &inputs, output)?;
                    if let Some(id) = node_id {
                        builder = builder.node_id(id);
                    }
                    serve(builder, None, callback, service)
                },
                other => Err(NodeError::Definition(format!("{name}: no output type {other}"))));
        }
    };
    match kind {
        NodeKind::AppRequirements => serve(n::app_requirements(), name, callback, service),
        NodeKind::HwConstraints => serve(n::hw_constraints(), name, callback, service),
        NodeKind::MlModelMetadata => serve(n::ml_model_metadata(), name, callback, service),
        NodeKind::MlModel => serve(n::ml_model(), name, callback, service),
        NodeKind::HwResources => serve(n::hw_resources(), name, callback, service),
        NodeKind::CarbonFootprint => serve(n::carbon_footprint(), name, callback, service),
        other => Err(NodeError::Definition(format!(
            "{other:?} has no Python node"
        ))),
    }
}

fn serve<I, O>(
    mut builder: NodeBuilder<I, O>,
    name: Option<String>,
    callback: Arc<Py<PyAny>>,
    service: Option<Arc<Py<PyAny>>>,
) -> Result<(), NodeError>
where
    I: PyInputs + InputSet,
    O: PyData + TaskData + Default,
{
    if let Some(name) = name {
        builder = builder.name(&name)?;
    }
    if let Some(g) = service {
        builder = builder.on_configuration_request(config_callback(g));
    }
    let node = builder.callback(task_callback::<I, O>(callback));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(NodeError::Runtime)?;
    runtime.block_on(node.run_until(terminated()))
}
