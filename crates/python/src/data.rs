//! The IDL data types as Python objects. Every field reads SWIG-style (`obj.field()`),
//! writes SWIG-style (`obj.field(value)`) or as an attribute (`obj.field`,
//! `obj.field = value`); `extra_json()` / `set_extra_json(d)` read and write
//! `extra_data` as JSON.

use pyo3::exceptions::{PyAttributeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyBytes, PyDict};
use sustainml_types::{
    AppRequirementsImpl, CO2FootprintImpl, HWConstraintsImpl, HWResourceImpl, MLModelImpl,
    MLModelMetadataImpl, NodeStatusImpl, RequestTypeImpl, ResponseTypeImpl, UserInputImpl,
};

use crate::fields::{package_module, Field};

static FIELDS: GILOnceCell<Py<PyModule>> = GILOnceCell::new();
static JSON: GILOnceCell<Py<PyModule>> = GILOnceCell::new();

/// A Rust value that travels into a callback as a Python object and back.
pub(crate) trait PyData: Sized + Send + 'static {
    /// Moves the value into a new Python object.
    fn into_object(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>>;
    /// Takes the value out of an object made by [`into_object`](Self::into_object).
    fn take_from(object: &Bound<'_, PyAny>) -> PyResult<Self>;
}

fn no_field(class: &str, name: &str) -> PyErr {
    PyAttributeError::new_err(format!("{class} has no field {name:?}"))
}

/// `extra_data` parsed as a JSON object (an empty one when it is empty).
fn parse_extra_json<'py>(
    py: Python<'py>,
    class: &str,
    bytes: &[u8],
) -> PyResult<Bound<'py, PyAny>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(PyDict::new(py).into_any());
    }
    let json = package_module(py, &JSON, "json")?;
    let value = json
        .call_method1("loads", (PyBytes::new(py, bytes),))
        .map_err(|e| PyValueError::new_err(format!("{class}.extra_data is not JSON: {e}")))?;
    if !value.is_instance_of::<PyDict>() {
        return Err(PyValueError::new_err(format!(
            "{class}.extra_data is JSON but not an object: {}",
            value.get_type().name()?
        )));
    }
    Ok(value)
}

fn dump_json(py: Python<'_>, class: &str, value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let json = package_module(py, &JSON, "json")?;
    let text: String = json
        .call_method1("dumps", (value,))
        .map_err(|e| PyValueError::new_err(format!("{class}.set_extra_json: {e}")))?
        .extract()?;
    Ok(text.into_bytes())
}

