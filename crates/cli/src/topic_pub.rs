//! `sustainml topic pub TOPIC JSON`: publishes one sample, given as JSON, with the
//! QoS the topic's own writers use, once a reader is matched, and returns once the
//! readers have acknowledged it.
//!
//! The JSON is an object of the topic type's fields; fields left out keep their
//! default (0, "", empty), a field the type does not have is an error. It reads as
//! `topic echo --json` prints: enums by IDL name (`"NODE_IDLE"`) or number,
//! `extra_data` as text or as a JSON value (sent as its JSON text), byte sequences as
//! arrays of numbers.

use std::io::Read;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sustainml_dds::{qos, Participant};
use sustainml_types::topics::{self, TopicInfo};
use sustainml_types::*;
use tokio::time::Instant;

use crate::UsageError;

/// The sample text: the argument, or stdin for `-`.
pub fn read_json(arg: String) -> Result<String> {
    if arg != "-" {
        return Ok(arg);
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| UsageError(format!("cannot read the sample from stdin: {e}")))?;
    Ok(text)
}

/// `text` as a `T`: a usage error naming the line and column of bad JSON, or the
/// field that is unknown or of the wrong type.
pub fn parse<T: Default + serde::Serialize + DeserializeOwned>(
    text: &str,
    type_name: &str,
) -> Result<T, UsageError> {
    let given: Value = serde_json::from_str(text)
        .map_err(|e| UsageError(format!("the sample is not valid JSON: {e}")))?;
    let Value::Object(given) = given else {
        return Err(UsageError(format!(
            "the sample must be a JSON object of {type_name}'s fields"
        )));
    };
    let defaults = match serde_json::to_value(T::default()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let mut merged = defaults.clone();
    for (key, value) in given {
        let Some(default) = defaults.get(&key) else {
            let fields: Vec<&str> = defaults.keys().map(String::as_str).collect();
            return Err(UsageError(format!(
                "{type_name} has no field `{key}`; its fields are: {}",
                fields.join(", ")
            )));
        };
        let value =
            wire_form(&key, value, default).map_err(|e| field_error(type_name, &key, &e))?;
        // Each field on its own, so that a type error names its field.
        let mut alone = defaults.clone();
        alone.insert(key.clone(), value.clone());
        serde_json::from_value::<T>(Value::Object(alone))
            .map_err(|e| field_error(type_name, &key, &e))?;
        merged.insert(key, value);
    }
    serde_json::from_value(Value::Object(merged))
        .map_err(|e| UsageError(format!("the sample is not a {type_name}: {e}")))
}

fn field_error(type_name: &str, field: &str, e: &dyn std::fmt::Display) -> UsageError {
    UsageError(format!("{type_name}.{field}: {e}"))
}

/// A field's value as serde expects it: enum names as their index, `extra_data`
/// given as JSON as its text, `task_id` completed with defaults.
fn wire_form(key: &str, value: Value, default: &Value) -> Result<Value> {
    let index = |name: &str, lookup: fn(&str) -> Option<u32>, idl: &str| {
        lookup(name)
            .map(Value::from)
            .ok_or_else(|| anyhow!("`{name}` is not a {idl} enumerator"))
    };
    Ok(match (key, value) {
        ("node_status", Value::String(s)) => index(
            &s,
            |n| Status::from_idl_name(n).map(Status::index),
            "Status",
        )?,
        ("task_status", Value::String(s)) => index(
            &s,
            |n| TaskStatus::from_idl_name(n).map(TaskStatus::index),
            "TaskStatus",
        )?,
        ("error_code" | "err_code", Value::String(s)) => index(
            &s,
            |n| ErrorCode::from_idl_name(n).map(ErrorCode::index),
            "ErrorCode",
        )?,
        ("cmd_node", Value::String(s)) => index(
            &s,
            |n| CmdNode::from_idl_name(n).map(CmdNode::index),
            "CmdNode",
        )?,
        ("cmd_task", Value::String(s)) => index(
            &s,
            |n| CmdTask::from_idl_name(n).map(CmdTask::index),
            "CmdTask",
        )?,
        ("extra_data", v @ (Value::Object(_) | Value::Bool(_) | Value::Number(_))) => {
            Value::String(v.to_string())
        }
        (_, Value::Object(given)) => match default {
            Value::Object(defaults) => {
                let mut merged = defaults.clone();
                for (k, v) in given {
                    if !defaults.contains_key(&k) {
                        bail!("no field `{k}` (it has {})", keys(defaults));
                    }
                    merged.insert(k, v);
                }
                Value::Object(merged)
            }
            _ => Value::Object(given),
        },
        (_, v) => v,
    })
}

fn keys(map: &Map<String, Value>) -> String {
    map.keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `text` as a sample of `topic`'s type (a usage error if it does not fit).
/// Checked before any DDS participant is opened.
pub fn check(topic: TopicInfo, text: &str) -> Result<()> {
    sustainml_types::with_topic_type!(
        topic,
        T => parse::<T>(text, T::TYPE_NAME).map(drop).map_err(Into::into),
        other => bail!("no Rust type for DDS type {other}")
    )
}

/// Publishes `text` as one sample of `topic` once a reader is matched (within
/// `wait`), waits for the readers' acknowledgments and prints what went out.
pub async fn publish(
    participant: &Participant,
    topic: TopicInfo,
    text: &str,
    wait: Duration,
) -> Result<()> {
    sustainml_types::with_topic_type!(
        topic,
        T => publish_typed::<T>(participant, topic, parse::<T>(text, T::TYPE_NAME)?, wait).await,
        other => bail!("no Rust type for DDS type {other}")
    )
}

async fn publish_typed<T: WireType>(
    participant: &Participant,
    topic: TopicInfo,
    value: T,
    wait: Duration,
) -> Result<()> {
    let deadline = Instant::now() + wait;
    // The QoS the topic's own writers use: commands are volatile, requests keep one
    // sample, everything else has the SustainML writer QoS.
    let publisher = if topic == topics::CONTROL {
        participant.publisher_with_qos::<T>(topic, qos::commands())
    } else if topic == topics::REQUEST {
        participant.publisher_with_qos::<T>(topic, qos::writer_with_depth(1))
    } else {
        participant.publisher::<T>(topic)
    }
    .with_context(|| format!("opening a writer on {}", topic.name))?;
    if publisher.wait_for_readers(1, wait).await.is_err() {
        bail!(
            "no reader of {} matched within {} s on DDS domain {}; nothing published",
            topic.name,
            wait.as_secs_f64(),
            participant.domain()
        );
    }
    let shown = crate::topic::to_json(&value)?;
    publisher
        .write(value)
        .await
        .with_context(|| format!("writing on {}", topic.name))?;
    let left = deadline.saturating_duration_since(Instant::now());
    let readers = publisher.matched_readers();
    if !publisher
        .wait_for_acknowledgments(left)
        .await
        .with_context(|| format!("waiting for acknowledgments on {}", topic.name))?
    {
        bail!(
            "published on {}, but not every reader acknowledged it within {} s",
            topic.name,
            wait.as_secs_f64()
        );
    }
    println!(
        "published on {} ({readers} {} acknowledged):",
        topic.name,
        if readers == 1 { "reader" } else { "readers" }
    );
    println!("{}", serde_json::to_string_pretty(&shown)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_left_out_keep_their_default_and_enums_read_by_name() {
        let s: NodeStatusImpl = parse(
            r#"{"node_name": "X", "node_status": "NODE_RUNNING", "task_id": {"problem_id": 3}}"#,
            "NodeStatusImpl",
        )
        .expect("parses");
        assert_eq!(s.node_name, "X");
        assert_eq!(s.node_status, Status::Running);
        assert_eq!(s.task_id, TaskIdImpl::new(3, 0));
        let u: UserInputImpl =
            parse(r#"{"extra_data": {"a": 1}}"#, "UserInputImpl").expect("parses");
        assert_eq!(u.extra_data, br#"{"a":1}"#.to_vec());
    }

    #[test]
    fn bad_samples_name_the_problem() {
        let e = parse::<UserInputImpl>("{\"modality\": ", "UserInputImpl").expect_err("bad");
        assert!(e.0.contains("line 1 column"), "{e}");
        let e = parse::<UserInputImpl>(r#"{"modalty": "x"}"#, "UserInputImpl").expect_err("bad");
        assert!(e.0.contains("`modalty`") && e.0.contains("modality"), "{e}");
        let e = parse::<UserInputImpl>(r#"{"minimum_samples": "many"}"#, "UserInputImpl")
            .expect_err("bad");
        assert!(e.0.contains("UserInputImpl.minimum_samples"), "{e}");
        let e = parse::<NodeStatusImpl>(r#"{"node_status": "NODE_NAPPING"}"#, "NodeStatusImpl")
            .expect_err("bad");
        assert!(e.0.contains("NODE_NAPPING"), "{e}");
        assert!(parse::<UserInputImpl>("[1]", "UserInputImpl").is_err());
    }
}
