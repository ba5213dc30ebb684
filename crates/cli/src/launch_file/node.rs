//! One `[[node]]` table: its keys, checked one by one, every problem with its line.

use std::path::PathBuf;
use std::time::Duration;

use toml::de::DeValue;
use toml::Spanned;

use super::{
    Checker, NodeSpec, Program, Restart, DEFAULT_HEALTHY_AFTER, DEFAULT_MAX_RESTARTS, KINDS,
};

const KNOWN_KEYS: &str =
    "name, kind, command, machine, args, env, cwd, restart, max_restarts, healthy_after";

/// Checks one `[[node]]` table; `None` if it has a problem.
pub(super) fn node(c: &mut Checker<'_>, value: &Spanned<DeValue<'_>>) -> Option<NodeSpec> {
    let start = value.span().start;
    let line = c.line(start);
    let Some(table) = value.get_ref().as_table() else {
        c.report(start, "each `node` must be a table");
        return None;
    };
    let (mut name, mut kind, mut command, mut machine) = (None, None, None, None);
    let (mut args, mut env, mut cwd) = (Vec::new(), Vec::new(), None);
    let (mut restart, mut max_restarts) = (Restart::Never, DEFAULT_MAX_RESTARTS);
    let mut healthy_after = DEFAULT_HEALTHY_AFTER;
    let mut broken = false;
    for (key, v) in table.iter() {
        let k = key.get_ref().as_ref();
        let at = v.span().start;
        match k {
            "name" => name = c.string(k, v),
            "machine" => machine = c.string(k, v),
            "cwd" => cwd = c.string(k, v).map(PathBuf::from),
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
            "command" => match strings(c, k, v) {
                Some(words) if words.is_empty() => c.report(
                    at,
                    "`command` must name a program: [\"program\", \"arg\", …]",
                ),
                Some(words) if words[0].is_empty() => {
                    c.report(at, "`command` starts with an empty program name")
                }
                Some(words) => command = Some(words),
                None => broken = true,
            },
            "args" => match strings(c, k, v) {
                Some(words) => args = words,
                None => broken = true,
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
                Some("always") => restart = Restart::Always,
                Some(other) => c.report(
                    at,
                    format!(
                        "`restart` must be \"never\", \"on-failure\" or \"always\", not \"{other}\""
                    ),
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
            "healthy_after" => match seconds(v.get_ref()) {
                Some(d) => healthy_after = d,
                None => c.report(
                    at,
                    format!(
                        "`healthy_after` must be a positive number of seconds, not {}",
                        describe(v.get_ref())
                    ),
                ),
            },
            other => c.report(
                key.span().start,
                format!("unknown key `{other}` in [[node]] (known: {KNOWN_KEYS})"),
            ),
        }
    }
    let has = |key: &str| table.iter().any(|(k, _)| k.get_ref().as_ref() == key);
    let program = match (kind, command) {
        (Some(_), Some(_)) => {
            c.report(
                start,
                "[[node]] with both `kind` and `command`: give one (kind for a built-in node, command for any program)",
            );
            None
        }
        (Some(kind), None) => Some(Program::Kind(kind)),
        (None, Some(words)) => {
            let mut words = words.into_iter();
            let program = words.next().unwrap_or_default();
            Some(Program::Command {
                program,
                args: words.collect(),
            })
        }
        (None, None) => {
            if !has("kind") && !has("command") && !broken {
                c.report(
                    start,
                    "[[node]] without `kind` or `command` (kind = \"app-requirements\", or command = [\"program\", …])",
                );
            }
            None
        }
    };
    // A node with other problems still takes part in the duplicate and program checks;
    // the file is refused as a whole anyway.
    let program = program?;
    let name = match name {
        Some(n) => n,
        None => match &program {
            Program::Kind(kind) => kind.clone(),
            Program::Command { program, .. } => default_name(program),
        },
    };
    Some(NodeSpec {
        name,
        program,
        machine,
        args,
        env,
        cwd,
        executable: None,
        restart,
        max_restarts,
        healthy_after,
        line,
    })
}

/// An array of strings, or `None` after reporting what it is instead.
fn strings(c: &mut Checker<'_>, key: &str, v: &Spanned<DeValue<'_>>) -> Option<Vec<String>> {
    let Some(items) = v.get_ref().as_array() else {
        c.report(
            v.span().start,
            format!(
                "`{key}` must be an array of strings, not {}",
                v.get_ref().type_str()
            ),
        );
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in items.iter() {
        match c.string(key, item) {
            Some(s) => out.push(s),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// A positive number of seconds (integer or float).
fn seconds(v: &DeValue<'_>) -> Option<Duration> {
    let s = if let Some(i) = v.as_integer() {
        i.as_str().replace('_', "").parse::<f64>().ok()?
    } else if let Some(f) = v.as_float() {
        f.as_str().replace('_', "").parse::<f64>().ok()?
    } else {
        return None;
    };
    Duration::try_from_secs_f64(s).ok().filter(|d| !d.is_zero())
}

fn describe(v: &DeValue<'_>) -> String {
    match v {
        DeValue::Integer(i) => i.as_str().to_owned(),
        DeValue::Float(f) => f.as_str().to_owned(),
        other => other.type_str().to_owned(),
    }
}

/// The name of a node given by `command` alone: its program's file name.
fn default_name(program: &str) -> String {
    std::path::Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| program.to_owned())
}
