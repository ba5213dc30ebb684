//! The devices this crate knows: "CPU" (real) and the rows of `data/devices.json`.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::cpu::CpuDevice;
use crate::error::{DeviceError, Result};
use crate::estimate::{DeviceSpec, EstimatedDevice};
use crate::Device;

#[derive(Debug, Deserialize)]
struct Table {
    devices: Vec<DeviceSpec>,
}

/// The device table shipped with the crate (`data/devices.json`).
pub fn device_table() -> Result<&'static [DeviceSpec]> {
    static TABLE: OnceLock<std::result::Result<Vec<DeviceSpec>, String>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            serde_json::from_str::<Table>(include_str!("../data/devices.json"))
                .map(|t| t.devices)
                .map_err(|e| e.to_string())
        })
        .as_deref()
        .map_err(|cause| DeviceError::Table {
            table: "data/devices.json",
            cause: cause.clone(),
        })
}

/// Every known device name: "CPU" first, then the table's devices in table order.
pub fn devices() -> Vec<String> {
    let mut names = vec!["CPU".to_string()];
    match device_table() {
        Ok(table) => names.extend(table.iter().map(|d| d.name.clone())),
        Err(e) => tracing::error!("{e}"),
    }
    names
}

/// The device called `name` (case-insensitive), or `None`.
pub fn device(name: &str) -> Option<Box<dyn Device>> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("CPU") {
        return Some(Box::new(CpuDevice::new()));
    }
    let spec = device_table()
        .ok()?
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))?;
    Some(Box::new(EstimatedDevice::new(spec.clone())))
}

/// The device called `name`, or [`DeviceError::UnknownDevice`] naming it and listing the
/// known ones.
pub fn require_device(name: &str) -> Result<Box<dyn Device>> {
    device(name).ok_or_else(|| DeviceError::UnknownDevice {
        name: name.to_string(),
        known: devices(),
    })
}
