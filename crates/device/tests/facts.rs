// Protects: the model facts the ML_MODEL node reports (parameters, FLOPs, shapes, operators) are counted right.
mod common;

use sustainml_device::ModelFacts;

fn facts(name: &str) -> ModelFacts {
    ModelFacts::from_path(common::model(name)).expect("facts of a shipped model")
}

#[test]
fn tiny_cnn_counts_by_hand() {
    let f = facts("tiny_cnn");
    // conv1 8×3×3×3 + 8, conv2 16×8×3×3 + 16, fc 10×1024 + 10
    assert_eq!(f.parameters, 216 + 8 + 1152 + 16 + 10240 + 10);
    assert_eq!(f.weight_bytes, f.parameters * 4);
    let conv1 = 2 * (8 * 32 * 32) * 27 + 8 * 32 * 32;
    let conv2 = 2 * (16 * 32 * 32) * 72 + 16 * 32 * 32;
    let relus = 8 * 32 * 32 + 16 * 32 * 32;
    let pool = 16 * 32 * 32;
    let gemm = 2 * 10 * 1024 + 10;
    assert_eq!(f.flops, conv1 + conv2 + relus + pool + gemm);
    // conv2's output and relu2's output (64 KiB each) are alive together
    assert_eq!(f.peak_activation_bytes, 2 * 16 * 32 * 32 * 4);
    assert_eq!(f.inputs[0].shape, vec![1, 3, 32, 32]);
    assert_eq!(f.inputs[0].element_type, "F32");
    assert_eq!(f.outputs[0].shape, vec![1, 10]);
    assert_eq!(f.operators, ["Conv", "Relu", "MaxPool", "Flatten", "Gemm"]);
    assert_eq!(f.opset, 13);
}

#[test]
fn mlp_and_kws_counts() {
    let mlp = facts("mlp");
    assert_eq!(mlp.parameters, 64 * 32 + 32 + 32 * 4 + 4);
    assert_eq!(
        mlp.flops,
        (2 * 32 * 64 + 32) + 32 + (2 * 4 * 32 + 4) + 3 * 4
    );
    assert_eq!(mlp.inputs[0].shape, vec![1, 64]);
    assert_eq!(mlp.outputs[0].shape, vec![1, 4]);
    assert_eq!(mlp.operators, ["Gemm", "Relu", "Softmax"]);

    let kws = facts("kws_cnn");
    assert_eq!(kws.parameters, 8 * 9 + 8 + 32 * 960 + 32 + 12 * 32 + 12);
    assert_eq!(kws.inputs[0].shape, vec![1, 1, 49, 10]);
    assert_eq!(kws.outputs[0].shape, vec![1, 12]);
    assert!(kws.operators.contains(&"Conv".to_string()));
    assert_eq!(
        kws.memory_bytes(),
        kws.weight_bytes + kws.peak_activation_bytes
    );
}

#[test]
fn facts_serialize_for_the_nodes() {
    let json = serde_json::to_value(facts("mlp")).expect("json");
    assert_eq!(json["parameters"], 2212);
    assert!(json["inputs"][0].get("datum_type").is_none());
}

// A graph that computes its weights from constants (the zoo's ConstantOfShape weights)
// counts them at the shape they are used, as the published architecture does.
#[test]
fn generated_weights_count_as_parameters() {
    let zoo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/zoo");
    for (name, params) in [("squeezenet", 1_235_496), ("bvlc_alexnet", 60_965_224)] {
        let f = ModelFacts::from_path(zoo.join(format!("{name}.onnx"))).expect("a zoo graph");
        assert_eq!(f.parameters, params, "{name}");
        assert!(
            f.weight_bytes >= params * 4,
            "{name}: {} bytes",
            f.weight_bytes
        );
    }
}
