//! Requirements read from the problem's free text.
//!
//! Each rule is a regular expression over the lower-cased text; what it matched is
//! kept as the requirement's origin so a user can see why it was found.

use std::sync::LazyLock;

use regex::{Captures, Regex};

use crate::{fmt_num, Kind, Requirement};

const NUM: &str = r"(\d+(?:\.\d+)?)";
const BOUND: &str = r"(?:under|below|less than|lower than|within|at most|no more than|not more than|up to|max(?:imum)?(?: of)?|faster than|<=?|≤)";

struct Rule {
    kind: Kind,
    re: Regex,
    make: fn(&Captures<'_>) -> Option<f64>,
}

fn rule(kind: Kind, pattern: &str, make: fn(&Captures<'_>) -> Option<f64>) -> Option<Rule> {
    // The patterns are constants of this file; a test compiles every one.
    Regex::new(pattern).ok().map(|re| Rule { kind, re, make })
}

fn num(c: &Captures<'_>, i: usize) -> Option<f64> {
    c.get(i)?.as_str().parse().ok()
}

fn to_ms(value: f64, unit: &str) -> f64 {
    if unit.starts_with('µ') || unit.starts_with("us") || unit.starts_with("micro") {
        value / 1000.0
    } else if unit.starts_with("ms") || unit.starts_with("milli") {
        value
    } else {
        value * 1000.0
    }
}

fn to_mb(value: f64, unit: &str) -> f64 {
    match unit.chars().next() {
        Some('k') => value / 1024.0,
        Some('g') => value * 1024.0,
        _ => value,
    }
}

fn to_w(value: f64, unit: &str) -> f64 {
    if unit.starts_with("mw") || unit.starts_with("milli") {
        value / 1000.0
    } else {
        value
    }
}

fn percent(value: f64, pct: bool) -> Option<f64> {
    let v = if pct || value > 1.0 {
        value / 100.0
    } else {
        value
    };
    (0.0..=1.0).contains(&v).then_some(v)
}

const TIME_UNIT: &str = r"(ms|msec|milliseconds?|µs|us|microseconds?|s|secs?|seconds?)\b";
const MEM_UNIT: &str = r"(kb|kib|kilobytes?|mb|mib|megabytes?|gb|gib|gigabytes?)\b";

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    [
        rule(
            Kind::Latency,
            &format!(r"{BOUND}\s*{NUM}\s*{TIME_UNIT}"),
            |c| Some(to_ms(num(c, 1)?, c.get(2)?.as_str())),
        ),
        rule(
            Kind::Latency,
            &format!(r"(?:latency|response time|inference time)[^.\d]{{0,25}}?{NUM}\s*{TIME_UNIT}"),
            |c| Some(to_ms(num(c, 1)?, c.get(2)?.as_str())),
        ),
        rule(
            Kind::Fps,
            &format!(
                r"{NUM}\s*(?:fps|frames?\s*(?:per|/)\s*s(?:ec(?:ond)?)?|images?\s*per\s*second)\b"
            ),
            |c| num(c, 1),
        ),
        rule(
            Kind::Accuracy,
            &format!(r"{NUM}\s*(%|percent)?\s*(?:top-1\s*)?(?:accuracy|accurate)\b"),
            |c| percent(num(c, 1)?, c.get(2).is_some()),
        ),
        rule(
            Kind::Accuracy,
            &format!(r"accura(?:cy|te)[^.\d]{{0,25}}?{NUM}\s*(%|percent)?"),
            |c| percent(num(c, 1)?, c.get(2).is_some()),
        ),
        rule(
            Kind::Memory,
            &format!(r"{BOUND}\s*{NUM}\s*{MEM_UNIT}"),
            |c| Some(to_mb(num(c, 1)?, c.get(2)?.as_str())),
        ),
        rule(
            Kind::Memory,
            &format!(r"{NUM}\s*{MEM_UNIT}\s*(?:of\s+)?(?:ram|memory|flash)"),
            |c| Some(to_mb(num(c, 1)?, c.get(2)?.as_str())),
        ),
        rule(
            Kind::Power,
            &format!(r"{BOUND}\s*{NUM}\s*(mw|milliwatts?|w|watts?)\b"),
            |c| Some(to_w(num(c, 1)?, c.get(2)?.as_str())),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
});

static BUDGET: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:budget|cost|costs|price|spend|{BOUND})[^.\d$€£]{{0,20}}?([$€£])?\s*{NUM}\s*(k\b)?\s*(usd|eur|gbp|dollars?|euros?|pounds?)?"
    ))
    .ok()
});

