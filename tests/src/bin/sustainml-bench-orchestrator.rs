//! sustainml-bench-orchestrator: the orchestrator's benchmark figures, against module
//! nodes already running on the domain (`scripts/bench-orchestrator` starts them).
//!
//! - `library`: an orchestrator in this process; configuration request round trips
//!   (to HW_RESOURCES_NODE) and task latency (`new_task` → `wait_task` done), one at a
//!   time, p50/p99.
//! - `rest URL`: the same task latency through a running `sustainml-orchestrator`:
//!   POST /user_input, then GET /tasks/P/I every millisecond until done.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use serde_json::Value;
use sustainml_orchestrator::types::{samples, NodeId};
use sustainml_orchestrator::{Orchestrator, OrchestratorOptions, TaskState};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
    /// Measured operations of each kind.
    #[arg(long, default_value_t = 200)]
    count: usize,
    /// Operations done first and not measured.
    #[arg(long, default_value_t = 10)]
    warmup: usize,
}

#[derive(Subcommand)]
enum Mode {
    /// An orchestrator in this process (data in a fresh temporary directory).
    Library,
    /// A running sustainml-orchestrator at URL (e.g. http://127.0.0.1:5001).
    Rest { url: String },
}

fn report(what: &str, mut us: Vec<f64>) {
    us.sort_by(f64::total_cmp);
    let pct = |p: f64| us[((us.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{what} count={} p50_us={:.1} p99_us={:.1}",
        us.len(),
        pct(0.5),
        pct(0.99)
    );
}

async fn library(count: usize, warmup: usize) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("sustainml-bench-{}", std::process::id()));
    let orch = Orchestrator::start(OrchestratorOptions::new(&dir)).await?;
    orch.wait_ready(Duration::from_secs(60)).await?;
    let mut rtts = Vec::with_capacity(count);
    for k in 0..count + warmup {
        let start = Instant::now();
        let r = orch
            .configuration_request(NodeId::HwResources, "hardwares")
            .await?;
        if !r.success {
            bail!("configuration request failed: {}", r.configuration);
        }
        if k >= warmup {
            rtts.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    report("config-request", rtts);
    let mut tasks = Vec::with_capacity(count);
    for k in 0..count + warmup {
        let start = Instant::now();
        let id = orch.new_task(samples::user_input()).await?;
        let state = orch.wait_task(id, Duration::from_secs(30)).await?;
        if state != TaskState::Done {
            bail!("task {id} ended {state:?}");
        }
        if k >= warmup {
            tasks.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    report("task-library", tasks);
    orch.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn rest(url: &str, count: usize, warmup: usize) -> Result<()> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let body = serde_json::json!({
        "modality": "image",
        "problem_short_description": "Classify bird species",
        "geo_location_continent": "Europe",
        "geo_location_region": "France",
        "extra_data": {}
    });
    let mut latencies = Vec::with_capacity(count);
    for k in 0..count + warmup {
        let start = Instant::now();
        let answer: Value = agent
            .post(&format!("{url}/user_input"))
            .send_json(body.clone())
            .context("POST /user_input")?
            .into_json()?;
        let (p, i) = (
            &answer["task_id"]["problem_id"],
            &answer["task_id"]["iteration_id"],
        );
        loop {
            let task: Value = agent
                .get(&format!("{url}/tasks/{p}/{i}"))
                .call()
                .context("GET /tasks")?
                .into_json()?;
            match task["state"].as_str() {
                Some("done") => break,
                Some("failed") => bail!("task {p}.{i} failed: {task}"),
                _ => std::thread::sleep(Duration::from_millis(1)),
            }
            if start.elapsed() > Duration::from_secs(30) {
                bail!("task {p}.{i} not done after 30 s");
            }
        }
        if k >= warmup {
            latencies.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    report("task-rest", latencies);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    sustainml_dds::logging::init(None);
    let cli = Cli::parse();
    match cli.mode {
        Mode::Library => library(cli.count, cli.warmup).await,
        Mode::Rest { url } => {
            tokio::task::spawn_blocking(move || rest(&url, cli.count, cli.warmup)).await?
        }
    }
}
