//! Loading an ONNX model with tract: decode, check (operators, fixed input shapes), analyse,
//! and build a runnable plan. Every failure becomes a [`DeviceError`] naming the file.

use std::path::Path;
use std::sync::Arc;

use tract_onnx::pb;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;
use tract_onnx::Onnx;

use crate::error::{DeviceError, Result};
use crate::facts::{self, ModelFacts};

/// ONNX domains whose operators tract implements under their plain names.
const KNOWN_DOMAINS: &[&str] = &["", "ai.onnx", "ai.onnx.ml"];

/// A tensor given to or returned by a model: a shape and its values, row-major, as `f32`.
///
/// Inputs are converted to the model's declared element type before running; outputs are
/// converted to `f32`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TensorData {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values in row-major order; `shape.iter().product()` of them.
    pub data: Vec<f32>,
}

impl TensorData {
    /// A tensor of `shape` filled with a fixed, deterministic pattern in [-0.5, 0.5).
    pub fn pattern(shape: &[usize]) -> TensorData {
        let len = shape.iter().product();
        let data = (0..len).map(|i| (i % 17) as f32 / 17.0 - 0.5).collect();
        TensorData {
            shape: shape.to_vec(),
            data,
        }
    }
}

/// A model decoded, checked and analysed, ready to run on the host with tract.
#[derive(Debug, Clone)]
pub(crate) struct OnnxModel {
    pub(crate) facts: ModelFacts,
    plan: Arc<TypedRunnableModel>,
}

/// Reads a model file, mapping a read failure to [`DeviceError::Io`].
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| DeviceError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Decodes and checks a model, analyses its shapes and returns it with its facts.
pub(crate) fn analyse(origin: &str, bytes: &[u8]) -> Result<(InferenceModel, ModelFacts)> {
    let onnx = tract_onnx::onnx();
    let proto = decode(&onnx, origin, bytes)?;
    check_operators(&onnx, origin, &proto)?;
    let mut model = onnx
        .model_for_proto_model(&proto)
        .map_err(|e| invalid(origin, &e))?;
    check_inputs(origin, &model)?;
    model
        .analyse(false)
        .map_err(|e| node_failure(origin, &proto, &e))?;
    let facts = facts::compute(origin, &proto, &model).map_err(|e| invalid(origin, &e))?;
    Ok((model, facts))
}

impl OnnxModel {
    /// Decodes, checks, analyses and optimises a model for running on this host.
    pub(crate) fn load(origin: &str, bytes: &[u8]) -> Result<OnnxModel> {
        let (model, facts) = analyse(origin, bytes)?;
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| invalid(origin, &e))?;
        Ok(OnnxModel { facts, plan })
    }

    /// Runs one inference on the host.
    pub(crate) fn run(&self, inputs: &[TensorData]) -> Result<Vec<TensorData>> {
        let origin = &self.facts.origin;
        if inputs.len() != self.facts.inputs.len() {
            return Err(DeviceError::BadInput {
                origin: origin.clone(),
                cause: format!(
                    "the model takes {} input(s), {} given",
                    self.facts.inputs.len(),
                    inputs.len()
                ),
            });
        }
        let mut values = TVec::new();
        for (given, wanted) in inputs.iter().zip(&self.facts.inputs) {
            if given.shape != wanted.shape {
                return Err(DeviceError::BadInput {
                    origin: origin.clone(),
                    cause: format!(
                        "input {:?} has shape {:?}, {:?} given",
                        wanted.name, wanted.shape, given.shape
                    ),
                });
            }
            let tensor = Tensor::from_shape(&given.shape, &given.data)
                .and_then(|t| Ok(t.cast_to_dt(wanted.datum_type)?.into_owned()))
                .map_err(|e| DeviceError::BadInput {
                    origin: origin.clone(),
                    cause: format!("input {:?}: {e:#}", wanted.name),
                })?;
            values.push(tensor.into_tvalue());
        }
        let outputs = self.plan.run(values).map_err(|e| run_error(origin, &e))?;
        outputs
            .iter()
            .map(|t| {
                let t = t.cast_to::<f32>()?;
                let data = t.to_plain_array_view::<f32>()?.iter().copied().collect();
                Ok(TensorData {
                    shape: t.shape().to_vec(),
                    data,
                })
            })
            .collect::<TractResult<Vec<_>>>()
            .map_err(|e| run_error(origin, &e))
    }

    /// This model as the runner of a stream's worker.
    pub(crate) fn runner(&self) -> crate::engine::Runner {
        let model = self.clone();
        Arc::new(move |inputs: &[TensorData]| model.run(inputs))
    }

    /// The deterministic inputs used for profiling: one [`TensorData::pattern`] per input.
    pub(crate) fn sample_inputs(&self) -> Vec<TensorData> {
        self.facts
            .inputs
            .iter()
            .map(|i| TensorData::pattern(&i.shape))
            .collect()
    }
}