/// Flags: a kind and the patterns that set it.
const FLAGS: &[(Kind, &str)] = &[
    (Kind::RealTime, r"\breal[- ]?time\b"),
    (
        Kind::OnDevice,
        r"\bon[- ](?:the[- ])?device\b|\bedge devices?\b|\bat the edge\b|\bembedded\b|\bmicrocontrollers?\b|\bmcus?\b|\boffline\b|\blocally\b|\bsmartphones?\b|\bmobile phones?\b|\braspberry pi\b",
    ),
    (
        Kind::Privacy,
        r"\bprivacy\b|\bprivate data\b|\bgdpr\b|\bpersonal data\b|\bconfidential\b|\bsensitive data\b|\bhipaa\b|\banonymi[sz]",
    ),
    (
        Kind::Streaming,
        r"\bstream(?:s|ing|ed)?\b|\blive\b|\bcontinuous(?:ly)?\b",
    ),
    (
        Kind::Batch,
        r"\bbatch (?:processing|jobs?|mode|inference)\b|\bin batches\b|\bnightly\b|\bovernight\b|\boffline processing\b",
    ),
];

static FLAG_RES: LazyLock<Vec<(Kind, Regex)>> = LazyLock::new(|| {
    FLAGS
        .iter()
        .filter_map(|(k, p)| Regex::new(p).ok().map(|re| (*k, re)))
        .collect()
});

/// Whether every built-in pattern compiled (checked by a test).
#[cfg(test)]
pub fn patterns_compile() -> bool {
    RULES.len() == 8 && BUDGET.is_some() && FLAG_RES.len() == FLAGS.len()
}

/// Every requirement found in `text`, in text order (several of a kind may appear).
pub fn scan(text: &str) -> Vec<(usize, Requirement)> {
    let lower = text.to_lowercase();
    let mut found = Vec::new();
    for r in RULES.iter() {
        for c in r.re.captures_iter(&lower) {
            if let (Some(v), Some(m)) = ((r.make)(&c), c.get(0)) {
                found.push((
                    m.start(),
                    Requirement::measured(r.kind, v, "", quote(m.as_str())),
                ));
            }
        }
    }
    if let Some(re) = BUDGET.as_ref() {
        for c in re.captures_iter(&lower) {
            let currency = match (c.get(1), c.get(4)) {
                (Some(sym), _) => currency_code(sym.as_str()),
                (None, Some(word)) => currency_code(word.as_str()),
                (None, None) => continue,
            };
            let (Some(v), Some(m)) = (num(&c, 2), c.get(0)) else {
                continue;
            };
            let v = if c.get(3).is_some() { v * 1000.0 } else { v };
            found.push((
                m.start(),
                Requirement::measured(Kind::Budget, v, currency, quote(m.as_str())),
            ));
        }
    }
    for (kind, re) in FLAG_RES.iter() {
        if let Some(m) = re.find(&lower) {
            found.push((m.start(), Requirement::flag(*kind, quote(m.as_str()))));
        }
    }
    found.sort_by_key(|(pos, _)| *pos);
    found
}

fn quote(s: &str) -> String {
    format!("text {:?}", s.trim())
}

/// ISO 4217 code of a currency symbol or word.
pub fn currency_code(s: &str) -> &'static str {
    match s {
        "$" | "usd" | "dollar" | "dollars" => "USD",
        "€" | "eur" | "euro" | "euros" => "EUR",
        "£" | "gbp" | "pound" | "pounds" => "GBP",
        _ => "",
    }
}

/// The text form of a numeric requirement, e.g. `latency<=50ms`.
pub fn render(kind: Kind, value: f64, unit: &str) -> String {
    let (op, default_unit) = kind.op_and_unit();
    let unit = if unit.is_empty() { default_unit } else { unit };
    format!("{}{op}{}{unit}", kind.name(), fmt_num(value))
}
