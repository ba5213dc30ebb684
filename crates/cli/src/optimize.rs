//! `sustainml task optimize FILE [--target X] [--max-iterations N] [--max-seconds S]
//! [--wait]`: an optimisation run through the orchestrator's `POST /optimizations`;
//! with `--wait`, a line per finished iteration and a table of them at the end.
//!
//! Exit codes with `--wait`: 0 when the run stopped at its target, its budget or for
//! want of a better model; 1 when an iteration failed, the run was cancelled or the
//! orchestrator could not go on, or `--timeout` passed.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde_json::{json, Map, Value};

use crate::rest::Api;
use crate::task::{load_problem, ApiArgs};
use crate::{seconds, UsageError};

/// The arguments of `task optimize`.
#[derive(Debug, clap::Args)]
pub struct OptimizeArgs {
    /// The problem file (.toml, .json, or - for JSON on stdin), as for `task submit`.
    file: PathBuf,
    /// The carbon footprint to reach, kg CO2e (default: the problem's
    /// desired_carbon_footprint; 0: no target, the run goes until its budget).
    #[arg(long, value_name = "X")]
    target: Option<f64>,
    /// Iterations at most, the first included (default: the orchestrator's, 5).
    #[arg(long, value_name = "N")]
    max_iterations: Option<u32>,
    /// Seconds at most from the first iteration's start (default: the
    /// orchestrator's, 600).
    #[arg(long, value_name = "S")]
    max_seconds: Option<f64>,
    /// Follow the run: a line per finished iteration, a table at the end.
    #[arg(long)]
    wait: bool,
    /// Print JSON: the API's answer, or with --wait the whole run.
    #[arg(long)]
    json: bool,
    /// With --wait: give up after S seconds (exit 1; the run goes on).
    #[arg(long, value_name = "S")]
    timeout: Option<f64>,
    #[command(flatten)]
    api: ApiArgs,
}

/// Runs `task optimize`.
pub fn run(args: OptimizeArgs) -> Result<ExitCode> {
    let mut body = Map::new();
    body.insert("user_input".into(), load_problem(&args.file)?);
    let mut budget = Map::new();
    if let Some(n) = args.max_iterations {
        if n == 0 {
            return Err(UsageError("--max-iterations must be at least 1".into()).into());
        }
        budget.insert("max_iterations".into(), json!(n));
    }
    if let Some(s) = args.max_seconds {
        let d = seconds("max-seconds", s)?;
        if d.is_zero() {
            return Err(UsageError("--max-seconds must be above 0".into()).into());
        }
        budget.insert("max_seconds".into(), json!(s));
    }
    if !budget.is_empty() {
        body.insert("budget".into(), Value::Object(budget));
    }
    if let Some(x) = args.target {
        if !x.is_finite() || x < 0.0 {
            return Err(UsageError(format!("--target must be a number ≥ 0, not {x}")).into());
        }
        body.insert("target_carbon_footprint".into(), json!(x));
    }
    let timeout = args.timeout.map(|t| seconds("timeout", t)).transpose()?;
    let api = Api::new(args.api.orchestrator)?;
    // Subscribe first, so that no event of the run is missed.
    let events = if args.wait { api.events().ok() } else { None };
    let answer = api.post("/optimizations", &Value::Object(body))?;
    let id = answer["id"].as_str().unwrap_or_default().to_owned();
    if !args.wait {
        if args.json {
            println!("{answer:#}");
        } else {
            println!("{id}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let problem = answer["problem_id"].as_u64().unwrap_or_default();
    eprintln!(
        "optimisation run {id} (problem {problem}) started on {}: target {}, budget {}",
        api.url(),
        answer["target_carbon_footprint"],
        answer["budget"]
    );
    let (tx, rx) = mpsc::channel();
    if let Some(stream) = events {
        std::thread::spawn(move || wake_on_events(stream, problem, &tx));
    }
    let started = Instant::now();
    let mut shown = 0;
    let report = loop {
        let report = api.get(&format!("/optimizations/{id}"))?;
        let iterations = report["iterations"].as_array().cloned().unwrap_or_default();
        for it in iterations.iter().skip(shown) {
            if it["state"] == "running" {
                break;
            }
            eprintln!("iteration {}: {}", task_id(&it["task_id"]), line(it));
            shown += 1;
        }
        if report["state"] == "stopped" {
            break report;
        }
        if let Some(t) = timeout {
            if started.elapsed() >= t {
                bail!(
                    "optimisation run {id} still running after {} s (--timeout); GET /optimizations/{id} follows it",
                    t.as_secs_f64()
                );
            }
        }
        let _ = rx.recv_timeout(Duration::from_secs(2));
    };
    if args.json {
        println!("{report:#}");
    } else {
        print!("{}", table(&report));
    }
    let kind = report["stop_reason"]["kind"].as_str().unwrap_or_default();
    let message = report["stop_reason"]["message"]
        .as_str()
        .unwrap_or_default();
    eprintln!("stopped: {message}");
    Ok(match kind {
        "target_reached" | "iterations_exhausted" | "time_exhausted" | "no_model" => {
            ExitCode::SUCCESS
        }
        _ => ExitCode::FAILURE,
    })
}

/// Signals each event of `problem` (and each `lagged`), so the run is looked at again.
fn wake_on_events(stream: Box<dyn Read + Send + Sync>, problem: u64, tx: &mpsc::Sender<()>) {
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { break };
        let Some(data) = line.strip_prefix("data:") else {
            continue;
        };
        let Ok(event) = serde_json::from_str::<Value>(data.trim()) else {
            continue;
        };
        let ours = event["task_id"]["problem_id"].as_u64() == Some(problem)
            || event["problem_id"].as_u64() == Some(problem);
        if (ours || event["event"] == "lagged") && tx.send(()).is_err() {
            break;
        }
    }
}

fn task_id(v: &Value) -> String {
    format!("{}.{}", v["problem_id"], v["iteration_id"])
}

fn number(v: &Value) -> String {
    match v.as_f64() {
        Some(x) => format!("{x:.4}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned(),
        None => "-".into(),
    }
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_owned).unwrap_or_else(|| "-".into())
}

fn line(it: &Value) -> String {
    let mut s = format!(
        "{} — model {}, footprint {} kg CO2e, energy {} kWh, latency {} ms",
        text(&it["state"]),
        text(&it["model"]),
        number(&it["carbon_footprint"]),
        number(&it["energy_consumption"]),
        number(&it["latency"])
    );
    if let Some(reason) = it["reason"].as_str() {
        s.push_str(&format!(" ({reason})"));
    }
    s
}

/// The iterations as a table, best marked.
fn table(report: &Value) -> String {
    let best = task_id(&report["best"]);
    let mut rows = vec![[
        "ITERATION".to_owned(),
        "STATE".into(),
        "MODEL".into(),
        "FOOTPRINT".into(),
        "ENERGY".into(),
        "LATENCY".into(),
    ]];
    for it in report["iterations"].as_array().into_iter().flatten() {
        let id = task_id(&it["task_id"]);
        let mark = if id == best { " *" } else { "" };
        rows.push([
            format!("{id}{mark}"),
            text(&it["state"]),
            text(&it["model"]),
            number(&it["carbon_footprint"]),
            number(&it["energy_consumption"]),
            number(&it["latency"]),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
