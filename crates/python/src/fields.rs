//! Field values between Rust and Python: how each IDL field type is read into a Python
//! value and checked when Python writes it (a TypeError names the field).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use sustainml_types::{CmdNode, CmdTask, ErrorCode, Status, TaskIdImpl, TaskStatus};

use crate::octets::Octets;

/// A Python module of the package, imported once.
pub(crate) fn package_module<'py>(
    py: Python<'py>,
    cell: &'static GILOnceCell<Py<PyModule>>,
    name: &str,
) -> PyResult<Bound<'py, PyModule>> {
    cell.get_or_try_init(py, || PyModule::import(py, name).map(Bound::unbind))
        .map(|m| m.bind(py).clone())
}

static ENUMS: GILOnceCell<Py<PyModule>> = GILOnceCell::new();

fn type_error(field: &str, expected: &str, value: &Bound<'_, PyAny>) -> PyErr {
    let got = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned());
    PyTypeError::new_err(format!("{field}: expected {expected}, got {got}"))
}

/// One IDL field type as seen from Python.
pub(crate) trait Field: Sized {
    /// The Python value (`owner` is the data object, for octet sequences).
    fn to_py<'py>(
        &self,
        py: Python<'py>,
        owner: &Bound<'py, PyAny>,
        name: &'static str,
    ) -> PyResult<Bound<'py, PyAny>>;
    /// Checks and converts a value Python assigns; `field` is `Class.field`.
    fn from_py(value: &Bound<'_, PyAny>, field: &str) -> PyResult<Self>;
    /// The bytes, for octet sequences.
    fn octets(&self) -> Option<&[u8]> {
        None
    }
}

impl Field for String {
    fn to_py<'py>(
        &self,
        py: Python<'py>,
        _: &Bound<'py, PyAny>,
        _: &'static str,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyString::new(py, self).into_any())
    }
    fn from_py(value: &Bound<'_, PyAny>, field: &str) -> PyResult<Self> {
        match value.downcast::<PyString>() {
            Ok(s) => Ok(s.to_cow()?.into_owned()),
            Err(_) => Err(type_error(field, "str", value)),
        }
    }
}

macro_rules! number_field {
    ($ty:ty, $expected:literal) => {
        impl Field for $ty {
            fn to_py<'py>(
                &self,
                py: Python<'py>,
                _: &Bound<'py, PyAny>,
                _: &'static str,
            ) -> PyResult<Bound<'py, PyAny>> {
                Ok(self.into_pyobject(py)?.into_any())
            }
            fn from_py(value: &Bound<'_, PyAny>, field: &str) -> PyResult<Self> {
                if value.is_instance_of::<PyString>() || value.is_none() {
                    return Err(type_error(field, $expected, value));
                }
                value.extract::<$ty>().map_err(|e| {
                    if e.is_instance_of::<PyTypeError>(value.py()) {
                        type_error(field, $expected, value)
                    } else {
                        PyValueError::new_err(format!("{field}: {e}"))
                    }
                })
            }
        }
    };
}

number_field!(u32, "int (0..=4294967295)");
number_field!(i32, "int (32-bit)");
number_field!(f64, "float");

impl Field for bool {
    fn to_py<'py>(
        &self,
        py: Python<'py>,
        _: &Bound<'py, PyAny>,
        _: &'static str,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(pyo3::types::PyBool::new(py, *self).to_owned().into_any())
    }
    fn from_py(value: &Bound<'_, PyAny>, field: &str) -> PyResult<Self> {
        value
            .extract::<bool>()
            .map_err(|_| type_error(field, "bool", value))
    }
}

