//! Protects the whole graph with the real module nodes, each its own process: an
//! image, a text and an audio problem on the CPU each get a model whose graph is
//! measured on this CPU; a device we do not have is estimated from that measurement;
//! an input period lowers the power of a streaming problem; carbon figures recompute
//! from the shipped tables; and a second iteration with baselines proposes a model
//! with a lower footprint.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use sustainml_tests::{
    assert_isolated, decode_lines, graph_round, sample_line, temp_file, workspace_bin, Peer,
};
use sustainml_types::topics::{self, TopicInfo};
use sustainml_types::*;

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");
const DOMAIN: u16 = 110;
const NODES: [&str; 6] = [
    "sustainml-app-requirements",
    "sustainml-hw-constraints",
    "sustainml-ml-model-metadata",
    "sustainml-ml-model",
    "sustainml-hw-resources",
    "sustainml-carbon-footprint",
];
const OUTPUTS: [TopicInfo; 4] = [
    topics::ML_MODEL_METADATA_OUTPUT,
    topics::ML_MODEL_OUTPUT,
    topics::HW_RESOURCES_OUTPUT,
    topics::CARBON_FOOTPRINT_OUTPUT,
];

fn problem(
    modality: &str,
    short: &str,
    definition: &str,
    continent: &str,
    region: &str,
    extra: &str,
) -> UserInputImpl {
    UserInputImpl {
        modality: modality.into(),
        problem_short_description: short.into(),
        problem_definition: definition.into(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        geo_location_continent: continent.into(),
        geo_location_region: region.into(),
        extra_data: extra.as_bytes().to_vec(),
        ..samples::user_input()
    }
}

fn problems() -> [UserInputImpl; 5] {
    [
        problem(
            "image",
            "Classify products on a conveyor from a camera",
            "Sort photos of manufactured parts into ten product classes.",
            "Europe",
            "France",
            r#"{"hardware_required":"CPU","num_inferences":1000}"#,
        ),
        problem(
            "text",
            "Classify support tickets by topic",
            "Route customer support ticket text to the right team (sentiment and topic labels).",
            "Europe",
            "gcp:europe-west1",
            r#"{"hardware_required":"PIM_AI_1chip","num_inferences":1000}"#,
        ),
        problem(
            "audio",
            "Keyword spotting of spoken commands",
            "Detect a dozen spoken keywords such as yes, no, up and down in short audio clips.",
            "Europe",
            "Germany",
            r#"{"hardware_required":"CPU","max_memory_footprint":16,"num_inferences":1000}"#,
        ),
        problem(
            "text",
            "Classify support tickets by topic",
            "Route customer support ticket text to the right team (sentiment and topic labels).",
            "Europe",
            "France",
            r#"{"hardware_required":"CPU","num_inferences":1000}"#,
        ),
        // The keyword spotter as a stream: one clip every second.
        problem(
            "audio",
            "Keyword spotting of spoken commands",
            "Detect a dozen spoken keywords such as yes, no, up and down in short audio clips.",
            "Europe",
            "Germany",
            r#"{"hardware_required":"CPU","max_memory_footprint":16,"num_inferences":1000,"input_period_ms":1000}"#,
        ),
    ]
}

/// Runs one round: publishes `lines`, returns what arrived on the outputs once each has
/// `expect` distinct samples.
fn round(lines: &[String], expect: u32, tag: &str, nodes: &[Peer]) -> Vec<String> {
    let names: Vec<&str> = OUTPUTS.iter().map(|t| t.name).collect();
    graph_round(Path::new(PEER), DOMAIN, &names, expect, lines, tag, nodes)
}

fn by_task<T: TaskData + Clone>(lines: &[String], topic: TopicInfo) -> HashMap<TaskIdImpl, T> {
    decode_lines::<T>(lines, topic)
        .into_iter()
        .map(|v| (v.task_id(), v))
        .collect()
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("extra_data JSON")
}

/// Carbon intensity (gCO2e/kWh) of `key` in the shipped table.
fn intensity(key: &str) -> f64 {
    let path =
        sustainml_tests::repo_root().join("nodes/carbon_footprint/data/carbon_intensity.csv");
    let text = std::fs::read_to_string(path).expect("carbon table");
    text.lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f.get(1) == Some(&key))
        .and_then(|f| f.get(4)?.parse().ok())
        .unwrap_or_else(|| panic!("no row {key} in the carbon table"))
}

fn check_carbon(co2: &CO2FootprintImpl, hw: &HWResourceImpl, row: &str) {
    let kwh = match json(&hw.extra_data)["simulation"]["energy_j_per_frame"].as_f64() {
        // A streaming problem: a whole input period per inference.
        Some(joules) => joules * 1000.0 / 3.6e6,
        None => hw.power_consumption * hw.latency * 1000.0 / 3.6e9,
    };
    let g = intensity(row);
    assert!(
        (co2.energy_consumption - kwh).abs() <= 1e-9 * kwh,
        "energy {co2:?} vs {kwh}"
    );
    assert!(
        (co2.carbon_intensity - g).abs() < 1e-9,
        "intensity {} vs {g}",
        co2.carbon_intensity
    );
    let kg = kwh * g / 1000.0;
    assert!(
        (co2.carbon_footprint - kg).abs() <= 1e-9 * kg,
        "footprint {co2:?} vs {kg}"
    );
}

