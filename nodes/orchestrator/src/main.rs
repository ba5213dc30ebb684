//! `sustainml-orchestrator`: the SustainML orchestrator with its REST API (see the
//! `sustainml_orchestrator_node` crate documentation for the endpoints).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser};
use sustainml_orchestrator::{Orchestrator, OrchestratorOptions};

/// The SustainML orchestrator: takes ML problems over a REST API (compatible with the
/// reference back-end), runs them through the module nodes over DDS and stores every
/// task. Stop it with Ctrl-C or SIGTERM; there is no shutdown endpoint.
///
/// Each flag can also be set by the environment variable shown beside it; the flag
/// wins.
#[derive(Debug, Parser)]
#[command(name = "sustainml-orchestrator", version)]
struct Args {
    /// Address of the REST API.
    #[arg(
        long,
        env = "SUSTAINML_ORCHESTRATOR_BIND",
        default_value = "127.0.0.1:5001"
    )]
    bind: SocketAddr,
    /// Allow --bind on an address other than loopback. The API has no
    /// authentication: anyone who reaches the port can submit tasks and reconfigure
    /// nodes, so expose it only behind something that authenticates.
    #[arg(long)]
    allow_remote: bool,
    /// Directory of the task store (created if needed; one orchestrator at a time)
    /// [default: $XDG_DATA_HOME/sustainml/orchestrator/domain-<ID>, with
    /// XDG_DATA_HOME defaulting to ~/.local/share and <ID> the DDS domain, so that
    /// orchestrators of different domains never share a store].
    #[arg(long, env = "SUSTAINML_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// DDS domain (0 to 232) [default: 0].
    #[arg(
        long,
        env = "SUSTAINML_DOMAIN_ID",
        value_name = "ID",
        value_parser = domain
    )]
    domain: Option<u16>,
    /// Seconds a task may run before it fails naming the nodes that did not answer.
    #[arg(
        long,
        env = "SUSTAINML_ORCHESTRATOR_DEADLINE",
        value_name = "SECS",
        allow_negative_numbers = true,
        default_value_t = 120.0
    )]
    deadline: f64,
    /// Seconds a configuration request waits for the node's answer (then 504).
    #[arg(
        long,
        env = "SUSTAINML_ORCHESTRATOR_CONFIG_TIMEOUT",
        value_name = "SECS",
        allow_negative_numbers = true,
        default_value_t = 5.0
    )]
    config_timeout: f64,
    /// Delete tasks (with their outputs) that ended more than this many days ago;
    /// fractions allowed. Default: keep every task.
    #[arg(
        long,
        env = "SUSTAINML_ORCHESTRATOR_KEEP_DAYS",
        value_name = "DAYS",
        allow_negative_numbers = true
    )]
    keep_days: Option<f64>,
}

/// The default `--data-dir` of domain `domain`: `<data dir>/sustainml/orchestrator/
/// domain-<domain>`, the data dir being the per-user one (`$XDG_DATA_HOME`, else
/// `~/.local/share`). It comes from the `dirs` crate rather than from reading the
/// variables here, so that the XDG rules (an unset or relative `XDG_DATA_HOME` is
/// ignored, `HOME` from the password database when unset) and other platforms' own
/// locations are right without our code.
fn default_data_dir(domain: u16) -> Result<PathBuf> {
    let base = dirs::data_dir().context(
        "no per-user data directory (neither XDG_DATA_HOME nor HOME is usable); pass --data-dir",
    )?;
    Ok(base
        .join("sustainml")
        .join("orchestrator")
        .join(format!("domain-{domain}")))
}

/// `--domain`'s value (empty means 0, as for `SUSTAINML_DOMAIN_ID` in sustainml-dds).
fn domain(text: &str) -> Result<u16> {
    if text.trim().is_empty() {
        return Ok(0);
    }
    sustainml_dds::parse_domain_id(text).map_err(|_| {
        anyhow::anyhow!(
            "must be an integer from 0 to 232 (given by --domain or SUSTAINML_DOMAIN_ID)"
        )
    })
}

/// A positive duration of `s` seconds, or the error naming `--what`.
fn seconds(what: &str, s: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| format!("--{what} must be a positive number of seconds, not {s}"))
}

/// The orchestrator's options and its store's directory, from the command line; a
/// value out of range is reported like clap's own errors (exit code 2).
fn options(args: &Args) -> Result<(OrchestratorOptions, PathBuf)> {
    let usage = |e: anyhow::Error| {
        Args::command()
            .error(clap::error::ErrorKind::ValueValidation, e)
            .exit()
    };
    if !args.bind.ip().is_loopback() && !args.allow_remote {
        usage(anyhow::anyhow!(
            "refusing to serve the unauthenticated API on {} (not loopback); pass --allow-remote if that is intended",
            args.bind
        ));
    }
    let deadline = seconds("deadline", args.deadline).unwrap_or_else(usage);
    let config_timeout = seconds("config-timeout", args.config_timeout).unwrap_or_else(usage);
    let keep_for = args.keep_days.map(|days| {
        Duration::try_from_secs_f64(days * 86_400.0)
            .ok()
            .filter(|d| !d.is_zero())
            .with_context(|| format!("--keep-days must be a positive number of days, not {days}"))
            .unwrap_or_else(usage)
    });
    // Without --domain nor SUSTAINML_DOMAIN_ID (clap reads both), the domain is 0.
    let domain = args.domain.unwrap_or(0);
    let data_dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => default_data_dir(domain)?,
    };
    let mut options = OrchestratorOptions::new(&data_dir)
        .domain(domain)
        .deadline(deadline)
        .config_timeout(config_timeout);
    if let Some(keep_for) = keep_for {
        options = options.keep_for(keep_for);
    }
    Ok((options, data_dir))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let (options, data_dir) = options(&args)?;
    sustainml_dds::logging::init(Some("ORCHESTRATOR_NODE"));
    // Watched from here on: a SIGTERM right after "listening" is a clean stop.
    let stop = sustainml_dds::signal::stop_signal();
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr().context("local address")?;
    let orch = Arc::new(
        Orchestrator::start(options)
            .await
            .context("cannot start the orchestrator")?,
    );
    tracing::info!(
        %addr,
        domain = orch.domain(),
        data_dir = %data_dir.display(),
        "REST API listening"
    );
    println!("listening on http://{addr}");
    sustainml_orchestrator_node::serve(listener, Arc::clone(&orch), stop)
        .await
        .context("REST server")?;
    tracing::info!("shutting down");
    match Arc::try_unwrap(orch) {
        Ok(orch) => orch.close().await,
        Err(_) => tracing::warn!("requests still hold the orchestrator; closing without waiting"),
    }
    Ok(())
}