fn invalid(origin: &str, e: &TractError) -> DeviceError {
    DeviceError::InvalidModel {
        origin: origin.to_string(),
        cause: format!("{e:#}"),
    }
}

/// The failing node's ONNX operator when tract's message names the node
/// (`… for node #2 "name" …`), else [`DeviceError::InvalidModel`].
fn node_failure(origin: &str, proto: &pb::ModelProto, e: &TractError) -> DeviceError {
    let cause = format!("{e:#}");
    let named = cause
        .split_once("for node #")
        .and_then(|(_, rest)| rest.split_once('"'))
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(name, _)| name.to_string());
    let op = named.as_deref().and_then(|name| {
        proto.graph.iter().flat_map(|g| &g.node).find_map(|n| {
            let id = if n.name.is_empty() {
                n.output.first().map_or("", String::as_str)
            } else {
                n.name.as_str()
            };
            (id == name).then(|| n.op_type.clone())
        })
    });
    match (named, op) {
        (Some(node), Some(op)) => DeviceError::OperatorFailed {
            origin: origin.to_string(),
            op,
            node,
            cause,
        },
        _ => DeviceError::InvalidModel {
            origin: origin.to_string(),
            cause,
        },
    }
}

fn run_error(origin: &str, e: &TractError) -> DeviceError {
    DeviceError::Run {
        origin: origin.to_string(),
        cause: format!("{e:#}"),
    }
}

/// Decodes the protobuf; tells a truncated ONNX file from something that is not ONNX.
fn decode(onnx: &Onnx, origin: &str, bytes: &[u8]) -> Result<pb::ModelProto> {
    match onnx.proto_model_for_read(&mut &bytes[..]) {
        Ok(proto) if proto.graph.is_some() => Ok(proto),
        Ok(_) if bytes.is_empty() => Err(DeviceError::NotOnnx {
            origin: origin.to_string(),
            cause: "the file is empty".into(),
        }),
        Ok(_) => Err(DeviceError::NotOnnx {
            origin: origin.to_string(),
            cause: "the protobuf holds no graph".into(),
        }),
        // An ONNX file starts with field 1 (ir_version, a varint): tag byte 0x08.
        Err(e) if bytes.first() == Some(&0x08) => Err(DeviceError::Truncated {
            origin: origin.to_string(),
            len: bytes.len(),
            cause: format!("{e:#}"),
        }),
        Err(e) => Err(DeviceError::NotOnnx {
            origin: origin.to_string(),
            cause: format!("not a protobuf ModelProto ({e:#})"),
        }),
    }
}

/// Refuses operators tract does not implement, and operators of foreign domains (tract
/// would otherwise read a custom `Conv` as the standard one).
fn check_operators(onnx: &Onnx, origin: &str, proto: &pb::ModelProto) -> Result<()> {
    let graph = proto
        .graph
        .as_ref()
        .map(|g| g.node.as_slice())
        .unwrap_or_default();
    for node in graph {
        let known_domain = KNOWN_DOMAINS.contains(&node.domain.as_str());
        if !known_domain || !onnx.op_register.0.contains_key(&node.op_type) {
            let op = if node.domain.is_empty() {
                node.op_type.clone()
            } else {
                format!("{}::{}", node.domain, node.op_type)
            };
            let name = if node.name.is_empty() {
                node.output.first().cloned().unwrap_or_default()
            } else {
                node.name.clone()
            };
            return Err(DeviceError::UnsupportedOperator {
                origin: origin.to_string(),
                op,
                node: name,
            });
        }
    }
    Ok(())
}

/// Every input must have a known element type and a shape made only of numbers.
fn check_inputs(origin: &str, model: &InferenceModel) -> Result<()> {
    for outlet in model.input_outlets().map_err(|e| invalid(origin, &e))? {
        let name = model.node(outlet.node).name.clone();
        let fact = model
            .outlet_fact(*outlet)
            .map_err(|e| invalid(origin, &e))?;
        let fixed = fact.shape.as_concrete_finite().ok().flatten().is_some();
        if !fixed || fact.datum_type.concretize().is_none() {
            return Err(DeviceError::DynamicInput {
                origin: origin.to_string(),
                input: name,
                shape: fact.format_dt_shape(),
            });
        }
    }
    Ok(())
}
