//! Protects the node runtime across processes, as the reference's blackbox tests do
//! (REFERENCE.md §8) and beyond: each of the six kinds alone with 20 tasks, the paired
//! chains, the complete chain of six, random callback delays, a configuration request
//! to each kind, and a Fast DDS process on both sides of a Rust node.

use std::path::Path;
use std::time::Duration;

use sustainml_node::NodeKind;
use sustainml_tests::{
    assert_isolated, decode_lines, fastdds_peer, graph_round, response_of, sample_line, temp_file,
    Peer,
};
use sustainml_types::topics::{self, TopicInfo};
use sustainml_types::*;

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");
const NODE: &str = env!("CARGO_BIN_EXE_sustainml-test-node");
const TASKS: u32 = 20;

/// Input lines for tasks 1..=TASKS on the given topics.
pub fn inputs(topics: &[TopicInfo]) -> Vec<String> {
    let mut lines = Vec::new();
    for k in 1..=TASKS {
        for t in topics {
            lines.push(match t.type_name {
                "UserInputImpl" => sample_line(*t, samples::user_input(), k, 1),
                "MLModelMetadataImpl" => sample_line(*t, samples::ml_model_metadata(), k, 1),
                "AppRequirementsImpl" => sample_line(*t, samples::app_requirements(), k, 1),
                "HWConstraintsImpl" => sample_line(*t, samples::hw_constraints(), k, 1),
                "MLModelImpl" => sample_line(*t, samples::ml_model(), k, 1),
                "HWResourceImpl" => sample_line(*t, samples::hw_resource(), k, 1),
                "CO2FootprintImpl" => sample_line(*t, samples::co2_footprint(), k, 1),
                other => panic!("no sample for {other}"),
            });
        }
    }
    lines
}

struct Graph {
    domain: u16,
    _nodes: Vec<Peer>,
}

impl Graph {
    fn start(domain: u16, nodes: &[&[&str]]) -> Self {
        // Incomplete tasks are reported (with their missing inputs) within the
        // subscriber's timeout, so a failure says what was missing.
        Self::with_input_timeout(domain, nodes, "20000")
    }

    fn with_input_timeout(domain: u16, nodes: &[&[&str]], input_timeout_ms: &str) -> Self {
        let nodes = nodes
            .iter()
            .map(|args| {
                let mut all = args.to_vec();
                all.extend(["--input-timeout-ms", input_timeout_ms]);
                Peer::spawn(args[1], Path::new(NODE), &all, domain, &[])
            })
            .collect();
        Self {
            domain,
            _nodes: nodes,
        }
    }

    /// Subscribes to `out`, publishes `lines`, returns what arrived on `out`.
    fn run(&self, lines: &[String], out: TopicInfo, expect: u32) -> Vec<String> {
        graph_round(
            Path::new(PEER),
            self.domain,
            &[out.name],
            expect,
            lines,
            "graph",
            &self._nodes,
        )
    }
}

fn problems<T: TaskData>(values: &[T]) -> Vec<u32> {
    let mut p: Vec<u32> = values.iter().map(|v| v.task_id().problem_id).collect();
    p.sort_unstable();
    p.dedup();
    p
}

fn all_tasks() -> Vec<u32> {
    (1..=TASKS).collect()
}

#[test]
fn each_kind_alone_completes_twenty_tasks() {
    assert_isolated();
    let _one = sustainml_tests::serial();
    for (i, kind) in NodeKind::ALL.iter().enumerate() {
        let domain = 70 + i as u16;
        let (name, output) = (kind.node_name(), kind.output());
        let graph = Graph::start(domain, &[&["--kind", name]]);
        let out = graph.run(&inputs(kind.inputs()), output, TASKS);
        let tasks = match output.type_name {
            "AppRequirementsImpl" => problems(&decode_lines::<AppRequirementsImpl>(&out, output)),
            "HWConstraintsImpl" => problems(&decode_lines::<HWConstraintsImpl>(&out, output)),
            "MLModelMetadataImpl" => problems(&decode_lines::<MLModelMetadataImpl>(&out, output)),
            "MLModelImpl" => problems(&decode_lines::<MLModelImpl>(&out, output)),
            "HWResourceImpl" => problems(&decode_lines::<HWResourceImpl>(&out, output)),
            "CO2FootprintImpl" => problems(&decode_lines::<CO2FootprintImpl>(&out, output)),
            other => panic!("{other}"),
        };
        assert_eq!(tasks, all_tasks(), "{name}");
        drop(graph);
    }
}

const BASELINES: [TopicInfo; 3] = [
    topics::ML_MODEL_BASELINE,
    topics::HW_RESOURCES_BASELINE,
    topics::CARBON_FOOTPRINT_BASELINE,
];