macro_rules! data_class {
    ($(#[$meta:meta])* $class:ident = $inner:ty { $($field:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[pyclass(module = "sustainml_py")]
        #[derive(Debug, Default)]
        pub struct $class {
            pub(crate) inner: $inner,
        }

        impl $class {
            const NAME: &'static str = stringify!($class);

            fn get_field<'py>(
                &self,
                py: Python<'py>,
                owner: &Bound<'py, PyAny>,
                name: &str,
            ) -> PyResult<Bound<'py, PyAny>> {
                match name {
                    $( stringify!($field) => self.inner.$field.to_py(py, owner, stringify!($field)), )+
                    _ => Err(no_field(Self::NAME, name)),
                }
            }

            fn set_field(&mut self, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
                match name {
                    $( stringify!($field) => {
                        self.inner.$field =
                            Field::from_py(value, concat!(stringify!($class), ".", stringify!($field)))?;
                        Ok(())
                    } )+
                    _ => Err(no_field(Self::NAME, name)),
                }
            }

            fn octets_field(&self, name: &str) -> PyResult<&[u8]> {
                let found: Option<&[u8]> = match name {
                    $( stringify!($field) => self.inner.$field.octets(), )+
                    _ => None,
                };
                found.ok_or_else(|| no_field(Self::NAME, name))
            }
        }

        impl PyData for $inner {
            fn into_object(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
                Ok(Bound::new(py, $class { inner: self })?.into_any())
            }
            fn take_from(object: &Bound<'_, PyAny>) -> PyResult<Self> {
                let cell = object.downcast::<$class>()?;
                let mut me = cell.try_borrow_mut()?;
                Ok(std::mem::take(&mut me.inner))
            }
        }

        #[pymethods]
        impl $class {
            #[new]
            #[pyo3(signature = (**fields))]
            fn new(fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
                let mut me = Self::default();
                if let Some(fields) = fields {
                    for (k, v) in fields.iter() {
                        me.set_field(&k.extract::<String>()?, &v)?;
                    }
                }
                Ok(me)
            }

            /// The field names, in IDL order.
            #[classattr]
            fn _fields() -> Vec<&'static str> {
                vec![$(stringify!($field)),+]
            }

            fn __getattr__<'py>(slf: &Bound<'py, Self>, name: &str) -> PyResult<Bound<'py, PyAny>> {
                let py = slf.py();
                let value = slf.borrow().get_field(py, slf.as_any(), name)?;
                package_module(py, &FIELDS, "sustainml_py._fields")?
                    .getattr("wrap")?
                    .call1((slf, name, value))
            }

            fn __setattr__(&mut self, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
                self.set_field(name, value)
            }

            /// A field's plain value.
            fn _get<'py>(slf: &Bound<'py, Self>, name: &str) -> PyResult<Bound<'py, PyAny>> {
                slf.borrow().get_field(slf.py(), slf.as_any(), name)
            }

            /// Sets a field (TypeError naming the field if the value does not fit).
            fn _set(&mut self, name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
                self.set_field(name, value)
            }

            /// (address, length) of an octet-sequence field's bytes.
            fn _octets_buffer(&self, name: &str) -> PyResult<(usize, usize)> {
                let bytes = self.octets_field(name)?;
                Ok((bytes.as_ptr() as usize, bytes.len()))
            }

            /// One byte of an octet-sequence field (negative counts from the end).
            fn _octets_at(&self, name: &str, index: isize) -> PyResult<u8> {
                let bytes = self.octets_field(name)?;
                let at = if index < 0 { index + bytes.len() as isize } else { index };
                usize::try_from(at)
                    .ok()
                    .and_then(|i| bytes.get(i).copied())
                    .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err("octet index out of range"))
            }

            /// A copy of an octet-sequence field's bytes.
            fn _octets_bytes<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyBytes>> {
                Ok(PyBytes::new(py, self.octets_field(name)?))
            }

            /// Every field as a plain dict (octet sequences as bytes).
            fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
                let py = slf.py();
                let dict = PyDict::new(py);
                let me = slf.borrow();
                $(
                    let value = match me.inner.$field.octets() {
                        Some(b) => PyBytes::new(py, b).into_any(),
                        None => me.get_field(py, slf.as_any(), stringify!($field))?,
                    };
                    dict.set_item(stringify!($field), value)?;
                )+
                Ok(dict)
            }

            /// `extra_data` parsed as JSON: a dict (empty when `extra_data` is), else
            /// ValueError saying why.
            fn extra_json<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                parse_extra_json(py, Self::NAME, self.octets_field("extra_data")?)
            }

            /// Sets `extra_data` to `value` as JSON text.
            fn set_extra_json(&mut self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
                let bytes = dump_json(py, Self::NAME, value)?;
                self.octets_field("extra_data")?;
                self.set_field("extra_data", &PyBytes::new(py, &bytes))
            }

            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                Ok(format!("{}({})", Self::NAME, Self::to_dict(slf)?.repr()?))
            }
        }
    };
}

data_class!(
    /// `/sustainml/user_input`: the user's problem.
    UserInput = UserInputImpl {
        modality, problem_short_description, problem_definition, inputs, outputs,
        minimum_samples, maximum_samples, optimize_carbon_footprint_manual,
        previous_iteration, optimize_carbon_footprint_auto, desired_carbon_footprint,
        geo_location_continent, geo_location_region, extra_data, task_id,
    }
);
data_class!(
    /// APP_REQUIREMENTS' output.
    AppRequirements = AppRequirementsImpl { app_requirements, extra_data, task_id }
);
data_class!(
    /// HW_CONSTRAINTS' output.
    HWConstraints = HWConstraintsImpl { max_memory_footprint, hardware_required, extra_data, task_id }
);
data_class!(
    /// ML_MODEL_METADATA's output.
    MLModelMetadata = MLModelMetadataImpl { keywords, ml_model_metadata, extra_data, task_id }
);
data_class!(
    /// ML_MODEL's output (and the model baseline).
    MLModel = MLModelImpl {
        model_path, model, raw_model, model_properties_path, model_properties,
        input_batch, target_latency, extra_data, task_id,
    }
);
data_class!(
    /// HW_RESOURCES' output (and the hardware baseline).
    HWResource = HWResourceImpl {
        hw_description, power_consumption, latency, memory_footprint_of_ml_model,
        max_hw_memory_footprint, extra_data, task_id,
    }
);
data_class!(
    /// CARBON_FOOTPRINT's output (and the carbon baseline).
    CO2Footprint = CO2FootprintImpl {
        carbon_footprint, energy_consumption, carbon_intensity, extra_data, task_id,
    }
);
data_class!(
    /// The task's status, as a callback may set it: `error_code(ErrorCode.INTERNAL_ERROR)`,
    /// an `error_description(...)` or `node_status(Status.NODE_ERROR)` fail the task.
    NodeStatus = NodeStatusImpl {
        node_status, task_status, error_code, error_description, node_name, task_id,
    }
);
data_class!(
    /// A configuration request.
    RequestType = RequestTypeImpl { node_id, transaction_id, configuration }
);
data_class!(
    /// The answer to a configuration request.
    ResponseType = ResponseTypeImpl { node_id, transaction_id, success, err_code, configuration }
);
