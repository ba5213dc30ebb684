// Protects: absent devices are estimated from the shipped device table (latency = FLOPs / (peak × efficiency)), and a model too big for a device is refused.
mod common;

use serde_json::Value;
use sustainml_device::{
    device, devices, Device, DeviceError, DeviceKind, DeviceSpec, EstimatedDevice, ModelFacts,
};

fn table() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/devices.json");
    let text = std::fs::read_to_string(path).expect("device table");
    let json: Value = serde_json::from_str(&text).expect("device table is JSON");
    json["devices"].as_array().expect("devices array").clone()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn every_table_device_is_estimated_from_its_row() {
    let rows = table();
    assert!(rows.len() >= 5);
    let mut checked = 0;
    for model_name in common::MODELS {
        let path = common::model(model_name);
        let flops = ModelFacts::from_path(&path).expect("facts").flops as f64;
        for row in &rows {
            let name = row["name"].as_str().expect("name");
            let memory = row["memory_bytes"].as_u64().expect("memory");
            let dev = device(name).expect("table devices are in the registry");
            let loaded = match dev.load(&path) {
                Ok(loaded) => loaded,
                Err(DeviceError::DoesNotFit { needed, .. }) if needed > memory => continue,
                Err(e) => panic!("{name}: {e}"),
            };
            let m = loaded.profile(3).expect("estimate");
            let peak = row["peak_ops_per_s"].as_f64().expect("peak");
            let efficiency = row["efficiency"].as_f64().expect("efficiency");
            let watts = row["watts"].as_f64().expect("watts");
            let latency_s = flops / (peak * efficiency);
            assert!(
                close(m.latency_ms_p50, latency_s * 1e3),
                "{name}/{model_name}: {m:?}"
            );
            assert!(close(m.latency_ms_mean, latency_s * 1e3));
            assert!(close(m.power_w, watts));
            assert!(close(m.energy_j_per_inference, watts * latency_s));
            assert!(m.estimated && m.latency_ms_p50 > 0.0);
            assert!(m.method.contains("FLOPs") && m.method.contains("device table"));
            assert!(!row["source"].as_str().expect("source").is_empty());
            checked += 1;
        }
    }
    assert!(
        checked >= rows.len() * 2,
        "most devices take the test models"
    );
}

#[test]
fn estimated_devices_still_compute_outputs_on_the_host() {
    let dev = device("PIM_AI_1chip").expect("the reference's default hardware is known");
    let loaded = dev.load(&common::model("mlp")).expect("load");
    let out = loaded
        .run(&[sustainml_device::TensorData::pattern(&[1, 64])])
        .expect("run");
    assert_eq!(out[0].shape, vec![1, 4]);
    assert!(!dev.describe().present);
}

#[test]
fn a_model_too_big_for_the_device_is_refused() {
    let spec = DeviceSpec {
        name: "Tiny MCU".into(),
        kind: DeviceKind::Accelerator,
        peak_ops_per_s: 1e9,
        watts: 0.01,
        memory_bytes: 64 * 1024,
        efficiency: 0.5,
        source: "test".into(),
        idle_watts: None,
        idle_source: None,
    };
    let err = EstimatedDevice::new(spec)
        .load(&common::model("tiny_cnn"))
        .expect_err("too big");
    assert!(
        matches!(err, DeviceError::DoesNotFit { needed, available: 65536, .. } if needed > 65536)
    );
    let msg = err.to_string();
    assert!(
        msg.contains("tiny_cnn.onnx") && msg.contains("does not fit on Tiny MCU"),
        "{msg}"
    );
}

#[test]
fn registry_lists_cpu_and_the_table() {
    let names = devices();
    assert_eq!(names[0], "CPU");
    assert_eq!(names.len(), table().len() + 1);
    for name in &names {
        let dev = device(name).expect("every listed device is found");
        assert_eq!(dev.name(), name);
        assert_eq!(&dev.describe().name, name);
    }
    assert!(names.iter().any(|n| n == "PIM_AI_1chip"));
    assert_eq!(
        device("nvidia t4").expect("case-insensitive").name(),
        "NVIDIA T4"
    );
}

#[test]
fn a_model_known_only_by_its_figures_is_estimated_from_the_table() {
    // A catalogue model without a file: latency = FLOPs / (peak × efficiency) of the row.
    let spec = sustainml_device::device_table()
        .expect("expected a value")
        .iter()
        .find(|d| d.name == "PIM_AI_1chip")
        .expect("expected a value")
        .clone();
    let m =
        sustainml_device::estimate_figures("PIM_AI_1chip", "resnet18", 3_620_000_000, 46_758_048)
            .expect("expected a value");
    let expected_ms = 3.62e9 / (spec.peak_ops_per_s * spec.efficiency) * 1e3;
    assert!((m.latency_ms_p50 - expected_ms).abs() < 1e-9 * expected_ms);
    assert_eq!(m.power_w, spec.watts);
    assert!(m.estimated);
    // On the CPU the host's figures stand in for a row, still marked estimated.
    let cpu = sustainml_device::estimate_figures("cpu", "resnet18", 3_620_000_000, 46_758_048)
        .expect("expected a value");
    assert!(cpu.estimated && cpu.latency_ms_p50 > 0.0, "{cpu:?}");
    // Too big for the device, or an unknown device: errors naming them.
    let err = sustainml_device::estimate_figures("Femtosense SPU-001", "resnet18", 1, 46_758_048)
        .expect_err("expected an error")
        .to_string();
    assert!(
        err.contains("Femtosense SPU-001") && err.contains("resnet18"),
        "{err}"
    );
    let err = sustainml_device::estimate_figures("TPU v9", "x", 1, 1)
        .expect_err("expected an error")
        .to_string();
    assert!(err.contains("TPU v9"), "{err}");
}

// Every device states an idle power below its full-load power and where it comes from (assumed where no figure is published).
#[test]
fn every_device_has_an_idle_power_with_its_source() {
    for name in devices() {
        let info = device(&name).expect("listed").describe();
        assert!(
            info.idle_watts > 0.0 && info.idle_watts < info.watts,
            "{name}: idle {} W, full load {} W",
            info.idle_watts,
            info.watts
        );
        assert!(!info.idle_source.is_empty(), "{name}");
        if name != "CPU" {
            assert!(
                info.idle_source.contains("assumed"),
                "{name}: {}",
                info.idle_source
            );
        }
    }
    let mut spec = sustainml_device::device_table().expect("table")[0].clone();
    assert_eq!(
        spec.idle_power().0,
        spec.watts * sustainml_device::ASSUMED_IDLE_FRACTION
    );
    spec.idle_watts = Some(0.25);
    spec.idle_source = Some("measured".into());
    assert_eq!(spec.idle_power(), (0.25, "measured".to_string()));
}
