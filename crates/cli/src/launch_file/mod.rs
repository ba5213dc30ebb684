//! Launch files: which nodes run on which machine, with their arguments, environment
//! and restart policy.
//!
//! ```toml
//! [[node]]
//! name = "models"            # optional, default: the kind; unique in the file
//! kind = "ml-model"          # which sustainml-<kind> binary
//! machine = "cloud"          # optional: only `sustainml launch` on this machine starts it
//! args = ["--flag"]          # optional
//! env = { RUST_LOG = "debug" }  # optional, string values
//! restart = "on-failure"     # "never" (default) or "on-failure"
//! max_restarts = 5           # optional, default 5
//!
//! [machine.cloud]            # optional: discovery without multicast
//! address = "192.168.1.10"   # this machine's IPv4 address, as the others reach it
//! ```
//!
//! When machines have addresses, `sustainml launch --machine M` runs a discovery relay
//! (`sustainml_dds::relay`) that relays DDS discovery to every other machine listed.
//!
//! Validation collects every problem with its line instead of stopping at the first.

use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

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

/// What to do when a node's process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    /// Leave it stopped.
    Never,
    /// Start it again (with backoff) when it exits with a failure or a signal.
    OnFailure,
}

/// One node of a launch file.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// Its name in logs (unique in the file).
    pub name: String,
    /// Its kind (one of [`KINDS`]).
    pub kind: String,
    /// The machine it runs on; `None` runs it everywhere.
    pub machine: Option<String>,
    /// Command-line arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Restart policy.
    pub restart: Restart,
    /// Restarts before giving up.
    pub max_restarts: u32,
    /// Line of its `[[node]]` table.
    pub line: usize,
}

impl NodeSpec {
    /// Whether this node runs on `machine`.
    pub fn runs_on(&self, machine: &str) -> bool {
        self.machine.as_deref().is_none_or(|m| m == machine)
    }

