// Protects: the CPU runner computes what ONNX says: the nine model-zoo graphs of models/zoo give their shipped expected outputs from their shipped inputs.
//! "Compare runners": each graph of `models/zoo` (extracted from the PyPI `onnx` wheel by
//! `scripts/make-model-graphs --zoo`, see models/README.md) is loaded on the `"CPU"` device
//! through the public API, run once on its shipped input, and its output compared element by
//! element with the output the ONNX reference evaluator produced (`*_output_0.pb`).
//!
//! Their weights are all one constant (ConstantOfShape 0.02), so each graph's 1000 outputs
//! are equal to one another; the value still depends on every layer of the network (and on
//! the input), and a softmax of equal logits, 0.001, is only right when nothing overflowed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sustainml_device::{require_device, TensorData};
use tract_onnx::pb;
use tract_onnx::prelude::Framework;

/// Absolute tolerance, for elements near zero.
const ATOL: f32 = 1e-7;

fn zoo(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models/zoo")
        .join(file)
}

/// Reads a serialized ONNX `TensorProto` of float32 values. tract-onnx exposes its
/// generated protobuf types but not the decoder trait, so the tensor is wrapped as the one
/// initializer of a graph of a model (field 7 of ModelProto, field 5 of GraphProto) and
/// decoded with tract's own ModelProto reader.
fn read_tensor(path: &Path) -> TensorData {
    let tensor = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let graph = length_delimited(5, &tensor);
    let model = length_delimited(7, &graph);
    let proto: pb::ModelProto = tract_onnx::onnx()
        .proto_model_for_read(&mut &model[..])
        .unwrap_or_else(|e| panic!("{}: not a TensorProto: {e:#}", path.display()));
    let t = proto
        .graph
        .and_then(|g| g.initializer.into_iter().next())
        .unwrap_or_else(|| panic!("{}: no tensor", path.display()));
    assert_eq!(t.data_type, 1, "{}: float32 expected", path.display());
    let shape: Vec<usize> = t.dims.iter().map(|&d| d as usize).collect();
    let data: Vec<f32> = if t.raw_data.is_empty() {
        t.float_data
    } else {
        t.raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    assert_eq!(
        data.len(),
        shape.iter().product::<usize>(),
        "{}",
        path.display()
    );
    TensorData { shape, data }
}

/// A protobuf field `field` of wire type 2 (length-delimited) holding `payload`.
fn length_delimited(field: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 11);
    for mut v in [(field << 3) | 2, payload.len() as u64] {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    out.extend_from_slice(payload);
    out
}

/// Loads, runs and compares one graph.
fn compare(name: &str, rtol: f32) {
    let cpu = require_device("CPU").expect("CPU is always known");
    let started = Instant::now();
    let model = cpu
        .load(&zoo(&format!("{name}.onnx")))
        .unwrap_or_else(|e| panic!("{name} does not load: {e}"));
    let loaded = started.elapsed();
    let input = read_tensor(&zoo(&format!("{name}_input_0.pb")));
    let expected = read_tensor(&zoo(&format!("{name}_output_0.pb")));
    let outputs = model
        .run(&[input])
        .unwrap_or_else(|e| panic!("{name} does not run: {e}"));
    assert_eq!(outputs.len(), 1, "{name}: one output");
    let actual = &outputs[0];
    assert_eq!(actual.shape, expected.shape, "{name}: output shape");
    let mut worst = 0.0f32;
    for (i, (&a, &e)) in actual.data.iter().zip(&expected.data).enumerate() {
        let err = (a - e).abs();
        assert!(
            err <= ATOL + rtol * e.abs(),
            "{name}: output[{i}] = {a}, expected {e} (rtol {rtol}, atol {ATOL})"
        );
        worst = worst.max(err / e.abs().max(f32::MIN_POSITIVE));
    }
    println!(
        "{name}: load {:.2}s, load+run {:.2}s, max relative error {worst:.2e} (rtol {rtol:.0e})",
        loaded.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

/// One test per graph, with its tolerance: an output element `a` matches the expected `e`
/// when `|a - e| <= ATOL + rtol * |e|`. Each rtol is a few times the largest relative error
/// measured with tract 0.23.9 on x86-64 (the comment), at least 1e-5, so a change of operator semantics
/// (padding, LRN, BatchNorm, pooling, softmax) fails while float summation order does not.
macro_rules! zoo_tests {
    ($($name:ident: $rtol:expr;)*) => {$(
        #[test]
        fn $name() {
            compare(stringify!($name), $rtol);
        }
    )*};
}

zoo_tests! {
    bvlc_alexnet: 1e-5; // 0 (softmax of equal logits)
    densenet121: 5e-5; // 4.5e-6 (no softmax: the value of the last conv, pooled)
    inception_v1: 1e-5; // 0 (softmax)
    inception_v2: 1e-5; // 0 (softmax)
    resnet50: 1e-5; // 0 (softmax)
    shufflenet: 1e-5; // 0 (softmax)
    squeezenet: 1e-5; // 0 (softmax)
    vgg19: 1e-5; // 0 (softmax)
    zfnet512: 1e-5; // 0 (softmax)
}
