//! `sustainml`: the command-line tool of sustainml-rs. It launches the nodes of a
//! launch file on this machine (`launch`) and reads their logs back (`logs`),
//! inspects and drives a running graph over DDS (`topic list|echo|hz|pub`,
//! `node list|control`), submits and follows problems through the orchestrator's
//! REST API (`task submit|list|show|cancel`), queries and configures nodes over DDS
//! (`config get|set`), diagnoses the network (`doctor`) and profiles a model on a
//! device (`device profile|list`, no DDS).
//!
//! Exit codes:
//!
//! - 0: success (`task submit --wait`: the task is done);
//! - 1: runtime failure: a task that failed or outlived `--timeout`, an orchestrator
//!   that cannot be reached (one line naming its URL), a node that refused a
//!   configuration or did not answer in time, a `doctor` check that failed, a DDS
//!   error;
//! - 2: bad usage or bad input: a bad launch file, an unknown topic or node, a bad
//!   `SUSTAINML_DOMAIN_ID`, a malformed task id or problem file, JSON that does not
//!   parse, a request the orchestrator refused (HTTP 4xx, its message printed).
//!
//! DDS commands use the domain in `SUSTAINML_DOMAIN_ID` (default 0); `task` commands
//! use the orchestrator at `--orchestrator`, else `SUSTAINML_ORCHESTRATOR`, else
//! `http://127.0.0.1:5001`.

mod config;
mod control;
mod device;
mod doctor;
mod launch_file;
mod launch_log;
mod launcher;
mod logs;
mod nodes;
mod optimize;
mod progress;
mod rest;
mod supervise;
mod task;
mod topic;
mod topic_hz;
mod topic_pub;

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

/// The SustainML command-line tool: launch nodes, inspect a running graph, submit
/// problems, configure nodes, diagnose the network.
///
/// Exit codes: 0 success; 1 runtime failure (a failed or timed-out task, an
/// unreachable orchestrator, a node that refused or did not answer, a failed doctor
/// check); 2 bad usage or bad input (including a request the orchestrator refused
/// with HTTP 4xx).
///
/// DDS commands use the domain in SUSTAINML_DOMAIN_ID (default 0); task commands the
/// orchestrator at --orchestrator, else SUSTAINML_ORCHESTRATOR, else
/// http://127.0.0.1:5001.
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
    /// Problems and their results, through the orchestrator's REST API.
    #[command(subcommand)]
    Task(task::TaskCommand),
    /// Query or configure a node over DDS (no orchestrator needed).
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Check the DDS domain, network interfaces, multicast route, ports in use and
    /// the nodes in reach; exit 1 if a check fails.
    Doctor(doctor::DoctorArgs),
    /// Print a node's log from a launch (the latest launch by default).
    Logs(logs::LogsArgs),
    /// Profile an ONNX model on a device, or list the devices (no DDS).
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// Run PROGRAM so that it cannot outlive the launcher (used by `launch`).
    #[command(hide = true)]
    Supervise {
        /// The node's program.
        program: std::ffi::OsString,
        /// Its arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
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
    /// Where each node's log goes (NODE.log). Default: a new directory under
    /// $XDG_STATE_HOME/sustainml/log (else ~/.local/state/sustainml/log), which
    /// `latest` there points at.
    #[arg(long, value_name = "DIR")]
    log_dir: Option<PathBuf>,
    /// Another machine's IPv4 address (repeatable): relay DDS discovery to it, for
    /// networks without multicast. Adds to the file's [machine.NAME] addresses.
    #[arg(long = "peer", value_name = "ADDR")]
    peers: Vec<std::net::Ipv4Addr>,
}

