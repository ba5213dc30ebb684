// Protects: every shipped model really runs on this CPU (sync and streamed) and is reported with latency, memory, power, energy and how each was obtained.
mod common;

use std::sync::{Arc, Mutex};

use sustainml_device::{require_device, Device, LoadedModel, StreamOutput, TensorData};

fn load(name: &str) -> Box<dyn LoadedModel> {
    let cpu = require_device("CPU").expect("CPU is always known");
    cpu.load(&common::model(name))
        .expect("a shipped model loads on the CPU")
}

#[test]
fn each_model_runs_and_is_measured() {
    for name in common::MODELS {
        let model = load(name);
        let m = model.profile(5).expect("profile");
        println!("{name}: {}", serde_json::to_string(&m).expect("json"));
        assert_eq!(m.device, "CPU");
        assert!(m.model.ends_with(&format!("{name}.onnx")));
        assert_eq!(m.runs, 5);
        assert!(
            m.latency_ms_p50 > 0.0 && m.latency_ms_mean > 0.0,
            "{name}: latency {m:?}"
        );
        let facts = model.facts();
        assert!(
            m.memory_bytes > facts.weight_bytes,
            "{name}: memory counts activations too"
        );
        assert!(
            m.memory_bytes < 4 << 20,
            "{name}: a tiny model needs well under 4 MiB: {m:?}"
        );
        assert!(m.power_w >= 0.0 && m.energy_j_per_inference >= 0.0);
        assert!(!m.estimated);
        assert!(
            m.method.contains("rapl"),
            "method says whether RAPL was used: {}",
            m.method
        );
        assert!(m.method.contains("latency:") && m.method.contains("memory:"));
    }
}

#[test]
fn run_returns_outputs_of_the_declared_shape() {
    for name in common::MODELS {
        let model = load(name);
        let inputs: Vec<TensorData> = model
            .facts()
            .inputs
            .iter()
            .map(|i| TensorData::pattern(&i.shape))
            .collect();
        let outputs = model.run(&inputs).expect("run");
        assert_eq!(outputs.len(), model.facts().outputs.len());
        for (out, declared) in outputs.iter().zip(&model.facts().outputs) {
            assert_eq!(out.shape, declared.shape, "{name}");
            assert_eq!(out.data.len(), declared.shape.iter().product::<usize>());
            assert!(
                out.data.iter().all(|v| v.is_finite()),
                "{name}: finite outputs"
            );
        }
        if name != "tiny_cnn" {
            let sum: f32 = outputs[0].data.iter().sum();
            assert!(
                (sum - 1.0).abs() < 1e-4,
                "{name} ends in Softmax: sums to {sum}"
            );
        }
    }
}

#[test]
fn stream_delivers_every_output_in_order_through_the_callback() {
    let model = load("kws_cnn");
    let input = TensorData::pattern(&model.facts().inputs[0].shape);
    let expected = model.run(std::slice::from_ref(&input)).expect("run");
    let seen: Arc<Mutex<Vec<StreamOutput>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let mut stream = model
        .stream(Box::new(move |out| sink.lock().expect("lock").push(out)))
        .expect("stream starts");
    for i in 0..5u64 {
        assert_eq!(stream.push(vec![input.clone()]).expect("push"), i);
    }
    assert_eq!(stream.finish().expect("finish"), 5);
    let seen = seen.lock().expect("lock");
    assert_eq!(
        seen.iter().map(|o| o.seq).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    for out in seen.iter() {
        assert_eq!(out.outputs.as_ref().expect("output"), &expected);
        assert!(out.host_latency_ms > 0.0);
    }
}

#[test]
fn stream_reports_a_bad_input_to_the_callback_and_keeps_going() {
    let model = load("mlp");
    let good = TensorData::pattern(&[1, 64]);
    let seen: Arc<Mutex<Vec<StreamOutput>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let mut stream = model
        .stream(Box::new(move |o| sink.lock().expect("lock").push(o)))
        .expect("stream");
    stream
        .push(vec![TensorData::pattern(&[1, 63])])
        .expect("push");
    stream.push(vec![good]).expect("push");
    assert_eq!(stream.finish().expect("finish"), 2);
    let seen = seen.lock().expect("lock");
    let err = seen[0]
        .outputs
        .as_ref()
        .expect_err("wrong shape is refused")
        .to_string();
    assert!(err.contains("mlp.onnx") && err.contains("[1, 63]"), "{err}");
    assert!(seen[1].outputs.is_ok());
}

#[test]
fn cpu_describes_this_machine() {
    let info = sustainml_device::CpuDevice::new().describe();
    assert_eq!(info.name, "CPU");
    assert!(info.present && info.peak_ops_per_s > 0.0 && info.memory_bytes > 0 && info.watts > 0.0);
    assert!(info.source.contains("/proc/cpuinfo"));
}
