// Protects: bad model files, bad inputs and unknown devices give typed errors naming the cause and the file, never a panic.
mod common;

use std::path::PathBuf;

use sustainml_device::{require_device, DeviceError, ModelFacts, TensorData};

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).expect("write temp model");
    path
}

fn load_err(path: &std::path::Path) -> DeviceError {
    let cpu = require_device("CPU").expect("CPU");
    let err = cpu.load(path).expect_err("bad model is refused");
    let facts_err = ModelFacts::from_path(path).expect_err("facts refuse it too");
    assert_eq!(err.to_string(), facts_err.to_string());
    err
}

#[test]
fn a_text_file_is_not_onnx() {
    let err = load_err(&common::model("not_onnx"));
    assert!(matches!(err, DeviceError::NotOnnx { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("not_onnx.onnx is not an ONNX model"),
        "{err}"
    );
}

#[test]
fn an_empty_file_is_not_onnx() {
    let err = load_err(&tmp("empty.onnx", b""));
    assert!(
        err.to_string()
            .contains("empty.onnx is not an ONNX model: the file is empty"),
        "{err}"
    );
}

#[test]
fn a_truncated_file_is_reported_as_truncated() {
    let bytes = std::fs::read(common::model("tiny_cnn")).expect("model");
    for cut in [10, bytes.len() / 2, bytes.len() - 1] {
        let err = load_err(&tmp("truncated.onnx", &bytes[..cut]));
        assert!(
            matches!(err, DeviceError::Truncated { len, .. } if len == cut),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("truncated.onnx is a truncated ONNX model"),
            "{err}"
        );
    }
}

#[test]
fn an_unsupported_operator_is_named() {
    let err = load_err(&common::model("unsupported_op"));
    assert!(
        matches!(err, DeviceError::UnsupportedOperator { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("unsupported_op.onnx") && msg.contains("Frobnicate"),
        "{msg}"
    );
}

#[test]
fn a_symbolic_input_shape_is_refused() {
    let err = load_err(&common::model("dynamic_input"));
    assert!(matches!(err, DeviceError::DynamicInput { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("dynamic_input.onnx")
            && msg.contains("\"features\"")
            && msg.contains("not fixed"),
        "{msg}"
    );
}

#[test]
fn a_missing_file_is_an_io_error_naming_it() {
    let err = load_err(&common::model("no_such_model"));
    assert!(matches!(err, DeviceError::Io { .. }));
    assert!(err.to_string().contains("no_such_model.onnx"), "{err}");
}

#[test]
fn an_unknown_device_names_itself_and_the_known_ones() {
    let err = require_device("TPU v9").expect_err("unknown");
    let msg = err.to_string();
    assert!(
        msg.contains("unknown device \"TPU v9\"")
            && msg.contains("CPU")
            && msg.contains("PIM_AI_1chip"),
        "{msg}"
    );
    assert!(sustainml_device::device("TPU v9").is_none());
}

#[test]
fn wrong_inputs_and_zero_runs_are_errors() {
    let model = require_device("CPU")
        .expect("CPU")
        .load(&common::model("mlp"))
        .expect("load");
    let err = model.run(&[]).expect_err("no inputs");
    assert!(
        err.to_string().contains("takes 1 input(s), 0 given"),
        "{err}"
    );
    let err = model
        .run(&[TensorData::pattern(&[1, 65])])
        .expect_err("wrong shape");
    assert!(err.to_string().contains("mlp.onnx: bad inputs"), "{err}");
    let short = TensorData {
        shape: vec![1, 64],
        data: vec![0.0; 3],
    };
    assert!(matches!(
        model.run(&[short]),
        Err(DeviceError::BadInput { .. })
    ));
    assert!(matches!(model.profile(0), Err(DeviceError::NoRuns)));
}

mod graphs;

// A graph tract cannot load is refused naming its ONNX operator and node.
#[test]
fn a_graph_the_runtime_cannot_analyse_names_its_operator() {
    let err = require_device("CPU")
        .expect("CPU")
        .load_bytes("bad_matmul.onnx", &graphs::bad_matmul())
        .expect_err("inner dimensions disagree");
    let msg = err.to_string();
    assert!(
        matches!(&err, DeviceError::OperatorFailed { op, node, .. } if op == "MatMul" && node == "layer_y"),
        "{err:?}"
    );
    assert!(
        msg.starts_with("bad_matmul.onnx: operator MatMul (node \"layer_y\") cannot be loaded"),
        "{msg}"
    );
    // ModelFacts refuses it the same way.
    let facts = ModelFacts::from_bytes("bad_matmul.onnx", &graphs::bad_matmul())
        .expect_err("facts refuse it too");
    assert_eq!(facts.to_string(), msg);
}
