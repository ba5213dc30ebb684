//! Small ONNX graphs built in the tests (tract's protobuf types, encoded with prost): the
//! glue models a pipeline needs, and graphs tract refuses.
#![allow(dead_code)]

use prost::Message;
use tract_onnx::pb;
use tract_onnx::pb::tensor_shape_proto::{dimension, Dimension};

const FLOAT: i32 = 1;

fn value(name: &str, shape: &[i64]) -> pb::ValueInfoProto {
    let dim = shape
        .iter()
        .map(|&d| Dimension {
            denotation: String::new(),
            value: Some(dimension::Value::DimValue(d)),
        })
        .collect();
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            denotation: String::new(),
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: FLOAT,
                shape: Some(pb::TensorShapeProto { dim }),
            })),
        }),
        doc_string: String::new(),
    }
}

fn node(op: &str, inputs: &[&str], output: &str) -> pb::NodeProto {
    pb::NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        name: format!("layer_{output}"),
        op_type: op.into(),
        ..pb::NodeProto::default()
    }
}

fn model(graph: pb::GraphProto) -> Vec<u8> {
    pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        graph: Some(graph),
        ..pb::ModelProto::default()
    }
    .encode_to_vec()
}

/// One `op` node from `input` (of `in_shape`) to `output` (of `out_shape`).
pub fn single(op: &str, input: &str, in_shape: &[i64], output: &str, out_shape: &[i64]) -> Vec<u8> {
    model(pb::GraphProto {
        node: vec![node(op, &[input], output)],
        name: op.into(),
        input: vec![value(input, in_shape)],
        output: vec![value(output, out_shape)],
        ..pb::GraphProto::default()
    })
}

/// `sum = a + b`, two inputs of `shape`.
pub fn add(shape: &[i64]) -> Vec<u8> {
    model(pb::GraphProto {
        node: vec![node("Add", &["a", "b"], "sum")],
        name: "add".into(),
        input: vec![value("a", shape), value("b", shape)],
        output: vec![value("sum", shape)],
        ..pb::GraphProto::default()
    })
}

/// `y = MatMul(x [1, 64], w [3, 5])`: the inner dimensions disagree, so the graph cannot
/// be analysed.
pub fn bad_matmul() -> Vec<u8> {
    let w = pb::TensorProto {
        dims: vec![3, 5],
        data_type: FLOAT,
        float_data: vec![0.5; 15],
        name: "w".into(),
        ..pb::TensorProto::default()
    };
    model(pb::GraphProto {
        node: vec![node("MatMul", &["x", "w"], "y")],
        name: "bad_matmul".into(),
        initializer: vec![w],
        input: vec![value("x", &[1, 64])],
        output: vec![value("y", &[1, 5])],
        ..pb::GraphProto::default()
    })
}