impl Field for Vec<String> {
    fn to_py<'py>(
        &self,
        py: Python<'py>,
        _: &Bound<'py, PyAny>,
        _: &'static str,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(pyo3::types::PyList::new(py, self)?.into_any())
    }
    fn from_py(value: &Bound<'_, PyAny>, field: &str) -> PyResult<Self> {
        if value.is_instance_of::<PyString>() {
            return Err(type_error(field, "a list of str", value));
        }
        let mut out = Vec::new();
        for item in value
            .try_iter()
            .map_err(|_| type_error(field, "a list of str", value))?
        {
            let item = item?;
            out.push(String::from_py(&item, &format!("{field} item"))?);
        }
        Ok(out)
    }
}

/// Bytes from what a script may pass for an octet sequence.
pub(crate) fn bytes_from_py(value: &Bound<'_, PyAny>, field: &str) -> PyResult<Vec<u8>> {
    if let Ok(b) = value.downcast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = value.downcast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if let Ok(s) = value.downcast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    if let Ok(o) = value.downcast::<Octets>() {
        return o.borrow().to_vec(value.py());
    }
    if value.is_instance_of::<pyo3::types::PyMemoryView>() {
        let bytes = value.py().get_type::<PyBytes>().call1((value,))?;
        return Ok(bytes.downcast::<PyBytes>()?.as_bytes().to_vec());
    }
    if let Ok(list) = value.extract::<Vec<u8>>() {
        return Ok(list);
    }
    Err(type_error(field, "bytes, bytearray or str", value))
}

impl Field for Vec<u8> {
    fn to_py<'py>(
        &self,
        py: Python<'py>,
        owner: &Bound<'py, PyAny>,
        name: &'static str,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(Bound::new(py, Octets::new(owner, name))?.into_any())
    }
    fn from_py(value: &Bound<'_, PyAny>, field: &str) -> PyResult<Self> {
        bytes_from_py(value, field)
    }
    fn octets(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl Field for TaskIdImpl {
    fn to_py<'py>(
        &self,
        py: Python<'py>,
        _: &Bound<'py, PyAny>,
        _: &'static str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let module = package_module(py, &ENUMS, "sustainml_py._enums")?;
        module
            .getattr("TaskId")?
            .call1((self.problem_id, self.iteration_id))
    }
    fn from_py(value: &Bound<'_, PyAny>, field: &str) -> PyResult<Self> {
        let pair = if let Ok(pair) = value.extract::<(u32, u32)>() {
            pair
        } else if value.hasattr("problem_id")? && value.hasattr("iteration_id")? {
            let get = |name: &str| -> PyResult<u32> {
                let v = value.getattr(name)?;
                let v = if v.is_callable() { v.call0()? } else { v };
                u32::from_py(&v, &format!("{field}.{name}"))
            };
            (get("problem_id")?, get("iteration_id")?)
        } else {
            return Err(type_error(field, "(problem_id, iteration_id)", value));
        };
        Ok(TaskIdImpl {
            problem_id: pair.0,
            iteration_id: pair.1,
        })
    }
}

macro_rules! enum_field {
    ($($ty:ident),+) => {$(
        impl Field for $ty {
            fn to_py<'py>(
                &self,
                py: Python<'py>,
                _: &Bound<'py, PyAny>,
                _: &'static str,
            ) -> PyResult<Bound<'py, PyAny>> {
                let module = package_module(py, &ENUMS, "sustainml_py._enums")?;
                module.getattr(stringify!($ty))?.call1((self.index(),))
            }
            fn from_py(value: &Bound<'_, PyAny>, field: &str) -> PyResult<Self> {
                let expected = concat!(stringify!($ty), " (or its int value)");
                if value.is_instance_of::<PyString>() || value.is_none() {
                    return Err(type_error(field, expected, value));
                }
                let index = value.extract::<u32>().map_err(|_| type_error(field, expected, value))?;
                $ty::from_index(index).ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "{field}: {} has no value {index} (it has {})",
                        stringify!($ty),
                        $ty::ALL.len()
                    ))
                })
            }
        }
    )+};
}

enum_field!(ErrorCode, Status, TaskStatus, CmdNode, CmdTask);
