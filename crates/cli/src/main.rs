//! `sustainml`: the command-line tool of sustainml-rs. It launches the nodes of a
//! launch file on this machine (`launch`), and inspects a running graph over DDS
//! (`topic list|echo`, `node list`).
//!
//! Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input (a bad launch
//! file, an unknown topic, a bad `SUSTAINML_DOMAIN_ID`).
//!
//! DDS commands use the domain in `SUSTAINML_DOMAIN_ID` (default 0).

mod launch_file;
mod launcher;
mod nodes;
mod topic;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use sustainml_dds::Participant;

/// An error in what the user gave us: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The SustainML command-line tool: launch nodes and inspect a running graph.
///
/// Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input.
/// DDS commands use the domain in SUSTAINML_DOMAIN_ID (default 0).
#[derive(Debug, Parser)]
#[command(name = "sustainml", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the nodes a launch file places on this machine and supervise them until
    /// Ctrl-C or SIGTERM (a second Ctrl-C kills them at once).
    Launch(LaunchArgs),
    /// The SustainML topics.
    #[command(subcommand)]
    Topic(TopicCommand),
    /// The live nodes.
    #[command(subcommand)]
    Node(NodeCommand),
}

#[derive(Debug, clap::Args)]
struct LaunchArgs {
    /// The launch file (TOML; see launch/README.md).
    file: PathBuf,
    /// This machine's name in the file (default: the host name).
    #[arg(long)]
    machine: Option<String>,
    /// Where the `sustainml-<kind>` binaries are (default: next to this program).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Only validate the file: report every problem with its line, start nothing.
    #[arg(long)]
    check: bool,
    /// Seconds a node may take to stop after SIGTERM before it is killed.
    #[arg(long, default_value_t = 10.0)]
    grace: f64,
}

#[derive(Debug, Subcommand)]
enum TopicCommand {
    /// List the SustainML topics with their DDS types.
    List,
    /// Print each sample published on a topic, decoded.
    Echo {
        /// The topic name, e.g. /sustainml/status.
        topic: String,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Stop after N samples (fewer by --timeout is a failure).
        #[arg(long)]
        count: Option<u64>,
        /// Stop after S seconds.
        #[arg(long)]
        timeout: Option<f64>,
    },
}

#[derive(Debug, Subcommand)]
enum NodeCommand {
    /// List the live nodes (from their statuses; no orchestrator needed).
    List {
        /// One JSON object per node and line.
        #[arg(long)]
        json: bool,
        /// Seconds to listen for statuses.
        #[arg(long, default_value_t = 3.0)]
        wait: f64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    sustainml_dds::logging::init(None);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let usage = e.downcast_ref::<UsageError>().is_some();
            eprintln!("sustainml: {e:#}");
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Launch(args) => launch(args),
        Command::Topic(TopicCommand::List) => {
            topic::list();
            Ok(ExitCode::SUCCESS)
        }
        Command::Topic(TopicCommand::Echo {
            topic,
            json,
            count,
            timeout,
        }) => {
            let info = topic::find(&topic)?;
            let opts = topic::EchoOptions {
                json,
                count,
                timeout: timeout.map(|t| seconds("timeout", t)).transpose()?,
            };
            let participant = participant()?;
            runtime()?.block_on(topic::echo(&participant, info, opts))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Node(NodeCommand::List { json, wait }) => {
            let wait = seconds("wait", wait)?;
            let participant = participant()?;
            runtime()?.block_on(nodes::list(&participant, wait, json))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn launch(args: LaunchArgs) -> Result<ExitCode> {
    let grace = seconds("grace", args.grace)?;
    let text = std::fs::read_to_string(&args.file).map_err(|e| {
        UsageError(format!(
            "cannot read launch file {}: {e}",
            args.file.display()
        ))
    })?;
    let machine = match args.machine {
        Some(m) => m,
        None => nix::unistd::gethostname()
            .context("reading the host name (pass --machine)")?
            .to_string_lossy()
            .into_owned(),
    };
    let bin_dir = match args.bin_dir {
        Some(d) => d,
        None => own_dir()?,
    };
    let file = args.file.display();
    let nodes = match launch_file::parse(&text, &machine, &bin_dir) {
        Ok(nodes) => nodes,
        Err(problems) => {
            for p in &problems {
                eprintln!("{file}:{p}");
            }
            return Err(UsageError(format!(
                "{file}: {} problem(s); nothing started",
                problems.len()
            ))
            .into());
        }
    };
    let here: Vec<_> = nodes.into_iter().filter(|n| n.runs_on(&machine)).collect();
    if args.check {
        println!("{file}: ok ({} node(s) on machine `{machine}`)", here.len());
        return Ok(ExitCode::SUCCESS);
    }
    if here.is_empty() {
        return Err(UsageError(format!(
            "{file}: no node runs on machine `{machine}` (pass --machine?)"
        ))
        .into());
    }
    let ok = runtime()?.block_on(launcher::run(here, &bin_dir, grace))?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The directory of this program (where the node binaries are installed beside it).
fn own_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("finding this program's path (pass --bin-dir)")?;
    Ok(exe.parent().map(Path::to_path_buf).unwrap_or_default())
}

fn seconds(flag: &str, s: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(s).ok().ok_or_else(|| {
        UsageError(format!(
            "--{flag} must be a non-negative number of seconds, not {s}"
        ))
        .into()
    })
}

/// A participant on the domain from SUSTAINML_DOMAIN_ID (a bad value is a usage error).
fn participant() -> Result<Participant> {
    let domain = sustainml_dds::domain_id_from_env().map_err(|e| UsageError(e.to_string()))?;
    Participant::builder()
        .name("sustainml-cli")
        .domain(domain)
        .build()
        .with_context(|| format!("opening a DDS participant on domain {domain}"))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
