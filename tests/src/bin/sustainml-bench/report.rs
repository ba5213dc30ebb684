//! A row of the table: our figure, the peers measured in the same run, the target;
//! printed and written to the CSV.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

/// What a row must reach.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Ours at most this.
    AtMost(f64),
    /// Ours at least this.
    AtLeast(f64),
    /// Ours at most this many times the first peer's figure.
    TimesPeer(f64),
}

/// One measured row.
#[derive(Debug, Clone)]
pub struct Row {
    /// Short name (`--only` takes it).
    pub name: &'static str,
    /// What was measured, in words.
    pub what: &'static str,
    /// The unit of `ours` and the peers.
    pub unit: &'static str,
    /// Our figure.
    pub ours: f64,
    /// Peers measured in the same run: (who, figure); the target refers to the first.
    pub peers: Vec<(&'static str, f64)>,
    /// The target.
    pub target: Target,
    /// Anything else worth knowing (p99, lost samples, …).
    pub note: String,
}

impl Row {
    /// Whether the target is met.
    pub fn met(&self) -> bool {
        match self.target {
            Target::AtMost(v) => self.ours <= v,
            Target::AtLeast(v) => self.ours >= v,
            Target::TimesPeer(k) => self.peers.first().is_some_and(|(_, p)| self.ours <= k * p),
        }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::AtMost(v) => format!("<= {}", num(v)),
            Target::AtLeast(v) => format!(">= {}", num(v)),
            Target::TimesPeer(k) => match self.peers.first() {
                Some((who, p)) => format!("<= {k} x {who} = {}", num(k * p)),
                None => format!("<= {k} x peer"),
            },
        }
    }
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The table's heading line.
pub fn header() -> String {
    format!(
        "{:<15} {:>10} {:<6} {:<34} {:<24} {:<4} note",
        "row", "ours", "unit", "peers (ours / peer)", "target", "met"
    )
}

/// One row as a line of the table.
pub fn line(r: &Row) -> String {
    let peers: Vec<String> = r
        .peers
        .iter()
        .map(|(who, p)| format!("{who} {} ({:.2}x)", num(*p), r.ours / p))
        .collect();
    format!(
        "{:<15} {:>10} {:<6} {:<34} {:<24} {:<4} {}",
        r.name,
        num(r.ours),
        r.unit,
        if peers.is_empty() {
            "-".into()
        } else {
            peers.join(", ")
        },
        r.target_text(),
        if r.met() { "yes" } else { "NO" },
        r.note
    )
}

/// The whole table, as text.
pub fn table(rows: &[Row]) -> String {
    let mut out = header();
    for r in rows {
        let _ = write!(out, "\n{}", line(r));
    }
    out
}

/// Writes `rows` to `path` (one line per row and peer).
pub fn write_csv(path: &Path, rows: &[Row]) -> Result<()> {
    let mut file =
        std::fs::File::create(path).with_context(|| format!("create {}", path.display()))?;
    writeln!(
        file,
        "row,what,unit,ours,peer,peer_value,ratio,target,met,note"
    )?;
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "'"));
    for r in rows {
        let peers: Vec<(&str, f64)> = if r.peers.is_empty() {
            vec![("", f64::NAN)]
        } else {
            r.peers.clone()
        };
        for (who, p) in peers {
            writeln!(
                file,
                "{},{},{},{:.3},{},{},{},{},{},{}",
                r.name,
                quote(r.what),
                r.unit,
                r.ours,
                who,
                if p.is_nan() {
                    String::new()
                } else {
                    format!("{p:.3}")
                },
                if p.is_nan() {
                    String::new()
                } else {
                    format!("{:.3}", r.ours / p)
                },
                quote(&r.target_text()),
                r.met(),
                quote(&r.note)
            )?;
        }
    }
    Ok(())
}
