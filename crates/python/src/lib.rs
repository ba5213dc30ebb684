//! `sustainml_py._sustainml`: the native half of the `sustainml_py` Python package
//! (the reference's Python node API on the sustainml-rs runtime). The Python half
//! (`python/sustainml_py`) gives the reference's module layout, the enums and the
//! REST client; see README "Python nodes".
#![warn(missing_docs)]

mod callbacks;
mod data;
mod fields;
mod node;
mod octets;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _sustainml(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<node::Node>()?;
    m.add_class::<octets::Octets>()?;
    m.add_class::<data::UserInput>()?;
    m.add_class::<data::AppRequirements>()?;
    m.add_class::<data::HWConstraints>()?;
    m.add_class::<data::MLModelMetadata>()?;
    m.add_class::<data::MLModel>()?;
    m.add_class::<data::HWResource>()?;
    m.add_class::<data::CO2Footprint>()?;
    m.add_class::<data::NodeStatus>()?;
    m.add_class::<data::RequestType>()?;
    m.add_class::<data::ResponseType>()?;
    Ok(())
}