    /// The node's binary in `bin_dir`.
    pub fn binary(&self, bin_dir: &Path) -> PathBuf {
        bin_dir.join(format!("sustainml-{}", self.kind))
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

/// Parses and checks a launch file. Binaries are checked for the nodes that run on
/// `machine`, in `bin_dir`. Returns the nodes and machines, or every problem found.
pub fn parse(text: &str, machine: &str, bin_dir: &Path) -> Result<LaunchFile, Vec<Problem>> {
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
                    if let Some(n) = node(&mut c, t) {
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
        if n.runs_on(machine) && !n.binary(bin_dir).is_file() {
            c.problems.push(Problem {
                line: n.line,
                message: format!(
                    "binary {} for node `{}` not found",
                    n.binary(bin_dir).display(),
                    n.name
                ),
            });
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

/// Checks one `[[node]]` table; `None` if it has a problem.
fn node(c: &mut Checker<'_>, value: &Spanned<DeValue<'_>>) -> Option<NodeSpec> {
    let start = value.span().start;
    let line = c.line(start);
    let Some(table) = value.get_ref().as_table() else {
        c.report(start, "each `node` must be a table");
        return None;
    };
    let (mut name, mut kind, mut machine) = (None, None, None);
    let (mut args, mut env) = (Vec::new(), Vec::new());
    let (mut restart, mut max_restarts) = (Restart::Never, DEFAULT_MAX_RESTARTS);
    for (key, v) in table.iter() {
        let k = key.get_ref().as_ref();
        let at = v.span().start;
        match k {
            "name" => name = c.string(k, v),
            "machine" => machine = c.string(k, v),
            "kind" => {
                if let Some(s) = c.string(k, v) {
                    if KINDS.contains(&s.as_str()) {
                        kind = Some(s);
                    } else {
                        c.report(
                            at,
                            format!("unknown node kind `{s}` (known: {})", KINDS.join(", ")),
                        );
                    }
                }
            }
            "args" => match v.get_ref().as_array() {
                Some(items) => {
                    for item in items.iter() {
                        if let Some(s) = c.string("args", item) {
                            args.push(s);
                        }
                    }
                }
                None => c.report(
                    at,
                    format!(
                        "`args` must be an array of strings, not {}",
                        v.get_ref().type_str()
                    ),
                ),
            },
            "env" => match v.get_ref().as_table() {
                Some(vars) => {
                    for (var, val) in vars.iter() {
                        if let Some(s) = c.string(&format!("env.{}", var.get_ref()), val) {
                            env.push((var.get_ref().to_string(), s));
                        }
                    }
                }
                None => c.report(
                    at,
                    format!(
                        "`env` must be a table of strings, not {}",
                        v.get_ref().type_str()
                    ),
                ),
            },
            "restart" => match c.string(k, v).as_deref() {
                Some("never") => restart = Restart::Never,
                Some("on-failure") => restart = Restart::OnFailure,
                Some(other) => c.report(
                    at,
                    format!("`restart` must be \"never\" or \"on-failure\", not \"{other}\""),
                ),
                None => {}
            },
            "max_restarts" => {
                let parsed = v.get_ref().as_integer().and_then(|i| {
                    let digits = i.as_str().replace('_', "");
                    u32::from_str_radix(digits.trim_start_matches('+'), i.radix()).ok()
                });
                match parsed {
                    Some(n) => max_restarts = n,
                    None => c.report(
                        at,
                        format!(
                            "`max_restarts` must be a non-negative integer, not {}",
                            v.get_ref().type_str()
                        ),
                    ),
                }
            }
            other => c.report(
                key.span().start,
                format!(
                    "unknown key `{other}` in [[node]] (known: name, kind, machine, args, env, restart, max_restarts)"
                ),
            ),
        }
    }
    if kind.is_none() && !table.iter().any(|(k, _)| k.get_ref().as_ref() == "kind") {
        c.report(start, "[[node]] without `kind`");
    }
    // A node with other problems still takes part in the duplicate and binary checks;
    // the file is refused as a whole anyway.
    let kind = kind?;
    Some(NodeSpec {
        name: name.unwrap_or_else(|| kind.clone()),
        kind,
        machine,
        args,
        env,
        restart,
        max_restarts,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bins() -> PathBuf {
        PathBuf::from("/nonexistent")
    }

    #[test]
    fn every_problem_has_its_line() {
        let text = "[[node]]\nkind = \"ml-modle\"\n\n[[node]]\nkind = \"orchestrator\"\nmax_restarts = \"x\"\ncolour = 1\n[[node]]\nkind = \"orchestrator\"\n";
        let problems = parse(text, "m", &bins()).expect_err("problems");
        let lines: Vec<_> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 4, 6, 7, 8, 8], "{problems:?}");
        assert!(problems[0].message.contains("ml-modle"));
        assert!(problems[1].message.contains("not found"));
    }

    #[test]
    fn duplicates_and_machines() {
        let text = "[[node]]\nkind = \"orchestrator\"\nmachine = \"b\"\n[[node]]\nkind = \"orchestrator\"\nmachine = \"b\"\nrestart = \"on-failure\"\n";
        let problems = parse(text, "a", &bins()).expect_err("duplicate");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 4);
        assert!(problems[0].message.contains("duplicate"));
    }

    #[test]
    fn machines_give_each_machine_the_others_as_peers() {
        let text = "[[node]]\nkind = \"orchestrator\"\nmachine = \"b\"\n\n[machine.a]\naddress = \"10.0.0.1\"\n[machine.b]\naddress = \"10.0.0.2\"\n[machine.c]\naddress = \"10.0.0.3\"\n";
        let file = parse(text, "a", &bins()).expect("valid");
        let ip = |d| Ipv4Addr::new(10, 0, 0, d);
        assert_eq!(file.peers_of("a"), vec![ip(2), ip(3)]);
        assert_eq!(file.peers_of("c"), vec![ip(1), ip(2)]);
        assert_eq!(file.peers_of("elsewhere"), vec![ip(1), ip(2), ip(3)]);
        assert_eq!(file.machines[1].line, 7);
    }

    #[test]
    fn bad_machines_are_reported_with_their_lines() {
        let text = "[[node]]\nkind = \"orchestrator\"\nmachine = \"b\"\n[machine.a]\naddress = \"10.0.0.300\"\n[machine.b]\nadress = \"10.0.0.2\"\n[machine.c]\naddress = \"127.0.0.1\"\n[machine.d]\naddress = \"10.0.0.9\"\n[machine.e]\naddress = \"10.0.0.9\"\n";
        let problems = parse(text, "a", &bins()).expect_err("problems");
        let lines: Vec<_> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![5, 6, 7, 9, 12], "{problems:?}");
        assert!(problems[0].message.contains("not an IPv4 address"));
        assert!(problems[2].message.contains("unknown key `adress`"));
        assert!(problems[3].message.contains("loopback"));
        assert!(problems[4]
            .message
            .contains("address 10.0.0.9 of machine `d`"));
        let problems = parse("machine = 3\n", "a", &bins()).expect_err("problems");
        assert!(
            problems[0].message.contains("[machine.NAME]"),
            "{problems:?}"
        );
    }
}