#[test]
fn three_problems_become_three_models_and_a_second_iteration_lowers_the_footprint() {
    assert_isolated();
    let nodes: Vec<Peer> = NODES
        .iter()
        .map(|n| Peer::spawn(n, &workspace_bin(n), &[], DOMAIN, &[]))
        .collect();

    // Iteration 1 of problems 1..=3, with the empty baselines the orchestrator sends.
    let mut lines = Vec::new();
    for (i, p) in problems().into_iter().enumerate() {
        let id = i as u32 + 1;
        lines.push(sample_line(topics::USER_INPUT, p, id, 1));
        lines.push(sample_line(
            topics::ML_MODEL_BASELINE,
            MLModelImpl::default(),
            id,
            1,
        ));
        lines.push(sample_line(
            topics::HW_RESOURCES_BASELINE,
            HWResourceImpl::default(),
            id,
            1,
        ));
        lines.push(sample_line(
            topics::CARBON_FOOTPRINT_BASELINE,
            CO2FootprintImpl::default(),
            id,
            1,
        ));
    }
    let out = round(&lines, 5, "iteration-1", &nodes);
    let meta: HashMap<_, MLModelMetadataImpl> = by_task(&out, topics::ML_MODEL_METADATA_OUTPUT);
    let models: HashMap<_, MLModelImpl> = by_task(&out, topics::ML_MODEL_OUTPUT);
    let hws: HashMap<_, HWResourceImpl> = by_task(&out, topics::HW_RESOURCES_OUTPUT);
    let co2s: HashMap<_, CO2FootprintImpl> = by_task(&out, topics::CARBON_FOOTPRINT_OUTPUT);
    let t = |p| TaskIdImpl::new(p, 1);

    let goals: Vec<&str> = (1..=5)
        .map(|p| meta[&t(p)].ml_model_metadata[0].as_str())
        .collect();
    assert_eq!(
        goals,
        [
            "image-classification",
            "text-classification",
            "audio-classification",
            "text-classification",
            "audio-classification"
        ]
    );
    let names: Vec<&str> = (1..=5).map(|p| models[&t(p)].model.as_str()).collect();
    assert_eq!(
        names,
        [
            "efficientnet_b0",
            "tinybert-4l-312d",
            "ds_cnn_m",
            "tinybert-4l-312d",
            "ds_cnn_m"
        ],
        "{models:#?}"
    );
    // Image, text and audio on the CPU: each graph travels with its model and is
    // measured here.
    for p in [1, 3, 4, 5] {
        assert!(!models[&t(p)].raw_model.is_empty(), "problem {p}: no graph");
        assert_eq!(hws[&t(p)].hw_description, "CPU (measured)", "problem {p}");
        let extra = json(&hws[&t(p)].extra_data);
        assert_eq!(extra["estimated"], false, "problem {p}: {extra}");
        assert!(
            extra["latency_ms_p90"].as_f64() >= Some(hws[&t(p)].latency),
            "{extra}"
        );
    }
    // The device we do not have: estimated from the CPU measurement of the same graph.
    assert_eq!(hws[&t(2)].hw_description, "PIM_AI_1chip (estimated)");
    let pim = json(&hws[&t(2)].extra_data);
    assert_eq!(pim["estimated"], true);
    assert!(
        pim["method"]
            .as_str()
            .is_some_and(|m| m.contains("estimated from a CPU measurement ×")),
        "{pim}"
    );
    // One clip a second: the device idles most of the period, so the mean power is
    // below the power while it runs, which the batch problem reports.
    let stream = json(&hws[&t(5)].extra_data);
    let sim = &stream["simulation"];
    assert_eq!(sim["input_period_ms"], 1000.0, "{stream}");
    assert!(
        hws[&t(5)].power_consumption < hws[&t(3)].power_consumption,
        "streaming {} W vs batch {} W: {stream}",
        hws[&t(5)].power_consumption,
        hws[&t(3)].power_consumption
    );
    check_carbon(&co2s[&t(1)], &hws[&t(1)], "FRA");
    check_carbon(&co2s[&t(2)], &hws[&t(2)], "gcp:europe-west1");
    check_carbon(&co2s[&t(3)], &hws[&t(3)], "DEU");
    check_carbon(&co2s[&t(4)], &hws[&t(4)], "FRA");
    check_carbon(&co2s[&t(5)], &hws[&t(5)], "DEU");
    for p in 1..=5 {
        let (m, h, c) = (&models[&t(p)], &hws[&t(p)], &co2s[&t(p)]);
        eprintln!(
            "problem {p}: {} on {}: {:.4} ms, {} W; {:.3e} kgCO2e at {} g/kWh",
            m.model,
            h.hw_description,
            h.latency,
            h.power_consumption,
            c.carbon_footprint,
            c.carbon_intensity
        );
    }

    // Iteration 2 of the keyword spotter, with iteration 1's results as baselines.
    let audio = problems()[2].clone();
    let lines = vec![
        sample_line(topics::USER_INPUT, audio, 3, 2),
        sample_line(topics::ML_MODEL_BASELINE, models[&t(3)].clone(), 3, 2),
        sample_line(topics::HW_RESOURCES_BASELINE, hws[&t(3)].clone(), 3, 2),
        sample_line(topics::CARBON_FOOTPRINT_BASELINE, co2s[&t(3)].clone(), 3, 2),
    ];
    // Transient-local outputs replay iteration 1 too: 5 old + 1 new per topic.
    let out = round(&lines, 6, "iteration-2", &nodes);
    let second = TaskIdImpl::new(3, 2);
    let model = by_task::<MLModelImpl>(&out, topics::ML_MODEL_OUTPUT)[&second].clone();
    let hw = by_task::<HWResourceImpl>(&out, topics::HW_RESOURCES_OUTPUT)[&second].clone();
    let co2 = by_task::<CO2FootprintImpl>(&out, topics::CARBON_FOOTPRINT_OUTPUT)[&second].clone();
    assert_eq!(
        model.model,
        "kws_cnn",
        "{:?}",
        String::from_utf8_lossy(&model.extra_data)
    );
    assert!(
        !model.raw_model.is_empty(),
        "the shipped ONNX file travels with the model"
    );
    assert_eq!(hw.hw_description, "CPU (measured)");
    assert_eq!(json(&hw.extra_data)["estimated"], false);
    assert!(hw.latency > 0.0);
    check_carbon(&co2, &hw, "DEU");
    eprintln!(
        "problem 3, iteration 2: {} on {}: {:.4} ms, {} W; {:.3e} kgCO2e",
        model.model, hw.hw_description, hw.latency, hw.power_consumption, co2.carbon_footprint
    );
    let estimate = json(&model.extra_data)["estimated_carbon_footprint"]
        .as_f64()
        .expect("an estimate from the baseline");
    assert!(estimate < co2s[&t(3)].carbon_footprint);
}

