//! Protects `sustainml device profile|list` across processes: a model's facts and its
//! measurement or estimate as a table or as JSON, the energy per frame at an input
//! period, the device table, and bad input (unknown device, bad file, bad period) as
//! exit 2 with one line naming it. No DDS participant is opened, so these tests need no
//! network namespace.

use serde_json::Value;
use sustainml_tests::{repo_root, run_sustainml};

fn model(name: &str) -> String {
    repo_root()
        .join("crates/device/models")
        .join(format!("{name}.onnx"))
        .display()
        .to_string()
}

/// `sustainml args…`: (exit code, stdout, stderr).
fn device(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["device"];
    all.extend_from_slice(args);
    run_sustainml(0, &all, "")
}

// The human profile is a small table naming the model, the device and how the figures were obtained.
#[test]
fn profile_prints_a_table_of_figures() {
    let (code, out, err) = device(&["profile", &model("mlp"), "--runs", "3"]);
    assert_eq!(code, 0, "{err}");
    for row in [
        "model",
        "device",
        "parameters",
        "latency",
        "memory",
        "power",
        "energy",
        "method",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(row)),
            "no {row} row:\n{out}"
        );
    }
    assert!(
        out.contains("mlp.onnx") && out.contains("CPU (measured)"),
        "{out}"
    );
    assert!(out.contains("2212"), "parameters of mlp: {out}");
}

// --json prints the facts, the measurement and, with --input-period, the simulation report.
#[test]
fn profile_json_with_an_input_period_has_the_simulation() {
    let (code, out, err) = device(&[
        "profile",
        &model("kws_cnn"),
        "--device",
        "femtosense spu-001",
        "--input-period",
        "16",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(json["facts"]["parameters"], 31228);
    assert_eq!(json["measurement"]["device"], "Femtosense SPU-001");
    assert_eq!(json["measurement"]["estimated"], true);
    let sim = &json["simulation"];
    assert_eq!(sim["input_period_ms"], 16.0);
    let (active, idle, latency) = (
        sim["active_power_w"].as_f64().expect("active"),
        sim["idle_power_w"].as_f64().expect("idle"),
        sim["latency_ms"].as_f64().expect("latency"),
    );
    let energy = sim["energy_j_per_frame"].as_f64().expect("energy");
    let expected = active * latency / 1e3 + idle * (16.0 - latency) / 1e3;
    assert!(
        (energy - expected).abs() <= 1e-12 + 1e-9 * expected,
        "{sim}"
    );
    assert!(sim["duty_cycle"].as_f64().expect("duty") > 0.0);
    // Without --input-period the simulation is null.
    let (_, out, _) = device(&["profile", &model("mlp"), "--runs", "1", "--json"]);
    let json: Value = serde_json::from_str(out.trim()).expect("JSON");
    assert!(json["simulation"].is_null());
}

// Bad input is exit 2 and one line naming what was wrong: the device (with the known ones), the file, the period.
#[test]
fn bad_input_is_exit_2_naming_it() {
    let (code, out, err) = device(&["profile", &model("mlp"), "--device", "TPU v9"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("unknown device \"TPU v9\"") && err.contains("PIM_AI_1chip"),
        "{err}"
    );

    let (code, _, err) = device(&["profile", &model("unsupported_op")]);
    assert_eq!(code, 2);
    assert!(err.contains("Frobnicate"), "{err}");

    let (code, _, err) = device(&["profile", &model("dynamic_input")]);
    assert_eq!(code, 2);
    assert!(err.contains("not fixed"), "{err}");

    let (code, _, err) = device(&["profile", &model("no_such_model")]);
    assert_eq!(code, 2);
    assert!(err.contains("no_such_model.onnx"), "{err}");

    let (code, _, err) = device(&[
        "profile",
        &model("tiny_cnn"),
        "--device",
        "Femtosense SPU-001",
    ]);
    assert_eq!(code, 0, "tiny_cnn fits in 1 MiB: {err}");
    let (code, _, err) = device(&["profile", &model("mlp"), "--input-period", "0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("positive number of milliseconds, not 0"),
        "{err}"
    );

    let (code, _, err) = device(&[
        "profile",
        &model("tiny_cnn"),
        "--device",
        "PIM_AI_1chip",
        "--input-period",
        "0.001",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("0.001 ms is shorter than the latency") && err.contains("PIM_AI_1chip"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");

    let (code, _, err) = device(&["profile", &model("mlp"), "--runs", "0"]);
    assert_eq!(code, 2, "{err}");
}

// `device list` shows every device with its figures; --json gives one object per device with its idle power and sources.
#[test]
fn list_shows_the_device_table() {
    let (code, out, err) = device(&["list"]);
    assert_eq!(code, 0, "{err}");
    let header = out.lines().next().expect("a header");
    for column in [
        "NAME",
        "KIND",
        "PEAK OPS/S",
        "WATTS",
        "IDLE W",
        "MEMORY",
        "PRESENT",
        "SOURCE",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert!(
        out.lines()
            .any(|l| l.starts_with("CPU ") && l.contains(" yes ")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("MemryX MX3") && l.contains(" no ")),
        "{out}"
    );

    let (code, out, _) = device(&["list", "--json"]);
    assert_eq!(code, 0);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert!(rows.len() >= 6);
    assert_eq!(rows[0]["name"], "CPU");
    for row in &rows {
        let (watts, idle) = (
            row["watts"].as_f64().expect("watts"),
            row["idle_watts"].as_f64().expect("idle"),
        );
        assert!(idle > 0.0 && idle < watts, "{row}");
        assert!(!row["idle_source"].as_str().expect("idle source").is_empty());
        assert!(!row["source"].as_str().expect("source").is_empty());
    }
}