#[derive(Debug, Subcommand)]
enum TopicCommand {
    /// List the SustainML topics with their DDS types and the writers and readers
    /// discovery sees on the domain now, then any other topic it sees.
    List {
        /// One JSON object per topic and line.
        #[arg(long)]
        json: bool,
        /// Seconds to listen to discovery.
        #[arg(long, default_value_t = 2.0)]
        wait: f64,
    },
    /// Print each sample published on a topic, decoded.
    Echo {
        /// The topic name, e.g. /sustainml/status.
        topic: String,
        /// The DDS type of a topic outside the SustainML table (a node's own topic),
        /// e.g. CO2FootprintImpl.
        #[arg(long = "type", value_name = "TYPE")]
        type_name: Option<String>,
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
    /// Print a topic's rate every second (average, min/max interval, std dev over the
    /// last --window samples), until --duration or Ctrl-C. Exit 1 if no sample
    /// arrives within --duration.
    Hz {
        /// The topic name, e.g. /sustainml/status.
        topic: String,
        /// Samples the statistics cover.
        #[arg(long, default_value_t = 100)]
        window: usize,
        /// Stop after S seconds.
        #[arg(long, value_name = "S")]
        duration: Option<f64>,
    },
    /// Publish one sample, given as JSON (the type's fields; left-out fields keep
    /// their defaults; enums by IDL name), once a reader is matched; wait for its
    /// acknowledgment. Exit 1 if no reader matches within --wait; 2 for JSON that
    /// does not fit the topic's type.
    Pub {
        /// The topic name, e.g. /sustainml/user_input.
        topic: String,
        /// The sample as a JSON object (`-` reads it from stdin).
        #[arg(value_name = "JSON")]
        sample: String,
        /// Seconds to wait for a reader and its acknowledgment.
        #[arg(long, value_name = "S", default_value_t = 5.0)]
        wait: f64,
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
    /// Send a node a command on /sustainml/control and print the node-wide state it
    /// reports after it: stop (NODE_INACTIVE), start (NODE_IDLE, or NODE_RUNNING if
    /// busy), reset (drops its pending tasks), terminate (NODE_TERMINATING). Exit 2
    /// if the node is not heard within --wait; 1 if it does not report.
    Control {
        /// The node's name as `node list` shows it (APP_REQUIREMENTS_NODE), or its
        /// short kind (app-requirements).
        node: String,
        /// The command.
        #[arg(value_enum)]
        action: control::Action,
        /// Seconds for the whole exchange (finding the node included).
        #[arg(long, value_name = "S", default_value_t = 10.0)]
        wait: f64,
        /// Print {node, status, description} as JSON.
        #[arg(long)]
        json: bool,
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
        Command::Topic(TopicCommand::List { json, wait }) => {
            let wait = seconds("wait", wait)?;
            let participant = participant()?;
            runtime()?.block_on(topic::list(&participant, wait, json))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Topic(TopicCommand::Hz {
            topic,
            window,
            duration,
        }) => {
            let info = topic::find(&topic)?;
            let duration = duration.map(|d| seconds("duration", d)).transpose()?;
            let participant = participant()?;
            runtime()?.block_on(topic_hz::hz(&participant, info, window, duration))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Topic(TopicCommand::Pub {
            topic,
            sample,
            wait,
        }) => {
            let info = topic::find(&topic)?;
            let wait = seconds("wait", wait)?;
            let text = topic_pub::read_json(sample)?;
            topic_pub::check(info, &text)?;
            let participant = participant()?;
            runtime()?.block_on(topic_pub::publish(&participant, info, &text, wait))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Topic(TopicCommand::Echo {
            topic,
            type_name,
            json,
            count,
            timeout,
        }) => {
            let info = topic::find_typed(&topic, type_name.as_deref())?;
            let opts = topic::EchoOptions {
                json,
                count,
                timeout: timeout.map(|t| seconds("timeout", t)).transpose()?,
            };
            let participant = participant()?;
            runtime()?.block_on(topic::echo(&participant, info, opts))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Task(command) => task::run(command),
        Command::Config(command) => config::run(command),
        Command::Doctor(args) => doctor::run(args),
        Command::Logs(args) => logs::run(args),
        Command::Device(command) => device::run(command),
        Command::Supervise { program, args } => {
            let code = supervise::run(program, args)?;
            Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
        }
        Command::Node(NodeCommand::List { json, wait }) => {
            let wait = seconds("wait", wait)?;
            let participant = participant()?;
            runtime()?.block_on(nodes::list(&participant, wait, json))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Node(NodeCommand::Control {
            node,
            action,
            wait,
            json,
        }) => {
            let wait = seconds("wait", wait)?;
            let participant = participant()?;
            runtime()?.block_on(control::run(&participant, &node, action, wait, json))?;
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
    let base_dir = args
        .file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let places = launch_file::Places {
        bin_dir,
        base_dir: std::path::absolute(if base_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &base_dir
        })
        .context("resolving the launch file's directory")?,
        path: std::env::var_os("PATH"),
    };
    let parsed = match launch_file::parse(&text, &machine, &places) {
        Ok(parsed) => parsed,
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
    let mut peers = parsed.peers_of(&machine);
    for peer in args.peers {
        let peer = sustainml_dds::relay::check_peer(peer)
            .map_err(|why| UsageError(format!("--peer: {why}")))?;
        if !peers.contains(&peer) {
            peers.push(peer);
        }
    }
    let here: Vec<_> = parsed
        .nodes
        .into_iter()
        .filter(|n| n.runs_on(&machine))
        .collect();
    // The relays' domains (only with peers: without, nothing changes).
    let domains = if peers.is_empty() {
        Vec::new()
    } else {
        launcher::domains_of(&here).map_err(|e| UsageError(format!("{e:#}")))?
    };
    if args.check {
        let relay = if peers.is_empty() {
            String::new()
        } else {
            let list: Vec<_> = peers.iter().map(ToString::to_string).collect();
            format!("; discovery relayed with {}", list.join(", "))
        };
        println!(
            "{file}: ok ({} node(s) on machine `{machine}`{relay})",
            here.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if here.is_empty() {
        return Err(UsageError(format!(
            "{file}: no node runs on machine `{machine}` (pass --machine?)"
        ))
        .into());
    }
    let stem = args
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "launch".into());
    let log = std::sync::Arc::new(launch_log::LaunchLog::create(args.log_dir, &stem)?);
    log.launcher(&format!(
        "{file}: {} node(s) on machine `{machine}`; logs in {}",
        here.len(),
        log.dir().display()
    ));
    let ok = runtime()?.block_on(async {
        let relays = launcher::Relays::start(&domains, &peers, &log)?;
        let ok = launcher::run(here, std::sync::Arc::clone(&log), grace).await;
        relays.report(&log);
        ok
    })?;
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