#[test]
fn bad_problems_give_task_errors_naming_the_cause_and_the_nodes_go_on() {
    assert_isolated();
    let domain = 111;
    let _nodes: Vec<Peer> = ["sustainml-hw-constraints", "sustainml-ml-model-metadata"]
        .iter()
        .map(|n| Peer::spawn(n, &workspace_bin(n), &[], domain, &[]))
        .collect();
    let status = Peer::spawn(
        "status",
        Path::new(PEER),
        &[
            "sub",
            "--topics",
            topics::STATUS.name,
            "--expect",
            "10000",
            "--timeout",
            "15",
        ],
        domain,
        &[],
    );
    status.expect_line("READY", Duration::from_secs(20));
    let good = problems()[0].clone();
    let bad = |modality: &str, extra: &str| UserInputImpl {
        modality: modality.into(),
        extra_data: extra.as_bytes().to_vec(),
        ..good.clone()
    };
    let lines = vec![
        sample_line(
            topics::USER_INPUT,
            bad("image", r#"{"max_memory_footprint":"big"}"#),
            1,
            1,
        ),
        sample_line(topics::USER_INPUT, bad("smell", "{}"), 2, 1),
        sample_line(topics::USER_INPUT, bad("image", "{oops"), 3, 1),
        sample_line(topics::USER_INPUT, good, 4, 1),
    ];
    let file = temp_file("modules-bad.txt", &lines);
    Peer::spawn(
        "pub",
        Path::new(PEER),
        &["pub", "--input", file.to_str().expect("path")],
        domain,
        &[],
    )
    .finish(Duration::from_secs(60));
    let (_, out, _) = status.outcome(Duration::from_secs(60));
    let statuses = decode_lines::<NodeStatusImpl>(&out, topics::STATUS);
    let error = |node: &str, problem: u32| {
        statuses
            .iter()
            .find(|s| {
                s.node_name == node
                    && s.task_id.problem_id == problem
                    && s.task_status == TaskStatus::Error
            })
            .map(|s| s.error_description.clone())
            .unwrap_or_else(|| {
                panic!("no TASK_ERROR from {node} for problem {problem}: {statuses:#?}")
            })
    };
    let succeeded = |node: &str, problem: u32| {
        statuses.iter().any(|s| {
            s.node_name == node
                && s.task_id.problem_id == problem
                && s.task_status == TaskStatus::Succeeded
        })
    };
    assert!(error("HW_CONSTRAINTS_NODE", 1).contains("max_memory_footprint"));
    assert!(error("ML_MODEL_METADATA_NODE", 2).contains("smell"));
    assert!(error("HW_CONSTRAINTS_NODE", 3).contains("extra_data"));
    assert!(error("ML_MODEL_METADATA_NODE", 3).contains("extra_data"));
    assert!(succeeded("HW_CONSTRAINTS_NODE", 4) && succeeded("ML_MODEL_METADATA_NODE", 4));
}