#[test]
fn metadata_feeds_ml_model() {
    assert_isolated();
    let _one = sustainml_tests::serial();
    let graph = Graph::start(
        80,
        &[&["--kind", "ml_model_metadata"], &["--kind", "ml_model"]],
    );
    let mut feed = vec![
        topics::USER_INPUT,
        topics::APP_REQUIREMENTS_OUTPUT,
        topics::HW_CONSTRAINTS_OUTPUT,
    ];
    feed.extend(BASELINES);
    let out = graph.run(&inputs(&feed), topics::ML_MODEL_OUTPUT, TASKS);
    let models = decode_lines::<MLModelImpl>(&out, topics::ML_MODEL_OUTPUT);
    assert_eq!(problems(&models), all_tasks());
    // The model node saw the metadata node's output, not an injected one.
    assert!(models
        .iter()
        .all(|m| m.model_properties.contains("ML_MODEL_METADATA_NODE@")));
}

#[test]
fn ml_model_and_requirements_feed_hw_resources() {
    assert_isolated();
    let _one = sustainml_tests::serial();
    let graph = Graph::start(
        81,
        &[
            &["--kind", "ml_model"],
            &["--kind", "hw_resources"],
            &["--kind", "hw_constraints"],
            &["--kind", "app_requirements"],
        ],
    );
    let mut feed = vec![topics::USER_INPUT, topics::ML_MODEL_METADATA_OUTPUT];
    feed.extend(BASELINES);
    let out = graph.run(&inputs(&feed), topics::HW_RESOURCES_OUTPUT, TASKS);
    let hw = decode_lines::<HWResourceImpl>(&out, topics::HW_RESOURCES_OUTPUT);
    assert_eq!(problems(&hw), all_tasks());
    assert!(hw
        .iter()
        .all(|h| h.hw_description.contains("for ML_MODEL_NODE@")));
}

#[test]
fn hw_resources_feeds_carbon_footprint() {
    assert_isolated();
    let _one = sustainml_tests::serial();
    let graph = Graph::start(
        82,
        &[&["--kind", "hw_resources"], &["--kind", "carbon_footprint"]],
    );
    let feed = [
        topics::ML_MODEL_OUTPUT,
        topics::APP_REQUIREMENTS_OUTPUT,
        topics::HW_CONSTRAINTS_OUTPUT,
        topics::USER_INPUT,
    ];
    let out = graph.run(&inputs(&feed), topics::CARBON_FOOTPRINT_OUTPUT, TASKS);
    let co2 = decode_lines::<CO2FootprintImpl>(&out, topics::CARBON_FOOTPRINT_OUTPUT);
    assert_eq!(problems(&co2), all_tasks());
    for c in &co2 {
        // power 10 × latency = problem id, computed by the hw_resources node.
        assert_eq!(c.carbon_footprint, 10.0 * f64::from(c.task_id.problem_id));
    }
}

#[test]
fn the_complete_chain_of_six_nodes_completes_every_task() {
    assert_isolated();
    let _one = sustainml_tests::serial();
    let kinds: Vec<[&str; 2]> = NodeKind::ALL
        .iter()
        .map(|k| ["--kind", k.node_name()])
        .collect();
    let args: Vec<&[&str]> = kinds.iter().map(|a| a.as_slice()).collect();
    let graph = Graph::start(83, &args);
    let mut feed = vec![topics::USER_INPUT];
    feed.extend(BASELINES);
    let out = graph.run(&inputs(&feed), topics::CARBON_FOOTPRINT_OUTPUT, TASKS);
    let co2 = decode_lines::<CO2FootprintImpl>(&out, topics::CARBON_FOOTPRINT_OUTPUT);
    assert_eq!(problems(&co2), all_tasks());
}

