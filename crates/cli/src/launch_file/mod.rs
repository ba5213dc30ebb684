//! Launch files: which nodes run on which machine, with their program, arguments,
//! environment and restart policy.
//!
//! ```toml
//! [[node]]
//! name = "models"            # optional, default: the kind or the program's file name; unique
//! kind = "ml-model"          # a built-in node: the sustainml-<kind> binary
//! # command = ["./my-node", "--flag"]  # or any program (PATH, or relative to this file)
//! machine = "cloud"          # optional: only `sustainml launch` on this machine starts it
//! args = ["--flag"]          # optional, after the kind's binary or the command
//! env = { RUST_LOG = "debug" }  # optional, string values
//! cwd = "work"               # optional, relative to this file
//! restart = "on-failure"     # "never" (default), "on-failure" or "always"
//! max_restarts = 5           # optional, default 5
//! healthy_after = 30         # optional, seconds: a run this long resets the count
//!
//! [machine.cloud]            # optional: discovery without multicast
//! address = "192.168.1.10"   # this machine's IPv4 address, as the others reach it
//! ```
//!
//! When machines have addresses, `sustainml launch --machine M` runs a discovery relay
//! (`sustainml_dds::relay`) that relays DDS discovery to every other machine listed.
//!
//! Validation collects every problem with its line instead of stopping at the first.

mod node;
mod program;

use std::fmt;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The node kinds a launch file may name, each started as `sustainml-<kind>`.
pub const KINDS: &[&str] = &[
    "app-requirements",
    "hw-constraints",
    "ml-model-metadata",
    "ml-model",
    "hw-resources",
    "carbon-footprint",
    "orchestrator",
];

/// Restarts after `max_restarts` when the file does not say.
pub const DEFAULT_MAX_RESTARTS: u32 = 5;

/// A run at least this long resets the restart count and backoff, when the file does
/// not say (`healthy_after`).
pub const DEFAULT_HEALTHY_AFTER: Duration = Duration::from_secs(30);

/// What to do when a node's process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// Leave it stopped.
    Never,
    /// Start it again (with backoff) when it exits with a failure or a signal.
    OnFailure,
    /// Start it again (with backoff) whenever it ends, however it ends.
    Always,
}

impl Restart {
    /// How the launch file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::OnFailure => "on-failure",
            Self::Always => "always",
        }
    }
}

/// What a node runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// A built-in node: `sustainml-<kind>` beside the launcher (or in `--bin-dir`).
    Kind(String),
    /// Any program: looked up in PATH, or relative to the launch file if it has a `/`.
    Command {
        /// The program as written.
        program: String,
        /// Its arguments from `command` (the node's `args` follow them).
        args: Vec<String>,
    },
}

/// One node of a launch file.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// Its name in logs (unique in the file).
    pub name: String,
    /// What it runs.
    pub program: Program,
    /// The machine it runs on; `None` runs it everywhere.
    pub machine: Option<String>,
    /// Command-line arguments after the program's own.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Working directory: as written (relative to the launch file) until checked,
    /// then absolute for the nodes of this machine; `None`: the launcher's.
    pub cwd: Option<PathBuf>,
    /// The program file, once checked for this machine.
    pub executable: Option<PathBuf>,
    /// Restart policy.
    pub restart: Restart,
    /// Restarts in a row before giving up.
    pub max_restarts: u32,
    /// A run at least this long resets the restart count and backoff.
    pub healthy_after: Duration,
    /// Line of its `[[node]]` table.
    pub line: usize,
}

impl NodeSpec {
    /// Whether this node runs on `machine`.
    pub fn runs_on(&self, machine: &str) -> bool {
        self.machine.as_deref().is_none_or(|m| m == machine)
    }

    /// Its whole argument list: the command's arguments, then `args`.
    pub fn argv(&self) -> Vec<String> {
        match &self.program {
            Program::Kind(_) => self.args.clone(),
            Program::Command { args, .. } => args.iter().chain(&self.args).cloned().collect(),
        }
    }
}

/// A machine of a launch file with its address (a `[machine.NAME]` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineSpec {
    /// Its name, as nodes' `machine` and `--machine` name it.
    pub name: String,
    /// Its IPv4 address, as the other machines reach it.
    pub address: Ipv4Addr,
    /// Line of its table.
    pub line: usize,
}

/// A checked launch file.
#[derive(Debug, Clone)]
pub struct LaunchFile {
    /// Every node, on every machine.
    pub nodes: Vec<NodeSpec>,
    /// The machines with an address, in file order.
    pub machines: Vec<MachineSpec>,
}

impl LaunchFile {
    /// The addresses of the machines other than `machine`: where its discovery relay
    /// sends this machine's announcements.
    pub fn peers_of(&self, machine: &str) -> Vec<Ipv4Addr> {
        let own = self
            .machines
            .iter()
            .find(|m| m.name == machine)
            .map(|m| m.address);
        self.machines
            .iter()
            .filter(|m| m.name != machine && Some(m.address) != own)
            .map(|m| m.address)
            .collect()
    }
}

/// A problem in a launch file, at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

struct Checker<'t> {
    text: &'t str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn report(&mut self, offset: usize, message: impl Into<String>) {
        let line = self.line(offset);
        self.problems.push(Problem {
            line,
            message: message.into(),
        });
    }

    fn string(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<String> {
        match value.get_ref().as_str() {
            Some(s) => Some(s.to_owned()),
            None => {
                let ty = value.get_ref().type_str();
                self.report(
                    value.span().start,
                    format!("`{key}` must be a string, not {ty}"),
                );
                None
            }
        }
    }
}

