//! Helpers shared by the integration tests: paths of the shipped test models.
#![allow(dead_code)]

use std::path::PathBuf;

/// The three runnable test models.
pub const MODELS: [&str; 3] = ["tiny_cnn", "mlp", "kws_cnn"];

/// `crates/device/models/NAME.onnx`.
pub fn model(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(format!("{name}.onnx"))
}
