//! The one error type of the crate: every failure names its cause and the model or device.

use std::path::PathBuf;

/// What went wrong while loading, checking, running or estimating a model on a device.
///
/// `origin` is the file the model came from (or the label given with the bytes).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The model file could not be read.
    #[error("cannot read model file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The bytes are not an ONNX model (not protobuf, or a protobuf without a graph).
    #[error("{origin} is not an ONNX model: {cause}")]
    NotOnnx {
        /// Where the bytes came from.
        origin: String,
        /// What the decoder said.
        cause: String,
    },
    /// The bytes start like an ONNX model but end early.
    #[error("{origin} is a truncated ONNX model ({len} bytes): {cause}")]
    Truncated {
        /// Where the bytes came from.
        origin: String,
        /// How many bytes there were.
        len: usize,
        /// What the decoder said.
        cause: String,
    },
    /// The model uses an operator the runtime (tract) does not implement.
    #[error("{origin} uses operator {op} (node {node:?}), which the runtime does not support")]
    UnsupportedOperator {
        /// Where the model came from.
        origin: String,
        /// The operator, with its domain when it is not the default one.
        op: String,
        /// The node using it.
        node: String,
    },
    /// An input's shape has a symbolic or unknown dimension.
    #[error("{origin}: input {input:?} has shape {shape}, which is not fixed; every input dimension must be a number")]
    DynamicInput {
        /// Where the model came from.
        origin: String,
        /// The input's name.
        input: String,
        /// The shape as declared.
        shape: String,
    },
    /// The ONNX model is well-formed protobuf but the runtime could not make sense of it.
    #[error("{origin}: the runtime cannot analyse this model: {cause}")]
    InvalidModel {
        /// Where the model came from.
        origin: String,
        /// The runtime's explanation.
        cause: String,
    },
    /// Inputs given to `run` do not match the model's inputs.
    #[error("{origin}: bad inputs: {cause}")]
    BadInput {
        /// Where the model came from.
        origin: String,
        /// What did not match.
        cause: String,
    },
    /// The runtime failed while running the model.
    #[error("{origin}: running the model failed: {cause}")]
    Run {
        /// Where the model came from.
        origin: String,
        /// The runtime's explanation.
        cause: String,
    },
    /// No device has this name.
    #[error("unknown device {name:?}; known devices: {}", known.join(", "))]
    UnknownDevice {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
    /// The model needs more memory than the device has.
    #[error("{origin} does not fit on {device}: it needs {needed} bytes (weights + peak activations), the device has {available}")]
    DoesNotFit {
        /// The device.
        device: String,
        /// Where the model came from.
        origin: String,
        /// Bytes the model needs.
        needed: u64,
        /// Bytes the device has.
        available: u64,
    },
    /// `profile` was asked for zero runs.
    #[error("profile needs at least one run")]
    NoRuns,
    /// A stream was used after its worker stopped.
    #[error("the stream of {origin} is closed")]
    StreamClosed {
        /// Where the model came from.
        origin: String,
    },
    /// A data table shipped with the crate is malformed (a bug in the crate).
    #[error("device table {table} is malformed: {cause}")]
    Table {
        /// The table's file name.
        table: &'static str,
        /// The parser's explanation.
        cause: String,
    },
}

/// The crate's result type.
pub type Result<T, E = DeviceError> = std::result::Result<T, E>;