/// Where a launch file's programs are found.
#[derive(Debug, Clone)]
pub struct Places {
    /// The built-in `sustainml-<kind>` binaries.
    pub bin_dir: PathBuf,
    /// The launch file's directory: relative commands and `cwd` start there.
    pub base_dir: PathBuf,
    /// The PATH that bare program names are looked up in.
    pub path: Option<std::ffi::OsString>,
}

/// Parses and checks a launch file. Programs and working directories are checked for
/// the nodes that run on `machine`. Returns the nodes and machines, or every problem
/// found.
pub fn parse(text: &str, machine: &str, places: &Places) -> Result<LaunchFile, Vec<Problem>> {
    let mut c = Checker {
        text,
        problems: Vec::new(),
    };
    let (root, errors) = DeTable::parse_recoverable(text);
    for e in &errors {
        let at = e.span().map(|s| s.start).unwrap_or(0);
        c.report(at, format!("TOML syntax: {}", e.message().trim()));
    }
    let mut nodes = Vec::new();
    let mut machines = Vec::new();
    for (key, value) in root.get_ref().iter() {
        if key.get_ref().as_ref() == "machine" {
            machine_tables(&mut c, key.span().start, value, &mut machines);
            continue;
        }
        if key.get_ref().as_ref() != "node" {
            c.report(
                key.span().start,
                format!(
                    "unknown key `{}` (a launch file holds [[node]] and [machine.NAME] tables)",
                    key.get_ref()
                ),
            );
            continue;
        }
        match value.get_ref() {
            DeValue::Array(tables) => {
                for t in tables.iter() {
                    if let Some(n) = node::node(&mut c, t) {
                        nodes.push(n);
                    }
                }
            }
            _ => c.report(
                key.span().start,
                "`node` must be written as [[node]] tables",
            ),
        }
    }
    for (i, n) in nodes.iter().enumerate() {
        if let Some(first) = nodes[..i].iter().find(|m| m.name == n.name) {
            c.problems.push(Problem {
                line: n.line,
                message: format!(
                    "duplicate node name `{}` (first at line {})",
                    n.name, first.line
                ),
            });
        }
    }
    for n in nodes.iter_mut().filter(|n| n.runs_on(machine)) {
        match program::resolve(&n.program, places) {
            Ok(exe) => n.executable = Some(exe),
            Err(why) => c.problems.push(Problem {
                line: n.line,
                message: format!("node `{}`: {why}", n.name),
            }),
        }
        match program::working_dir(n.cwd.as_deref(), places) {
            Ok(dir) => n.cwd = dir,
            Err(why) => c.problems.push(Problem {
                line: n.line,
                message: format!("node `{}`: {why}", n.name),
            }),
        }
    }
    if c.problems.is_empty() && nodes.is_empty() && errors.is_empty() {
        c.problems.push(Problem {
            line: 1,
            message: "no [[node]] tables: nothing to launch".into(),
        });
    }
    for (i, m) in machines.iter().enumerate() {
        if let Some(first) = machines[..i].iter().find(|o| o.address == m.address) {
            c.problems.push(Problem {
                line: m.line,
                message: format!(
                    "machine `{}` has the address {} of machine `{}` (line {})",
                    m.name, m.address, first.name, first.line
                ),
            });
        }
    }
    c.problems.sort_by_key(|p| p.line);
    if c.problems.is_empty() {
        Ok(LaunchFile { nodes, machines })
    } else {
        Err(c.problems)
    }
}

/// Checks the `[machine.NAME]` tables.
fn machine_tables(
    c: &mut Checker<'_>,
    key_at: usize,
    value: &Spanned<DeValue<'_>>,
    machines: &mut Vec<MachineSpec>,
) {
    let Some(table) = value.get_ref().as_table() else {
        c.report(
            key_at,
            "`machine` must be written as [machine.NAME] tables (address = \"IPv4\")",
        );
        return;
    };
    for (name, spec) in table.iter() {
        let start = name.span().start;
        let line = c.line(start);
        let name = name.get_ref().to_string();
        let Some(fields) = spec.get_ref().as_table() else {
            c.report(
                spec.span().start,
                format!("[machine.{name}] must be a table (address = \"IPv4\")"),
            );
            continue;
        };
        let mut address = None;
        for (key, v) in fields.iter() {
            match key.get_ref().as_ref() {
                "address" => {
                    let Some(text) = c.string("address", v) else {
                        continue;
                    };
                    let checked = text
                        .parse::<Ipv4Addr>()
                        .map_err(|_| format!("`{text}` is not an IPv4 address"))
                        .and_then(sustainml_dds::relay::check_peer);
                    match checked {
                        Ok(a) => address = Some(a),
                        Err(why) => c.report(
                            v.span().start,
                            format!("machine `{name}`: bad address: {why}"),
                        ),
                    }
                }
                other => c.report(
                    key.span().start,
                    format!("unknown key `{other}` in [machine.{name}] (known: address)"),
                ),
            }
        }
        match address {
            Some(address) => machines.push(MachineSpec {
                name,
                address,
                line,
            }),
            None if !fields
                .iter()
                .any(|(k, _)| k.get_ref().as_ref() == "address") =>
            {
                c.report(start, format!("[machine.{name}] without `address`"));
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests;
