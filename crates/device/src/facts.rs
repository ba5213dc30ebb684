//! What a model is, counted from its ONNX graph and tract's analysed shapes: parameters,
//! FLOPs per inference, memory, inputs, outputs and operators.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;
use tract_onnx::pb;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::format_err;
use tract_onnx::tract_core::ops::konst::Const;
use tract_onnx::tract_hir::infer::Factoid;

use crate::error::Result;
use crate::model;

/// A model input or output: its name, fixed shape and element type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorInfo {
    /// The ONNX name.
    pub name: String,
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Element type as tract names it (`F32`, `I64`…).
    pub element_type: String,
    #[serde(skip)]
    pub(crate) datum_type: DatumType,
}

/// Facts about a model, computed without running it.
///
/// FLOPs count a multiply-add as two operations: `Conv` is 2 × output elements × (input
/// channels per group × kernel area), `Gemm`/`MatMul` 2 × M × N × K, pools one per input
/// element, `Softmax` three per element, shape-only operators (`Reshape`, `Flatten`…) none,
/// and every other operator one per output element; a bias adds one per output element.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelFacts {
    /// The file the model came from, or the label given with its bytes.
    pub origin: String,
    /// Elements of floating-point constants (weights and biases).
    pub parameters: u64,
    /// Bytes of all constants, as stored.
    pub weight_bytes: u64,
    /// Largest total of intermediate tensors alive at once when the graph runs in order.
    pub peak_activation_bytes: u64,
    /// Floating-point operations for one inference.
    pub flops: u64,
    /// The model's inputs, in order.
    pub inputs: Vec<TensorInfo>,
    /// The model's outputs, in order.
    pub outputs: Vec<TensorInfo>,
    /// Distinct operator types in graph order (`domain::Op` outside the default domain).
    pub operators: Vec<String>,
    /// The default-domain opset the model imports (0 when it names none).
    pub opset: i64,
}

impl ModelFacts {
    /// Reads, checks and describes an ONNX file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<ModelFacts> {
        let path = path.as_ref();
        let bytes = model::read_file(path)?;
        ModelFacts::from_bytes(&path.display().to_string(), &bytes)
    }

    /// Checks and describes an ONNX model held in memory; `origin` names it in errors.
    pub fn from_bytes(origin: &str, bytes: &[u8]) -> Result<ModelFacts> {
        Ok(model::analyse(origin, bytes)?.1)
    }

    /// Memory the model needs on a device: weights plus peak activations, in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.weight_bytes + self.peak_activation_bytes
    }
}

type Shapes = HashMap<OutletId, (Vec<usize>, DatumType)>;

/// Computes the facts of an analysed model.
pub(crate) fn compute(
    origin: &str,
    proto: &pb::ModelProto,
    model: &InferenceModel,
) -> TractResult<ModelFacts> {
    let mut shapes = Shapes::new();
    for node in model.nodes() {
        for (ix, out) in node.outputs.iter().enumerate() {
            let dt = out.fact.datum_type.concretize();
            if let (Some(shape), Some(dt)) = (out.fact.shape.as_concrete_finite()?, dt) {
                shapes.insert(OutletId::new(node.id, ix), (shape.to_vec(), dt));
            }
        }
    }
    let info = |outlet: &OutletId| -> TractResult<TensorInfo> {
        let (shape, dt) = shapes.get(outlet).ok_or_else(|| {
            format_err!("shape of {:?} is not known", model.node(outlet.node).name)
        })?;
        let name = model
            .outlet_label(*outlet)
            .unwrap_or(&model.node(outlet.node).name)
            .to_string();
        Ok(TensorInfo {
            name,
            shape: shape.clone(),
            element_type: format!("{dt:?}"),
            datum_type: *dt,
        })
    };
    let inputs = model
        .input_outlets()?
        .iter()
        .map(info)
        .collect::<TractResult<Vec<_>>>()?;
    let outputs = model
        .output_outlets()?
        .iter()
        .map(info)
        .collect::<TractResult<Vec<_>>>()?;

    // tract names each node after its ONNX node (or its first output): recover the ONNX
    // operator type, since tract's own names differ (`ConvHir`, `Clip` for Relu).
    let onnx_ops: HashMap<&str, &str> = proto
        .graph
        .iter()
        .flat_map(|g| &g.node)
        .map(|n| {
            let name = if n.name.is_empty() {
                n.output.first().map_or("", |o| o.as_str())
            } else {
                &n.name
            };
            (name, n.op_type.as_str())
        })
        .collect();
    // Weights are what constant subgraphs feed the rest of the graph: an initializer,
    // or a tensor the graph computes from constants only (the zoo's ConstantOfShape
    // weights, weights generated from a seed block), counted at the shape it is used.
    let mut constant = HashSet::new();
    for id in model.eval_order()? {
        let node = model.node(id);
        let derived =
            !node.inputs.is_empty() && node.inputs.iter().all(|i| constant.contains(&i.node));
        if node.op_as::<Const>().is_some() || derived {
            constant.insert(id);
        }
    }
    let weights: HashSet<OutletId> = model
        .nodes()
        .iter()
        .filter(|n| !constant.contains(&n.id))
        .flat_map(|n| n.inputs.iter().copied())
        .filter(|i| constant.contains(&i.node))
        .collect();
    // A weight used twice, once as is and once reshaped or transposed (GPT-2's tied
    // embedding), is one weight: skip a use computed from another use of the same size.
    let same_weight = |o: &OutletId| -> bool {
        let producer = model.node(o.node);
        let size = |x: &OutletId| shapes.get(x).map(|(s, _)| elems(s));
        producer
            .inputs
            .first()
            .is_some_and(|i| weights.contains(i) && size(i).is_some() && size(i) == size(o))
    };
    let (mut parameters, mut weight_bytes, mut flops) = (0u64, 0u64, 0u64);
    for outlet in weights.iter().filter(|o| !same_weight(o)) {
        if let Some((shape, dt)) = shapes.get(outlet) {
            let n = elems(shape);
            weight_bytes += n * dt.size_of() as u64;
            if dt.is_float() {
                parameters += n;
            }
        }
    }
    for node in model.nodes() {
        if constant.contains(&node.id) {
            continue;
        }
        let ins: Vec<&[usize]> = node
            .inputs
            .iter()
            .filter_map(|o| shapes.get(o))
            .map(|s| s.0.as_slice())
            .collect();
        let outs: Vec<&[usize]> = (0..node.outputs.len())
            .filter_map(|ix| shapes.get(&OutletId::new(node.id, ix)))
            .map(|s| s.0.as_slice())
            .collect();
        if ins.len() < node.inputs.len() || outs.len() < node.outputs.len() {
            tracing::warn!(%origin, node = %node.name, "shape unknown after analysis; FLOPs not counted");
            continue;
        }
        let op = onnx_ops
            .get(node.name.as_str())
            .map_or_else(|| node.op.name(), |&op| op.into());
        flops += node_flops(&op, &ins, &outs);
    }

    Ok(ModelFacts {
        origin: origin.to_string(),
        parameters,
        weight_bytes,
        peak_activation_bytes: peak_activations(model, &shapes)?,
        flops,
        inputs,
        outputs,
        operators: operators(proto),
        opset: proto
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map_or(0, |o| o.version),
    })
}

