//! Profiles an ONNX model on a device and prints its facts and measurement as JSON.
//!
//! `cargo run -p sustainml-device --example profile -- MODEL.onnx [DEVICE] [RUNS]`
//! (DEVICE defaults to CPU, RUNS to 20; `--list` prints the known devices).

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let Some(model) = args.first() else {
        return Err("usage: profile MODEL.onnx [DEVICE] [RUNS] | --list".into());
    };
    if model == "--list" {
        for name in sustainml_device::devices() {
            println!("{name}");
        }
        return Ok(());
    }
    let device = sustainml_device::require_device(args.get(1).map_or("CPU", String::as_str))?;
    let runs = args.get(2).map_or(Ok(20), |r| r.parse())?;
    let loaded = device.load(Path::new(model))?;
    println!("{}", serde_json::to_string_pretty(loaded.facts())?);
    println!("{}", serde_json::to_string_pretty(&loaded.profile(runs)?)?);
    Ok(())
}
