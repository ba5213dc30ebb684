// Protects: pre- and post-processing models chained around the main one (MemryX's set_preprocessing_model / set_postprocessing_model): outputs feed inputs in order, and mismatches are typed errors naming both tensors.
mod common;
mod graphs;

use std::time::Duration;

use sustainml_device::{
    require_device, AsyncAccl, DeviceError, LoadedModel, Pipeline, SyncAccl, TensorData,
};

fn cpu_bytes(origin: &str, bytes: &[u8]) -> Box<dyn LoadedModel> {
    require_device("CPU")
        .expect("CPU")
        .load_bytes(origin, bytes)
        .expect("a test graph loads")
}

fn mlp() -> Box<dyn LoadedModel> {
    require_device("CPU")
        .expect("CPU")
        .load(&common::model("mlp"))
        .expect("mlp loads")
}

/// 1×1×8×8 → Flatten → 1×64, the mlp's input.
fn flatten() -> Box<dyn LoadedModel> {
    cpu_bytes(
        "flatten.onnx",
        &graphs::single("Flatten", "image", &[1, 1, 8, 8], "flat", &[1, 64]),
    )
}

/// 1×4 → Neg → 1×4, after the mlp's output.
fn negate() -> Box<dyn LoadedModel> {
    cpu_bytes(
        "neg.onnx",
        &graphs::single("Neg", "probs", &[1, 4], "negated", &[1, 4]),
    )
}

// pre → main → post gives post(main(pre(x))), and the accelerators run the whole chain.
#[test]
fn a_chain_runs_every_stage_in_turn() {
    let mut pipeline = Pipeline::new(mlp());
    pipeline
        .set_preprocessing_model(flatten())
        .expect("pre fits");
    pipeline
        .set_postprocessing_model(negate())
        .expect("post fits");
    assert_eq!(pipeline.inputs()[0].shape, vec![1, 1, 8, 8]);
    assert_eq!(pipeline.outputs()[0].name, "negated");
    // Ports stay the device model's.
    assert_eq!(pipeline.inport_assignment()[0].name, "features");

    let image = TensorData::pattern(&[1, 1, 8, 8]);
    let flat = TensorData {
        shape: vec![1, 64],
        data: image.data.clone(),
    };
    let main_out = mlp().run(&[flat]).expect("mlp");
    let expected: Vec<f32> = main_out[0].data.iter().map(|v| -v).collect();
    let out = pipeline.run(std::slice::from_ref(&image)).expect("chain");
    assert_eq!(out[0].shape, vec![1, 4]);
    assert_eq!(out[0].data, expected);

    let mut sync = SyncAccl::new(mlp());
    sync.set_preprocessing_model(flatten()).expect("pre");
    sync.set_postprocessing_model(negate()).expect("post");
    sync.send(vec![image.clone()], Duration::from_secs(5))
        .expect("send");
    assert_eq!(sync.receive(Duration::from_secs(5)).expect("receive"), out);
    let err = sync
        .set_postprocessing_model(negate())
        .expect_err("started");
    assert!(matches!(err, DeviceError::AlreadyStarted { .. }), "{err:?}");

    let mut accl = AsyncAccl::new(pipeline);
    let (tx, rx) = std::sync::mpsc::channel();
    let mut left = 2;
    accl.connect_input(move || {
        left -= 1;
        Ok((left >= 0).then(|| vec![image.clone()]))
    })
    .expect("input");
    accl.connect_output(move |o| {
        let _ = tx.send(o.outputs);
    })
    .expect("output");
    assert_eq!(accl.wait().expect("wait"), 2);
    for result in rx.try_iter() {
        assert_eq!(result.expect("output"), out);
    }
}

// A stage whose output shape is not the next stage's input shape is refused naming both tensors.
#[test]
fn a_shape_mismatch_names_both_tensors() {
    let mut pipeline = Pipeline::new(mlp());
    let wrong_pre = cpu_bytes(
        "pre32.onnx",
        &graphs::single("Relu", "x", &[1, 32], "y", &[1, 32]),
    );
    let err = pipeline
        .set_preprocessing_model(wrong_pre)
        .expect_err("1×32 is not 1×64");
    assert!(
        matches!(&err, DeviceError::ChainShape { output, input }
            if output.tensor == "y" && input.tensor == "features"
                && output.shape == [1, 32] && input.shape == [1, 64]),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("pre32.onnx's output \"y\"") && msg.contains("mlp.onnx's input \"features\""),
        "{msg}"
    );

    let wrong_post = cpu_bytes(
        "post10.onnx",
        &graphs::single("Relu", "x", &[1, 10], "y", &[1, 10]),
    );
    let err = pipeline
        .set_postprocessing_model(wrong_post)
        .expect_err("1×4 is not 1×10");
    assert!(matches!(err, DeviceError::ChainShape { .. }), "{err:?}");
    assert!(err.to_string().contains("[1, 4]") && err.to_string().contains("[1, 10]"));
}

// A stage taking another number of tensors than the previous one gives is refused with both counts.
#[test]
fn a_count_mismatch_names_both_models() {
    let mut pipeline = Pipeline::new(mlp());
    let err = pipeline
        .set_postprocessing_model(cpu_bytes("add.onnx", &graphs::add(&[1, 4])))
        .expect_err("one output cannot feed two inputs");
    assert!(
        matches!(
            err,
            DeviceError::ChainArity {
                outputs: 1,
                inputs: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("add.onnx"), "{err}");
    // The pipeline is unchanged: it still runs the mlp alone.
    assert_eq!(pipeline.outputs()[0].shape, vec![1, 4]);
}
