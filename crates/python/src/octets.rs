//! `extra_data()` and `raw_model()`: an octet sequence as the reference's SWIG
//! `uint8_t_vector` showed it (`.size()`, `.get_buffer()`), plus `bytes()`, `len()`,
//! indexing and iteration.
//!
//! The object is a view of its data object's field, not a copy: `.get_buffer()` is the
//! address of the field's bytes inside that object, which the view keeps alive, so the
//! address stays valid while the view lives and the field is not assigned again (for a
//! callback's arguments: during the callback), as the reference's template needs for
//! `(ctypes.c_ubyte * n).from_address(buf.get_buffer())`. Taking the address is safe
//! Rust; only the script's ctypes dereferences it.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

/// A view of one octet-sequence field of a data object.
#[pyclass(name = "Octets", module = "sustainml_py", frozen)]
#[derive(Debug)]
pub struct Octets {
    owner: Py<PyAny>,
    field: &'static str,
}

impl Octets {
    pub(crate) fn new(owner: &Bound<'_, PyAny>, field: &'static str) -> Self {
        Self {
            owner: owner.clone().unbind(),
            field,
        }
    }

    fn info(&self, py: Python<'_>) -> PyResult<(usize, usize)> {
        self.owner
            .bind(py)
            .call_method1("_octets_buffer", (self.field,))?
            .extract()
    }

    fn bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(self
            .owner
            .bind(py)
            .call_method1("_octets_bytes", (self.field,))?
            .downcast_into::<PyBytes>()?)
    }

    pub(crate) fn to_vec(&self, py: Python<'_>) -> PyResult<Vec<u8>> {
        Ok(self.bytes(py)?.as_bytes().to_vec())
    }
}

#[pymethods]
impl Octets {
    /// The number of bytes.
    fn size(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.info(py)?.1)
    }

    /// The address of the first byte (for ctypes `from_address`).
    fn get_buffer(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.info(py)?.0)
    }

    /// The bytes decoded as text (default UTF-8).
    #[pyo3(signature = (encoding = "utf-8", errors = "strict"))]
    fn decode<'py>(
        &self,
        py: Python<'py>,
        encoding: &str,
        errors: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.bytes(py)?.call_method1("decode", (encoding, errors))
    }

    /// SWIG-style: `obj.extra_data()` gives this view; `obj.extra_data(b"…")` sets it.
    #[pyo3(signature = (*args))]
    fn __call__<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let me = slf.get();
        match args.len() {
            0 => Ok(slf.clone().into_any()),
            1 => {
                me.owner
                    .bind(slf.py())
                    .call_method1("_set", (me.field, args.get_item(0)?))?;
                Ok(slf.py().None().into_bound(slf.py()))
            }
            n => Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "{}() takes 0 or 1 argument ({n} given)",
                me.field
            ))),
        }
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.bytes(py)
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.size(py)
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        index: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(i) = index.extract::<isize>() {
            // One byte without copying the field (scripts index it byte by byte).
            return self
                .owner
                .bind(py)
                .call_method1("_octets_at", (self.field, i));
        }
        self.bytes(py)?.get_item(index)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.bytes(py)?.try_iter()?.into_any())
    }

    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        let mine = self.bytes(py)?;
        match crate::fields::bytes_from_py(other, self.field) {
            Ok(theirs) => Ok(mine.as_bytes() == theirs.as_slice()),
            Err(_) => Ok(false),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("Octets({})", self.bytes(py)?.repr()?))
    }
}
