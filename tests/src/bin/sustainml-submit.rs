//! sustainml-submit: publishes one problem (task {1,1}, with the empty baselines of a
//! first iteration) and prints each node's output for it as JSON, once the carbon
//! footprint has arrived. A stand-in for the orchestrator's `submit` until it lands;
//! `scripts/demo` uses it. Run inside `scripts/isolated`.
//!
//! The problem file is JSON with UserInputImpl's fields (all optional) and
//! `extra_data` as a JSON object.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde_json::{json, Value};
use sustainml_dds::{logging, Participant};
use sustainml_types::topics::{self, TopicInfo};
use sustainml_types::*;
use tokio::sync::mpsc;

#[derive(Parser)]
#[command(about = "Publish one problem and print the six outputs for it")]
struct Cli {
    /// The problem, as JSON.
    problem: PathBuf,
    /// Seconds to wait for the carbon footprint.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
}

fn user_input(v: &Value) -> Result<UserInputImpl> {
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let list = |k: &str| -> Vec<String> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let extra = match v.get("extra_data") {
        None | Some(Value::Null) => Vec::new(),
        Some(e @ Value::Object(_)) => e.to_string().into_bytes(),
        Some(other) => bail!("extra_data must be a JSON object, not {other}"),
    };
    Ok(UserInputImpl {
        modality: text("modality"),
        problem_short_description: text("problem_short_description"),
        problem_definition: text("problem_definition"),
        inputs: list("inputs"),
        outputs: list("outputs"),
        geo_location_continent: text("geo_location_continent"),
        geo_location_region: text("geo_location_region"),
        extra_data: extra,
        task_id: TaskIdImpl::new(1, 1),
        ..UserInputImpl::default()
    })
}

/// An output as JSON: extra_data parsed when it is JSON, raw_model as its size.
fn readable<T: serde::Serialize>(value: &T) -> Value {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Some(obj) = v.as_object_mut() {
        if let Some(Value::Array(bytes)) = obj.get("extra_data") {
            let raw: Vec<u8> = bytes
                .iter()
                .filter_map(|b| b.as_u64().map(|b| b as u8))
                .collect();
            let parsed = serde_json::from_slice(&raw)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into_owned()));
            obj.insert("extra_data".into(), parsed);
        }
        if let Some(Value::Array(bytes)) = obj.get("raw_model") {
            let size = bytes.len();
            obj.insert("raw_model".into(), json!(format!("{size} bytes")));
        }
    }
    v
}

async fn watch<T: TaskData + serde::Serialize>(
    participant: Participant,
    topic: TopicInfo,
    out: mpsc::UnboundedSender<(&'static str, Value, bool)>,
) -> Result<()> {
    let mut sub = participant.subscriber::<T>(topic)?;
    loop {
        let got = sub.recv().await?;
        if got.value.task_id() == TaskIdImpl::new(1, 1) {
            let last = topic.name == topics::CARBON_FOOTPRINT_OUTPUT.name;
            if out.send((topic.name, readable(&got.value), last)).is_err() {
                return Ok(());
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    logging::init(None);
    let cli = Cli::parse();
    let text = std::fs::read_to_string(&cli.problem)
        .with_context(|| format!("reading {}", cli.problem.display()))?;
    let problem: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", cli.problem.display()))?;
    let input = user_input(&problem).with_context(|| cli.problem.display().to_string())?;
    let participant = Participant::builder().name("SUBMIT").build()?;

    let (tx, mut rx) = mpsc::unbounded_channel();
    let p = &participant;
    tokio::spawn(watch::<MLModelMetadataImpl>(
        p.clone(),
        topics::ML_MODEL_METADATA_OUTPUT,
        tx.clone(),
    ));
    tokio::spawn(watch::<AppRequirementsImpl>(
        p.clone(),
        topics::APP_REQUIREMENTS_OUTPUT,
        tx.clone(),
    ));
    tokio::spawn(watch::<HWConstraintsImpl>(
        p.clone(),
        topics::HW_CONSTRAINTS_OUTPUT,
        tx.clone(),
    ));
    tokio::spawn(watch::<MLModelImpl>(
        p.clone(),
        topics::ML_MODEL_OUTPUT,
        tx.clone(),
    ));
    tokio::spawn(watch::<HWResourceImpl>(
        p.clone(),
        topics::HW_RESOURCES_OUTPUT,
        tx.clone(),
    ));
    tokio::spawn(watch::<CO2FootprintImpl>(
        p.clone(),
        topics::CARBON_FOOTPRINT_OUTPUT,
        tx,
    ));

    let users = participant.publisher::<UserInputImpl>(topics::USER_INPUT)?;
    let models = participant.publisher::<MLModelImpl>(topics::ML_MODEL_BASELINE)?;
    let hws = participant.publisher::<HWResourceImpl>(topics::HW_RESOURCES_BASELINE)?;
    let co2s = participant.publisher::<CO2FootprintImpl>(topics::CARBON_FOOTPRINT_BASELINE)?;
    let wait = Duration::from_secs(cli.timeout);
    // The nodes must be up: the user input has four readers, each baseline one.
    users
        .wait_for_readers(4, wait)
        .await
        .context("waiting for the four nodes that read the user input")?;
    models
        .wait_for_readers(1, wait)
        .await
        .context("waiting for ML_MODEL_NODE")?;
    hws.wait_for_readers(1, wait).await?;
    co2s.wait_for_readers(1, wait).await?;
    let first = TaskIdImpl::new(1, 1);
    let mut model = MLModelImpl::default();
    model.set_task_id(first);
    let mut hw = HWResourceImpl::default();
    hw.set_task_id(first);
    let mut co2 = CO2FootprintImpl::default();
    co2.set_task_id(first);
    users.write(input).await?;
    models.write(model).await?;
    hws.write(hw).await?;
    co2s.write(co2).await?;

    let mut outputs = serde_json::Map::new();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((name, value, last))) => {
                outputs.insert(name.to_owned(), value);
                if last {
                    break;
                }
            }
            _ => bail!(
                "no carbon footprint for task 1.1 within {wait:?}; outputs so far: {}",
                Value::Object(outputs)
            ),
        }
    }
    // Outputs published just before the carbon footprint may still be on their way.
    while let Ok(Some((name, value, _))) =
        tokio::time::timeout(Duration::from_millis(500), rx.recv()).await
    {
        outputs.insert(name.to_owned(), value);
    }
    println!("{}", serde_json::to_string_pretty(&Value::Object(outputs))?);
    Ok(())
}
