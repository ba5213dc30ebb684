//! Protects what HW_RESOURCES_NODE reports: a shipped model really runs on the CPU, a
//! catalogue model is estimated on the required device, NO_MODEL passes through, and
//! bad models or devices give errors naming the cause.

use serde_json::Value;
use sustainml_hw_resources::{configure, evaluate, NO_MODEL};
use sustainml_types::{AppRequirementsImpl, HWConstraintsImpl, MLModelImpl};

const KWS: &[u8] = include_bytes!("../../../crates/device/models/kws_cnn.onnx");
const NOT_ONNX: &[u8] = include_bytes!("../../../crates/device/models/not_onnx.onnx");

fn on(hw: &str) -> HWConstraintsImpl {
    HWConstraintsImpl {
        max_memory_footprint: 16,
        hardware_required: vec![hw.into()],
        ..HWConstraintsImpl::default()
    }
}

fn extra(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("extra_data JSON")
}

#[test]
fn a_shipped_model_is_measured_on_the_cpu() {
    let model = MLModelImpl {
        model: "kws_cnn".into(),
        raw_model: KWS.to_vec(),
        target_latency: 1000.0,
        ..MLModelImpl::default()
    };
    let out =
        evaluate(&model, &AppRequirementsImpl::default(), &on("CPU"), 3).expect("expected a value");
    assert_eq!(out.hw_description, "CPU (measured)");
    assert!(out.latency > 0.0 && out.power_consumption > 0.0);
    assert!(out.memory_footprint_of_ml_model > 0.0);
    let e = extra(&out.extra_data);
    assert_eq!(e["estimated"], false);
    assert_eq!(e["runs"], 3);
    assert_eq!(e["meets_target_latency"], true);
    assert_eq!(e["meets_max_memory_footprint"], true);
}

#[test]
fn a_catalogue_model_is_estimated_from_its_properties() {
    let model = MLModelImpl {
        model: "ds_cnn_m".into(),
        model_properties: r#"{"params":189700,"gmacs":0.0099}"#.into(),
        ..MLModelImpl::default()
    };
    let out = evaluate(
        &model,
        &AppRequirementsImpl::default(),
        &on("PIM_AI_1chip"),
        3,
    )
    .expect("expected a value");
    let spec = sustainml_device::device_table()
        .expect("expected a value")
        .iter()
        .find(|d| d.name == "PIM_AI_1chip")
        .expect("expected a value")
        .clone();
    let expected_ms = 0.0099 * 2e9 / (spec.peak_ops_per_s * spec.efficiency) * 1e3;
    assert!(
        (out.latency - expected_ms).abs() < 1e-9 * expected_ms,
        "{}",
        out.latency
    );
    assert_eq!(out.power_consumption, spec.watts);
    assert_eq!(out.hw_description, "PIM_AI_1chip (estimated)");
    assert_eq!(extra(&out.extra_data)["estimated"], true);
}

#[test]
fn no_model_passes_through_with_zeros() {
    let model = MLModelImpl {
        model: NO_MODEL.into(),
        ..MLModelImpl::default()
    };
    let out =
        evaluate(&model, &AppRequirementsImpl::default(), &on("CPU"), 3).expect("expected a value");
    assert_eq!((out.latency, out.power_consumption), (0.0, 0.0));
    assert_eq!(extra(&out.extra_data)["mode"], "no_model");
}

#[test]
fn bad_models_and_devices_name_the_cause() {
    let bad = MLModelImpl {
        model: "broken".into(),
        raw_model: NOT_ONNX.to_vec(),
        ..MLModelImpl::default()
    };
    let err = evaluate(&bad, &AppRequirementsImpl::default(), &on("CPU"), 3)
        .expect_err("expected an error");
    assert!(err.contains("broken"), "{err}");
    let bare = MLModelImpl {
        model: "mystery".into(),
        ..MLModelImpl::default()
    };
    let err = evaluate(&bare, &AppRequirementsImpl::default(), &on("CPU"), 3)
        .expect_err("expected an error");
    assert!(
        err.contains("mystery") && err.contains("model_properties"),
        "{err}"
    );
    let err = evaluate(
        &bare,
        &AppRequirementsImpl::default(),
        &on("Quantum 3000"),
        3,
    )
    .expect_err("expected an error");
    assert!(err.contains("Quantum 3000"), "{err}");
}

#[test]
fn hardwares_lists_every_device() {
    let v: Value = serde_json::from_str(&configure("hardwares").expect("expected a value"))
        .expect("expected a value");
    let list = v["hardwares"].as_str().expect("expected a value");
    assert!(
        list.starts_with("CPU, ") && list.contains("PIM_AI_1chip"),
        "{list}"
    );
    assert!(configure("frobnicate")
        .expect_err("expected an error")
        .message()
        .contains("Unsupported configuration request"));
}

#[test]
fn a_catalogue_model_on_the_cpu_is_marked_estimated() {
    let model = MLModelImpl {
        model: "efficientnet_b0".into(),
        model_properties: r#"{"params":5288548,"gmacs":0.39}"#.into(),
        ..MLModelImpl::default()
    };
    let out =
        evaluate(&model, &AppRequirementsImpl::default(), &on("CPU"), 3).expect("expected a value");
    assert_eq!(out.hw_description, "CPU (estimated)");
    assert_eq!(extra(&out.extra_data)["estimated"], true);
}
