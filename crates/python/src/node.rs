//! `Node`: the base of `sustainml_py.nodes.XNode`. `spin()` runs the node on the
//! runtime in a thread of its own and waits with the GIL released, handling Python
//! signals (Ctrl-C) every 50 ms; the static `terminate()` stops every node of the
//! process, as the reference's does.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use sustainml_node::{NodeBuilder, NodeError, NodeKind};
use sustainml_types::TaskData;
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

/// A node of one of the reference's kinds, defined from Python.
#[pyclass(subclass, module = "sustainml_py")]
#[derive(Debug)]
pub struct Node {
    kind: NodeKind,
    name: Option<String>,
    callback: Arc<Py<PyAny>>,
    service: Option<Arc<Py<PyAny>>>,
}

#[pymethods]
impl Node {
    #[new]
    #[pyo3(signature = (kind, callback = None, service_callback = None, *, name = None))]
    fn new(
        kind: &str,
        callback: Option<Py<PyAny>>,
        service_callback: Option<Py<PyAny>>,
        name: Option<String>,
    ) -> PyResult<Self> {
        let kind = NodeKind::parse(kind)
            .ok_or_else(|| PyValueError::new_err(format!("unknown node kind {kind:?}")))?;
        let callback = callback.ok_or_else(|| {
            PyValueError::new_err("callback is required: XNode(callback=f, service_callback=g)")
        })?;
        if let Some(name) = &name {
            sustainml_types::NodeName::new(name)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        Ok(Self {
            kind,
            name,
            callback: Arc::new(callback),
            service: service_callback.map(Arc::new),
        })
    }

    /// The node's name (participant and status name).
    fn name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.kind.node_name().to_owned())
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
        let (kind, rename) = (self.kind, self.name.clone());
        let (callback, service) = (Arc::clone(&self.callback), self.service.clone());
        std::thread::Builder::new()
            .name(format!("{name} runtime"))
            .spawn(move || {
                let _ = done_tx.send(run(kind, rename, callback, service));
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
    kind: NodeKind,
    name: Option<String>,
    callback: Arc<Py<PyAny>>,
    service: Option<Arc<Py<PyAny>>>,
) -> Result<(), NodeError> {
    use sustainml_node as n;
    match kind {
        NodeKind::AppRequirements => serve(
            n::app_requirements(),
            kind.id().value(),
            name,
            callback,
            service,
        ),
        NodeKind::HwConstraints => serve(
            n::hw_constraints(),
            kind.id().value(),
            name,
            callback,
            service,
        ),
        NodeKind::MlModelMetadata => serve(
            n::ml_model_metadata(),
            kind.id().value(),
            name,
            callback,
            service,
        ),
        NodeKind::MlModel => serve(n::ml_model(), kind.id().value(), name, callback, service),
        NodeKind::HwResources => serve(
            n::hw_resources(),
            kind.id().value(),
            name,
            callback,
            service,
        ),
        NodeKind::CarbonFootprint => serve(
            n::carbon_footprint(),
            kind.id().value(),
            name,
            callback,
            service,
        ),
        other => Err(NodeError::Definition(format!(
            "{other:?} has no Python node"
        ))),
    }
}

fn serve<I, O>(
    mut builder: NodeBuilder<I, O>,
    node_id: i32,
    name: Option<String>,
    callback: Arc<Py<PyAny>>,
    service: Option<Arc<Py<PyAny>>>,
) -> Result<(), NodeError>
where
    I: PyInputs,
    O: PyData + TaskData + Default,
{
    if let Some(name) = name {
        builder = builder.name(&name)?;
    }
    if let Some(g) = service {
        builder = builder.on_configuration(config_callback(g, node_id));
    }
    let node = builder.callback(task_callback::<I, O>(callback));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(NodeError::Runtime)?;
    runtime.block_on(node.run_until(terminated()))
}