/// Protects delivery under a burst: 5 000 tasks written at once into the six-node
/// chain (ten times what rustdds's own caches hold) all come out of CARBON_FOOTPRINT;
/// the peer fails if one is missing for 60 s. The nodes wait for inputs longer than
/// the burst takes (a debug-built chain runs it at about 900 tasks a second here), so a
/// missing task is a lost sample, never an eviction.
#[test]
fn a_burst_of_5000_tasks_through_the_six_node_chain_loses_none() {
    assert_isolated();
    let _one = sustainml_tests::serial();
    let domain = 84;
    let kinds: Vec<[&str; 2]> = NodeKind::ALL
        .iter()
        .map(|k| ["--kind", k.node_name()])
        .collect();
    let args: Vec<&[&str]> = kinds.iter().map(|a| a.as_slice()).collect();
    let graph = Graph::with_input_timeout(domain, &args, "900000");
    let rate = Peer::spawn(
        "rate",
        Path::new(PEER),
        &[
            "rate",
            "--output",
            topics::CARBON_FOOTPRINT_OUTPUT.name,
            "--count",
            "5000",
        ],
        domain,
        &[],
    );
    let (ok, lines, stderr) = rate.outcome(Duration::from_secs(600));
    assert!(
        ok,
        "not every task came out: {stderr}\nnode logs:\n{}",
        graph
            ._nodes
            .iter()
            .map(Peer::stderr_text)
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("{}", lines.join("\n"));
}

#[test]
fn random_callback_delays_still_complete_every_task() {
    assert_isolated();
    let _one = sustainml_tests::serial();
    let graph = Graph::start(
        84,
        &[&[
            "--kind",
            "ml_model_metadata",
            "--delay-max-ms",
            "400",
            "--concurrency",
            "3",
        ]],
    );
    let out = graph.run(
        &inputs(&[topics::USER_INPUT]),
        topics::ML_MODEL_METADATA_OUTPUT,
        TASKS,
    );
    let md = decode_lines::<MLModelMetadataImpl>(&out, topics::ML_MODEL_METADATA_OUTPUT);
    assert_eq!(problems(&md), all_tasks());
}

#[test]
fn async_callbacks_complete_every_task() {
    assert_isolated();
    let _one = sustainml_tests::serial();
    let graph = Graph::start(
        85,
        &[&[
            "--kind",
            "app_requirements",
            "--use-async",
            "--delay-max-ms",
            "100",
        ]],
    );
    let out = graph.run(
        &inputs(&[topics::USER_INPUT]),
        topics::APP_REQUIREMENTS_OUTPUT,
        TASKS,
    );
    let app = decode_lines::<AppRequirementsImpl>(&out, topics::APP_REQUIREMENTS_OUTPUT);
    assert_eq!(problems(&app), all_tasks());
}

#[test]
fn a_configuration_request_to_each_kind_is_answered() {
    assert_isolated();
    let _one = sustainml_tests::serial();
    let kinds: Vec<[&str; 2]> = NodeKind::ALL
        .iter()
        .map(|k| ["--kind", k.node_name()])
        .collect();
    let args: Vec<&[&str]> = kinds.iter().map(|a| a.as_slice()).collect();
    let _graph = Graph::start(86, &args);
    for id in NodeId::MODULES {
        let request = Peer::spawn(
            "request",
            Path::new(PEER),
            &[
                "request",
                "--node-id",
                &id.value().to_string(),
                "--configuration",
                "TestConfig",
                "--timeout",
                "20",
            ],
            86,
            &[],
        );
        let lines = request.finish(Duration::from_secs(40));
        let response = response_of(&lines);
        assert_eq!(response.node_id, id.value());
        assert!(response.success, "{id}: {}", response.configuration);
        let json: serde_json::Value = serde_json::from_str(&response.configuration).expect("JSON");
        assert_eq!(json["node"], id.node_name());
        assert_eq!(json["request"], "TestConfig");
    }
}

#[test]
fn fastdds_feeds_a_rust_node_that_feeds_fastdds() {
    assert_isolated();
    let _one = sustainml_tests::serial();
    let domain = 87;
    let _node = Graph::start(domain, &[&["--kind", "app_requirements"]]);
    let sub = Peer::spawn(
        "fastdds sub",
        &fastdds_peer(),
        &[
            "sub",
            "--topics",
            topics::APP_REQUIREMENTS_OUTPUT.name,
            "--expect",
            "20",
            "--timeout",
            "60",
        ],
        domain,
        &[],
    );
    sub.expect_line("READY", Duration::from_secs(20));
    let file = temp_file("fastdds-feed.txt", &inputs(&[topics::USER_INPUT]));
    let publ = Peer::spawn(
        "fastdds pub",
        &fastdds_peer(),
        &["pub", "--input", file.to_str().expect("path")],
        domain,
        &[],
    );
    let out = sub.finish(Duration::from_secs(90));
    publ.finish(Duration::from_secs(60));
    let app = decode_lines::<AppRequirementsImpl>(&out, topics::APP_REQUIREMENTS_OUTPUT);
    assert_eq!(problems(&app), all_tasks());
    assert!(app
        .iter()
        .all(|a| a.app_requirements[0] == format!("APP_REQUIREMENTS_NODE@{}", a.task_id)));
}

#[test]
fn a_generic_node_joins_any_inputs_to_any_output() {
    assert_isolated();
    let _one = sustainml_tests::serial();
    let graph = Graph::start(88, &[&["--kind", "generic"]]);
    let out = graph.run(
        &inputs(&[topics::USER_INPUT, topics::HW_RESOURCES_OUTPUT]),
        topics::CARBON_FOOTPRINT_OUTPUT,
        TASKS,
    );
    let co2 = decode_lines::<CO2FootprintImpl>(&out, topics::CARBON_FOOTPRINT_OUTPUT);
    assert_eq!(problems(&co2), all_tasks());
    for c in &co2 {
        let hw = samples::hw_resource();
        assert_eq!(c.carbon_footprint, hw.power_consumption * hw.latency);
        assert_eq!(
            String::from_utf8_lossy(&c.extra_data),
            format!("CUSTOM_CARBON_NODE@{} in France", c.task_id)
        );
    }
}