fn elems(shape: &[usize]) -> u64 {
    shape.iter().map(|&d| d as u64).product()
}

/// FLOPs of one node from its operator name and its input and output shapes.
fn node_flops(op: &str, ins: &[&[usize]], outs: &[&[usize]]) -> u64 {
    let out = outs.first().map_or(0, |s| elems(s));
    let bias = if ins.len() > 2 { out } else { 0 };
    match op {
        "Conv" | "ConvInteger" => {
            let per_output = ins
                .get(1)
                .map_or(0, |w| elems(w.get(1..).unwrap_or_default()));
            2 * out * per_output + bias
        }
        "ConvTranspose" => {
            let per_input = ins
                .get(1)
                .map_or(0, |w| elems(w.get(1..).unwrap_or_default()));
            2 * ins.first().map_or(0, |s| elems(s)) * per_input + bias
        }
        "Gemm" => {
            let m = outs
                .first()
                .and_then(|s| s.first())
                .copied()
                .unwrap_or(1)
                .max(1) as u64;
            let k = ins.first().map_or(0, |a| elems(a)) / m;
            2 * out * k + bias
        }
        "MatMul" | "MatMulInteger" => {
            let k = ins.first().and_then(|a| a.last()).copied().unwrap_or(0) as u64;
            2 * out * k
        }
        "MaxPool" | "AveragePool" | "LpPool" | "GlobalAveragePool" | "GlobalMaxPool" => {
            ins.first().map_or(0, |s| elems(s))
        }
        "Softmax" | "LogSoftmax" => 3 * out,
        "Reshape" | "Flatten" | "Transpose" | "Squeeze" | "Unsqueeze" | "Concat" | "Identity"
        | "Shape" | "Gather" | "Slice" | "Split" | "Expand" | "Cast" | "Constant" | "Source" => 0,
        _ => out,
    }
}

/// Peak bytes of tensors alive at once, running the graph in tract's evaluation order and
/// freeing each tensor after its last consumer (model outputs are never freed).
fn peak_activations(model: &InferenceModel, shapes: &Shapes) -> TractResult<u64> {
    let size = |o: &OutletId| {
        shapes
            .get(o)
            .map_or(0, |(s, dt)| elems(s) * dt.size_of() as u64)
    };
    let is_const = |o: &OutletId| model.node(o.node).op_is::<Const>();
    let outputs = model.output_outlets()?.to_vec();
    let mut remaining: HashMap<OutletId, usize> = HashMap::new();
    for node in model.nodes() {
        for (ix, out) in node.outputs.iter().enumerate() {
            remaining.insert(OutletId::new(node.id, ix), out.successors.len());
        }
    }
    let (mut live, mut peak) = (0u64, 0u64);
    for id in model.eval_order()? {
        let node = model.node(id);
        if node.op_is::<Const>() {
            continue;
        }
        live += (0..node.outputs.len())
            .map(|ix| size(&OutletId::new(id, ix)))
            .sum::<u64>();
        peak = peak.max(live);
        for input in node.inputs.iter().filter(|o| !is_const(o)) {
            if let Some(n) = remaining.get_mut(input) {
                *n = n.saturating_sub(1);
                if *n == 0 && !outputs.contains(input) {
                    live = live.saturating_sub(size(input));
                }
            }
        }
    }
    Ok(peak)
}

/// Distinct operator types, in the order the graph first uses them.
fn operators(proto: &pb::ModelProto) -> Vec<String> {
    let mut ops: Vec<String> = Vec::new();
    for node in proto.graph.iter().flat_map(|g| &g.node) {
        let op = match node.domain.as_str() {
            "" | "ai.onnx" => node.op_type.clone(),
            domain => format!("{domain}::{}", node.op_type),
        };
        if !ops.contains(&op) {
            ops.push(op);
        }
    }
    ops
}
