//! The Python task and configuration callbacks, adapted to the node runtime's: inputs
//! and output travel as data objects; the reference's ways of failing a task (an
//! exception, or `node_status` set to an error) become a task error.

use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use sustainml_node::{
    AnyInputs, AnySample, ConfigError, ConfigRequest, InputSet, TaskContext, TaskError,
};
use sustainml_types::{
    ErrorCode, NodeStatusImpl, RequestTypeImpl, ResponseTypeImpl, Status, TaskData, TaskStatus,
};

use crate::data::{PyData, RequestType, ResponseType};

/// A tuple of inputs that becomes the callback's leading arguments, in order.
pub(crate) trait PyInputs: InputSet {
    /// The inputs as Python objects.
    fn into_args(self, py: Python<'_>) -> PyResult<Vec<Bound<'_, PyAny>>>;
}

macro_rules! py_inputs {
    ($($T:ident $i:tt),+) => {
        impl<$($T: PyData + TaskData),+> PyInputs for ($($T,)+) {
            fn into_args(self, py: Python<'_>) -> PyResult<Vec<Bound<'_, PyAny>>> {
                Ok(vec![$(self.$i.into_object(py)?),+])
            }
        }
    };
}

py_inputs!(A 0);
py_inputs!(A 0, B 1);
py_inputs!(A 0, B 1, C 2);
py_inputs!(A 0, B 1, C 2, D 3);
py_inputs!(A 0, B 1, C 2, D 3, E 4);
py_inputs!(A 0, B 1, C 2, D 3, E 4, F 5);

impl PyInputs for AnyInputs {
    fn into_args(self, py: Python<'_>) -> PyResult<Vec<Bound<'_, PyAny>>> {
        self.0
            .into_iter()
            .map(|sample| match sample {
                AnySample::UserInput(v) => v.into_object(py),
                AnySample::AppRequirements(v) => v.into_object(py),
                AnySample::HwConstraints(v) => v.into_object(py),
                AnySample::MlModelMetadata(v) => v.into_object(py),
                AnySample::MlModel(v) => v.into_object(py),
                AnySample::HwResource(v) => v.into_object(py),
                AnySample::Co2Footprint(v) => v.into_object(py),
                other => Err(PyTypeError::new_err(format!(
                    "{} has no Python class",
                    other.type_name()
                ))),
            })
            .collect()
    }
}

/// "TypeName: message" of a Python exception, with its traceback logged.
pub(crate) fn describe(py: Python<'_>, err: &PyErr, what: &str) -> String {
    let kind = err
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".to_owned());
    let text = format!("{kind}: {}", err.value(py));
    let traceback = err
        .traceback(py)
        .and_then(|tb| tb.format().ok())
        .unwrap_or_default();
    tracing::error!("{what} raised {text}\n{traceback}");
    text
}

/// What the callback left in `node_status`, as the task's outcome.
fn status_outcome(status: &NodeStatusImpl) -> Result<(), TaskError> {
    let failed = status.error_code != ErrorCode::NoError
        || status.node_status == Status::Error
        || status.task_status == TaskStatus::Error
        || !status.error_description.is_empty();
    if !failed {
        return Ok(());
    }
    Err(TaskError::new(if status.error_description.is_empty() {
        format!(
            "callback set node_status error_code {}, node_status {}",
            status.error_code, status.node_status
        )
    } else {
        status.error_description.clone()
    }))
}

/// The runtime's task callback around `f(*inputs, node_status, output)`.
pub(crate) fn task_callback<I, O>(
    f: Arc<Py<PyAny>>,
) -> impl Fn(I, &mut TaskContext, &mut O) -> Result<(), TaskError> + Send + Sync + 'static
where
    I: PyInputs,
    O: PyData + TaskData + Default,
{
    move |inputs: I, ctx: &mut TaskContext, out: &mut O| {
        Python::with_gil(|py| {
            let fail = |e: PyErr| TaskError::new(describe(py, &e, "task callback"));
            let mut args = inputs.into_args(py).map_err(fail)?;
            let status = NodeStatusImpl {
                node_status: Status::Running,
                task_status: TaskStatus::Running,
                node_name: ctx.node_name().to_owned(),
                task_id: ctx.task_id(),
                ..NodeStatusImpl::default()
            };
            let status = status.into_object(py).map_err(fail)?;
            let mut output = O::default();
            output.set_task_id(ctx.task_id());
            let output = output.into_object(py).map_err(fail)?;
            args.push(status.clone());
            args.push(output.clone());
            let args = PyTuple::new(py, args).map_err(fail)?;
            f.bind(py).call1(args).map_err(fail)?;
            status_outcome(&NodeStatusImpl::take_from(&status).map_err(fail)?)?;
            *out = O::take_from(&output).map_err(fail)?;
            Ok(())
        })
    }
}

/// The runtime's configuration callback around `g(req, res)`. `req` carries the
/// request's configuration and ids; `res` starts as a success with the same ids.
/// `success(False)` or an `err_code` other than NO_ERROR answer an error. A
/// configuration that is not JSON is sent as a JSON string.
pub(crate) fn config_callback(
    g: Arc<Py<PyAny>>,
) -> impl Fn(ConfigRequest<'_>) -> Result<String, ConfigError> + Send + Sync + 'static {
    move |request: ConfigRequest<'_>| {
        Python::with_gil(|py| {
            let fail = |e: PyErr| ConfigError::new(describe(py, &e, "configuration callback"));
            let req = Bound::new(
                py,
                RequestType {
                    inner: RequestTypeImpl {
                        node_id: request.node_id,
                        transaction_id: request.transaction_id,
                        configuration: request.configuration.to_owned(),
                    },
                },
            )
            .map_err(fail)?;
            let res = Bound::new(
                py,
                ResponseType {
                    inner: ResponseTypeImpl {
                        node_id: request.node_id,
                        transaction_id: request.transaction_id,
                        success: true,
                        err_code: ErrorCode::NoError,
                        configuration: String::new(),
                    },
                },
            )
            .map_err(fail)?;
            g.bind(py).call1((&req, &res)).map_err(fail)?;
            let answer = std::mem::take(&mut res.borrow_mut().inner);
            config_answer(answer)
        })
    }
}

fn config_answer(answer: ResponseTypeImpl) -> Result<String, ConfigError> {
    let parsed = serde_json::from_str::<serde_json::Value>(&answer.configuration).ok();
    if !answer.success || answer.err_code != ErrorCode::NoError {
        // `{"error": "why"}` from the script keeps its message; other text is the message.
        let message = parsed
            .as_ref()
            .and_then(|v| v.get("error"))
            .and_then(|e| e.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                if answer.configuration.is_empty() {
                    format!(
                        "configuration callback answered success={}, err_code={}",
                        if answer.success { "True" } else { "False" },
                        answer.err_code
                    )
                } else {
                    answer.configuration.clone()
                }
            });
        return Err(ConfigError::with_code(answer.err_code, message));
    }
    Ok(match parsed {
        Some(_) => answer.configuration,
        None => serde_json::Value::String(answer.configuration).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // A script's success(False) / err_code reach the requester; plain text answers
    // stay successful as a JSON string.
    #[test]
    fn configuration_answers_map_to_success_or_error() {
        let ok = |c: &str| ResponseTypeImpl {
            success: true,
            configuration: c.to_owned(),
            ..ResponseTypeImpl::default()
        };
        assert_eq!(config_answer(ok("{\"a\":1}")), Ok("{\"a\":1}".to_owned()));
        assert_eq!(
            config_answer(ok("TestConfig")),
            Ok("\"TestConfig\"".to_owned())
        );
        let failed = ResponseTypeImpl {
            success: false,
            configuration: "{\"error\":\"no such query\"}".to_owned(),
            ..ResponseTypeImpl::default()
        };
        assert_eq!(
            config_answer(failed),
            Err(ConfigError::new("no such query"))
        );
        let coded = ResponseTypeImpl {
            success: true,
            err_code: ErrorCode::InternalError,
            ..ResponseTypeImpl::default()
        };
        assert!(matches!(config_answer(coded), Err(e) if e.message().contains("INTERNAL_ERROR")));
    }

    // The reference's ways of failing a task through node_status.
    #[test]
    fn node_status_errors_fail_the_task() {
        let mut s = NodeStatusImpl::default();
        assert!(status_outcome(&s).is_ok());
        s.error_description = "no model fits".into();
        assert_eq!(status_outcome(&s), Err(TaskError::new("no model fits")));
        let coded = NodeStatusImpl {
            error_code: ErrorCode::InternalError,
            ..NodeStatusImpl::default()
        };
        assert!(matches!(status_outcome(&coded), Err(e) if e.0.contains("INTERNAL_ERROR")));
    }
}
