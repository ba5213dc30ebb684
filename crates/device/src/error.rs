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
    /// The runtime could not analyse or plan one node of the graph (shapes that do not fit
    /// its operator, say).
    #[error("{origin}: operator {op} (node {node:?}) cannot be loaded: {cause}")]
    OperatorFailed {
        /// Where the model came from.
        origin: String,
        /// The node's ONNX operator.
        op: String,
        /// The node.
        node: String,
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
    /// An input period that is zero, negative or not a number.
    #[error("the input period must be a positive number of milliseconds, not {period_ms}")]
    PeriodNotPositive {
        /// The period given, milliseconds.
        period_ms: f64,
    },
    /// An input period shorter than one inference: frames would arrive faster than the
    /// device finishes them.
    #[error("{origin} on {device}: the input period of {period_ms} ms is shorter than the latency of {latency_ms:.4} ms; a frame would arrive before the previous one is done")]
    PeriodBelowLatency {
        /// The device.
        device: String,
        /// Where the model came from.
        origin: String,
        /// The period given, milliseconds.
        period_ms: f64,
        /// The latency of one inference on the device, milliseconds.
        latency_ms: f64,
    },
    /// `simulate` was given no input frames.
    #[error("simulate needs at least one input frame")]
    NoFrames,
    /// A send or receive did not complete in time.
    #[error("{origin}: {port} timed out after {waited_ms} ms")]
    Timeout {
        /// Where the model came from.
        origin: String,
        /// The port, e.g. `input port 0 ("features")`, with the reason it was waited on.
        port: String,
        /// How long it waited, milliseconds.
        waited_ms: u128,
    },
    /// Chained models (pre-processing → main → post-processing) disagree on how many
    /// tensors pass between them.
    #[error("{from} has {outputs} output(s) but {to}, which follows it, takes {inputs} input(s)")]
    ChainArity {
        /// The model whose outputs feed the next one.
        from: String,
        /// How many outputs it has.
        outputs: usize,
        /// The model fed.
        to: String,
        /// How many inputs it takes.
        inputs: usize,
    },
    /// An output of one chained model does not have the shape of the next model's input.
    #[error("{}'s output {:?} has shape {:?} but {}'s input {:?}, which it feeds, has shape {:?}",
        output.model, output.tensor, output.shape, input.model, input.tensor, input.shape)]
    ChainShape {
        /// The output, of the model that feeds.
        output: Box<ChainEnd>,
        /// The input, of the model fed.
        input: Box<ChainEnd>,
    },
    /// A callback was connected twice.
    #[error("{origin}: the {callback} callback is already connected")]
    AlreadyConnected {
        /// Where the model came from.
        origin: String,
        /// Which callback ("input" or "output").
        callback: &'static str,
    },
    /// `wait` was called before a callback it needs was connected.
    #[error("{origin}: connect the {callback} callback before waiting")]
    NotConnected {
        /// Where the model came from.
        origin: String,
        /// Which callback ("input" or "output").
        callback: &'static str,
    },
    /// A pre- or post-processing model was set after the accelerator started.
    #[error(
        "{origin}: pre- and post-processing models must be set before the first send or connect"
    )]
    AlreadyStarted {
        /// Where the model came from.
        origin: String,
    },
    /// A multi-stream accelerator was asked for zero streams.
    #[error("a multi-stream accelerator needs at least one stream")]
    NoStreams,
    /// An input callback returned an error, which ended its stream.
    #[error("{origin}: the input callback of stream {stream} failed: {source}")]
    InputCallback {
        /// Where the model came from.
        origin: String,
        /// The stream (0 for a single-stream accelerator).
        stream: usize,
        /// What the callback returned.
        source: CallbackError,
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

/// One end of a link between chained models: a model and one of its tensors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEnd {
    /// Where the model came from.
    pub model: String,
    /// The tensor's name.
    pub tensor: String,
    /// The tensor's shape.
    pub shape: Vec<usize>,
}

/// The error an input callback may return to end its stream.
pub type CallbackError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The crate's result type.
pub type Result<T, E = DeviceError> = std::result::Result<T, E>;
