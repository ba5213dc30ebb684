//! `sustainml topic list | echo`: the topics with the writers and readers discovery
//! sees on the domain, and decoded samples of one topic.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::{json, Map, Value};
use sustainml_dds::{EndpointKind, Participant};
use sustainml_types::topics::{self, TopicInfo, TOPICS};
use sustainml_types::*;

use crate::UsageError;

/// [`sustainml_types::with_topic_type`], failing on a type the table does not have.
macro_rules! with_type {
    ($topic:expr, $T:ident => $body:expr) => {
        sustainml_types::with_topic_type!($topic, $T => $body, other => bail!("no Rust type for DDS type {other}"))
    };
}

/// What discovery says about one topic.
#[derive(Debug, Default)]
struct Seen {
    /// The type names announced for it.
    types: BTreeSet<String>,
    writers: usize,
    readers: usize,
}

/// Listens for `wait` and prints every SustainML topic (name, type, remote writers
/// and readers discovered on the domain), then any other topic discovery saw; one
/// line each, or one JSON object per line.
pub async fn list(participant: &Participant, wait: Duration, as_json: bool) -> Result<()> {
    tokio::time::sleep(wait).await;
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    for e in participant.discovered_endpoints() {
        let topic = seen.entry(e.topic).or_default();
        topic.types.insert(e.type_name);
        match e.kind {
            EndpointKind::Writer => topic.writers += 1,
            _ => topic.readers += 1,
        }
    }
    let mut rows: Vec<(String, String, Seen, bool)> = TOPICS
        .iter()
        .map(|t| {
            let s = seen.remove(t.name).unwrap_or_default();
            (t.name.to_owned(), t.type_name.to_owned(), s, true)
        })
        .collect();
    rows.extend(seen.into_iter().map(|(name, s)| {
        let ty = s.types.iter().next().cloned().unwrap_or_default();
        (name, ty, s, false)
    }));
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let type_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    for (name, ty, s, sustainml) in &rows {
        let others: Vec<&str> = s
            .types
            .iter()
            .map(String::as_str)
            .filter(|t| t != ty)
            .collect();
        if as_json {
            println!(
                "{}",
                json!({
                    "topic": name,
                    "type": ty,
                    "writers": s.writers,
                    "readers": s.readers,
                    "sustainml": sustainml,
                    "other_types": others,
                })
            );
            continue;
        }
        let mut line = format!(
            "{name:width$}  {ty:type_width$}  {:>3} {:<7}  {:>3} {}",
            s.writers,
            plural(s.writers, "writer"),
            s.readers,
            plural(s.readers, "reader"),
        );
        if !others.is_empty() {
            line.push_str(&format!("  (also announced as {})", others.join(", ")));
        }
        if !sustainml {
            line.push_str("  (not a SustainML topic)");
        }
        println!("{line}");
    }
    Ok(())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// The topic called `name`, or a usage error listing the known ones.
pub fn find(name: &str) -> Result<TopicInfo> {
    topics::by_name(name).ok_or_else(|| {
        let known: Vec<_> = TOPICS.iter().map(|t| t.name).collect();
        UsageError(format!(
            "unknown topic `{name}`; known topics: {}",
            known.join(", ")
        ))
        .into()
    })
}

/// The topic called `name`: one of the table's, or, with `type_name`, a topic of a
/// node's own carrying one of the table's types.
pub fn find_typed(name: &str, type_name: Option<&str>) -> Result<TopicInfo> {
    let Some(wanted) = type_name else {
        return find(name);
    };
    let types: BTreeSet<&'static str> = TOPICS.iter().map(|t| t.type_name).collect();
    let Some(ty) = types.iter().copied().find(|t| *t == wanted) else {
        return Err(UsageError(format!(
            "unknown type `{wanted}`; known types: {}",
            types.into_iter().collect::<Vec<_>>().join(", ")
        ))
        .into());
    };
    match topics::by_name(name) {
        Some(known) if known.type_name == ty => Ok(known),
        Some(known) => Err(UsageError(format!(
            "topic `{name}` carries {}, not {ty}",
            known.type_name
        ))
        .into()),
        // The command runs once: its topic name may live as long as the process.
        None => Ok(TopicInfo {
            name: Box::leak(name.to_owned().into_boxed_str()),
            type_name: ty,
        }),
    }
}

/// What `echo` does.
#[derive(Debug, Clone, Copy)]
pub struct EchoOptions {
    /// One compact JSON object per line.
    pub json: bool,
    /// Stop after this many samples.
    pub count: Option<u64>,
    /// Stop after this long.
    pub timeout: Option<Duration>,
}

/// Subscribes to `topic` and prints each sample until `count`, `timeout` or Ctrl-C.
/// Fewer than `count` samples by the timeout is an error.
pub async fn echo(participant: &Participant, topic: TopicInfo, opts: EchoOptions) -> Result<()> {
    with_type!(topic, T => echo_typed::<T>(participant, topic, opts).await)
}

async fn echo_typed<T: WireType>(
    participant: &Participant,
    topic: TopicInfo,
    opts: EchoOptions,
) -> Result<()> {
    let mut sub = participant
        .subscriber::<T>(topic)
        .with_context(|| format!("subscribing to {}", topic.name))?;
    let deadline = opts.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut seen = 0u64;
    while opts.count.is_none_or(|c| seen < c) {
        let next = async {
            match deadline {
                Some(d) => tokio::time::timeout_at(d, sub.recv()).await.ok(),
                None => Some(sub.recv().await),
            }
        };
        let got = tokio::select! {
            got = next => got,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(received) = got else {
            return match opts.count {
                Some(c) => bail!(
                    "received {seen} of {c} sample(s) on {} before the timeout",
                    topic.name
                ),
                None => Ok(()),
            };
        };
        let received = received.with_context(|| format!("reading {}", topic.name))?;
        let value = to_json(&received.value)?;
        if opts.json {
            println!("{value}");
        } else {
            println!("--- {} from {}", topic.name, received.writer);
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        seen += 1;
    }
    // Leave as a reader (an SEDP dispose) rather than just exit: a writer waiting
    // for our acknowledgment of the last sample then stops waiting for us.
    sub.close().await;
    Ok(())
}

/// A sample as JSON: enums by their IDL names, `extra_data` parsed when it holds JSON
/// (else as text, else as its size), `raw_model` as its size.
pub fn to_json<T: Serialize>(value: &T) -> Result<Value> {
    let mut v = serde_json::to_value(value).context("converting a sample to JSON")?;
    tidy(&mut v);
    Ok(v)
}

fn tidy(v: &mut Value) {
    let Value::Object(map) = v else { return };
    for (key, field) in map.iter_mut() {
        match key.as_str() {
            "extra_data" => *field = extra_data(field),
            "raw_model" => *field = json!({ "size": bytes(field).len() }),
            "node_status" => enum_name(field, Status::from_index),
            "task_status" => enum_name(field, TaskStatus::from_index),
            "error_code" => enum_name(field, ErrorCode::from_index),
            "cmd_node" => enum_name(field, CmdNode::from_index),
            "cmd_task" => enum_name(field, CmdTask::from_index),
            _ => tidy(field),
        }
    }
}

fn bytes(v: &Value) -> Vec<u8> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect()
        })
        .unwrap_or_default()
}

fn extra_data(v: &Value) -> Value {
    let raw = bytes(v);
    if raw.is_empty() {
        return Value::String(String::new());
    }
    match std::str::from_utf8(&raw) {
        Ok(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into())),
        Err(_) => Value::Object(Map::from_iter([("size".into(), json!(raw.len()))])),
    }
}

fn enum_name<E: std::fmt::Display>(v: &mut Value, from: fn(u32) -> Option<E>) {
    let name = v
        .as_u64()
        .and_then(|i| u32::try_from(i).ok())
        .and_then(from)
        .map(|e| e.to_string());
    if let Some(name) = name {
        *v = Value::String(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shows_names_parsed_extra_data_and_model_size() {
        let model = MLModelImpl {
            raw_model: vec![0; 1000],
            extra_data: br#"{"a": 1}"#.to_vec(),
            ..Default::default()
        };
        let v = to_json(&model).expect("json");
        assert_eq!(v["raw_model"], json!({"size": 1000}));
        assert_eq!(v["extra_data"], json!({"a": 1}));
        let status = NodeStatusImpl::default();
        let v = to_json(&status).expect("json");
        assert_eq!(v["node_status"], json!(Status::default().to_string()));
    }
}
