//! `sustainml-orchestrator`: the SustainML orchestrator with its REST API (see the
//! `sustainml_orchestrator_node` crate documentation for the endpoints).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use sustainml_orchestrator::{Orchestrator, OrchestratorOptions};

/// The SustainML orchestrator: takes ML problems over a REST API (compatible with the
/// reference back-end), runs them through the module nodes over DDS and stores every
/// task. Stop it with Ctrl-C or SIGTERM; there is no shutdown endpoint.
#[derive(Debug, Parser)]
#[command(name = "sustainml-orchestrator", version)]
struct Args {
    /// Address of the REST API.
    #[arg(long, default_value = "127.0.0.1:5001")]
    bind: SocketAddr,
    /// Allow --bind on an address other than loopback. The API has no
    /// authentication: anyone who reaches the port can submit tasks and reconfigure
    /// nodes, so expose it only behind something that authenticates.
    #[arg(long)]
    allow_remote: bool,
    /// Directory of the task store (created if needed; one orchestrator at a time).
    #[arg(long, default_value = "./sustainml-data")]
    data_dir: PathBuf,
    /// DDS domain (default: SUSTAINML_DOMAIN_ID, else 0).
    #[arg(long)]
    domain: Option<u16>,
    /// Seconds a task may run before it fails naming the nodes that did not answer.
    #[arg(long, default_value_t = 120.0)]
    deadline: f64,
    /// Seconds a configuration request waits for the node's answer (then 504).
    #[arg(long, default_value_t = 5.0)]
    config_timeout: f64,
    /// Delete tasks (with their outputs) that ended more than this many days ago;
    /// fractions allowed. Default: keep every task.
    #[arg(long)]
    keep_days: Option<f64>,
}

fn seconds(what: &str, s: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| format!("--{what} must be a positive number of seconds, not {s}"))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    sustainml_dds::logging::init(Some("ORCHESTRATOR_NODE"));
    if !args.bind.ip().is_loopback() && !args.allow_remote {
        bail!(
            "refusing to serve the unauthenticated API on {} (not loopback); pass --allow-remote if that is intended",
            args.bind
        );
    }
    let mut options = OrchestratorOptions::new(&args.data_dir)
        .deadline(seconds("deadline", args.deadline)?)
        .config_timeout(seconds("config-timeout", args.config_timeout)?);
    if let Some(d) = args.domain {
        options = options.domain(d);
    }
    if let Some(days) = args.keep_days {
        options = options.keep_for(seconds("keep-days", days * 86_400.0)?);
    }
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr().context("local address")?;
    let orch = Arc::new(
        Orchestrator::start(options)
            .await
            .context("cannot start the orchestrator")?,
    );
    tracing::info!(%addr, domain = orch.domain(), "REST API listening");
    println!("listening on http://{addr}");
    sustainml_orchestrator_node::serve(
        listener,
        Arc::clone(&orch),
        sustainml_dds::signal::stop_requested(),
    )
    .await
    .context("REST server")?;
    tracing::info!("shutting down");
    match Arc::try_unwrap(orch) {
        Ok(orch) => orch.close().await,
        Err(_) => tracing::warn!("requests still hold the orchestrator; closing without waiting"),
    }
    Ok(())
}
