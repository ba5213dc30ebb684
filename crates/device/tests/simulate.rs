// Protects: femtodriver-style simulation at an input period: energy per frame = active power × latency + idle power × (period − latency), with the frames' outputs, and typed errors for a bad period.
mod common;

use sustainml_device::{
    require_device, simulate, simulate_measurement, simulate_period, DeviceError, LoadedModel,
    TensorData,
};

fn load(device: &str, name: &str) -> Box<dyn LoadedModel> {
    require_device(device)
        .expect("known device")
        .load(&common::model(name))
        .expect("a shipped model loads")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12)
}

// An estimated device: the report follows the formula from the table's figures, and the outputs are the model's.
#[test]
fn an_estimated_device_is_simulated_from_its_table_row() {
    let model = load("Femtosense SPU-001", "kws_cnn");
    let frame = vec![TensorData::pattern(&[1, 1, 49, 10])];
    let sim = simulate(model.as_ref(), &[frame.clone(), frame.clone()], 16.0).expect("simulate");
    let r = &sim.report;
    let m = model.profile(2).expect("estimate");
    assert_eq!((r.frames, r.input_period_ms), (2, 16.0));
    assert!(r.estimated && r.device == "Femtosense SPU-001");
    assert!(close(r.latency_ms, m.latency_ms_mean));
    assert!(close(r.active_power_w, m.power_w) && close(r.idle_power_w, m.idle_power_w));
    let expected =
        r.active_power_w * r.latency_ms / 1e3 + r.idle_power_w * (16.0 - r.latency_ms) / 1e3;
    assert!(close(r.energy_j_per_frame, expected), "{r:?}");
    assert!(close(
        r.active_energy_j_per_frame + r.idle_energy_j_per_frame,
        r.energy_j_per_frame
    ));
    assert!(close(r.mean_power_w, r.energy_j_per_frame / 0.016));
    assert!(close(r.duty_cycle, r.latency_ms / 16.0) && r.duty_cycle > 0.0 && r.duty_cycle < 1.0);
    assert!(close(r.frames_per_s, 62.5));
    assert!(r.idle_power_w < r.active_power_w);
    assert!(r.method.contains("idle power: assumed"), "{}", r.method);
    let expected_out = model.run(&frame).expect("run");
    assert_eq!(sim.outputs, vec![expected_out.clone(), expected_out]);
    let json = serde_json::to_value(r).expect("the report serialises");
    assert!(json["energy_j_per_frame"].is_f64() && json["duty_cycle"].is_f64());
}

// The CPU really runs: the mean power lies between idle and active, and a longer period costs more energy per frame.
#[test]
fn the_cpu_is_simulated_from_its_measurement() {
    let model = load("CPU", "mlp");
    let short = simulate_period(model.as_ref(), 50.0).expect("simulate");
    let long = simulate_period(model.as_ref(), 500.0).expect("simulate");
    assert!(!short.estimated && short.device == "CPU");
    assert_eq!(short.frames, sustainml_device::SIMULATE_FRAMES);
    for r in [&short, &long] {
        assert!(
            r.latency_ms > 0.0 && r.latency_ms < r.input_period_ms,
            "{r:?}"
        );
        assert!(
            r.idle_power_w <= r.active_power_w && r.idle_power_w > 0.0,
            "{r:?}"
        );
        assert!(
            r.mean_power_w >= r.idle_power_w - 1e-12 && r.mean_power_w <= r.active_power_w + 1e-12
        );
    }
    assert!(long.idle_energy_j_per_frame > short.idle_energy_j_per_frame);
    assert!(short.method.contains("idle power:"), "{}", short.method);
}

// A period of 0, negative or NaN is a typed error naming the figure.
#[test]
fn a_period_that_is_not_positive_is_refused() {
    let model = load("MemryX MX3", "mlp");
    for period in [0.0, -5.0, f64::NAN, f64::INFINITY] {
        let err = simulate_period(model.as_ref(), period).expect_err("bad period");
        assert!(
            matches!(err, DeviceError::PeriodNotPositive { .. }),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("positive number of milliseconds"),
            "{err}"
        );
    }
    let err = simulate(model.as_ref(), &[], 10.0).expect_err("no frames");
    assert!(matches!(err, DeviceError::NoFrames));
}

// A period shorter than one inference names the model, the device, the period and the latency.
#[test]
fn a_period_below_the_latency_is_refused_naming_both() {
    let model = load("PIM_AI_1chip", "tiny_cnn");
    let latency = model.profile(1).expect("estimate").latency_ms_mean;
    let period = latency / 2.0;
    let err = simulate_period(model.as_ref(), period).expect_err("too short");
    assert!(
        matches!(err, DeviceError::PeriodBelowLatency { period_ms, latency_ms, .. }
            if period_ms == period && latency_ms == latency),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("tiny_cnn.onnx on PIM_AI_1chip") && msg.contains("shorter than the latency"),
        "{msg}"
    );
    // A period equal to the latency keeps the device always busy.
    let m = model.profile(1).expect("estimate");
    let r = simulate_measurement(&m, latency).expect("exactly the latency");
    assert!(close(r.duty_cycle, 1.0) && r.idle_energy_j_per_frame == 0.0);
}

// A frame the model refuses is the model's own typed error, not a panic.
#[test]
fn a_bad_frame_is_the_models_error() {
    let model = load("CPU", "mlp");
    let err = simulate(model.as_ref(), &[vec![TensorData::pattern(&[1, 3])]], 100.0)
        .expect_err("wrong shape");
    assert!(matches!(err, DeviceError::BadInput { .. }), "{err:?}");
}

// A catalogue model known only by its figures is simulated too.
#[test]
fn a_model_known_by_its_figures_is_simulated() {
    let m = sustainml_device::estimate_figures("NVIDIA T4", "resnet18", 3_620_000_000, 46_758_048)
        .expect("estimate");
    let r = simulate_measurement(&m, 33.0).expect("simulate");
    assert!(r.estimated && r.model == "resnet18" && r.energy_j_per_frame > 0.0);
    let info = require_device("NVIDIA T4").expect("T4").describe();
    assert!(close(r.idle_power_w, info.idle_watts));
}
