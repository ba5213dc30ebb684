//! Protects the orchestrator's REST API across processes: the `sustainml-orchestrator`
//! binary takes a problem over HTTP, runs it through the six nodes, answers the
//! reference back-end's endpoints without blocking, streams progress as server-sent
//! events, reports bad requests naming the field, and keeps its tasks over a restart.

use serde_json::{json, Value};
use sustainml_tests::rest_api::{data_dir, expect_event, problem, six_nodes, start_api, WAIT};
use sustainml_tests::{assert_isolated, workspace_bin, Peer};
const SIX: [&str; 6] = [
    "APP_REQUIREMENTS",
    "CARBON_FOOTPRINT",
    "HW_CONSTRAINTS",
    "HW_RESOURCES",
    "ML_MODEL_METADATA",
    "ML_MODEL",
];

#[test]
fn a_problem_posted_over_rest_runs_and_its_results_survive_a_restart() {
    // Protects: the front-end's flow (status, user_input, results, config) end to end over HTTP, SSE progress, and tasks kept across a restart.
    assert_isolated();
    let _one = sustainml_tests::serial();
    let domain = 140;
    let dir = data_dir("flow");
    let _graph = six_nodes(domain);
    let api = start_api(domain, &dir, &[]);

    let (code, root) = api.get("/");
    assert_eq!(code, 200);
    assert!(root["message"].is_string());
    let events = api.events();
    expect_event(&events, "connected");

    api.poll("/ready", |code, _| code == 200);
    let status = api.poll("/status", |_, b| {
        SIX.iter().all(|k| b["status"][k] == "IDLE")
    });
    assert_eq!(status["status"]["ML_MODEL"], "IDLE");
    let (code, one) = api.post("/status", &json!({"node_id": 5}));
    assert_eq!((code, &one), (200, &json!({"status": "IDLE"})));

    let (code, submitted) = api.post("/user_input", &problem());
    assert_eq!(code, 200, "{submitted}");
    assert_eq!(
        submitted["task_id"],
        json!({"problem_id": 1, "iteration_id": 1})
    );
    let task = api.poll("/tasks/1/1", |_, b| b["state"] != "running");
    assert_eq!(task["state"], "done", "{task}");
    assert_eq!(task["outputs"]["ML_MODEL"]["model"], "ML_MODEL_NODE@1.1");
    expect_event(&events, "task_started");
    expect_event(&events, "task_done");

    let (code, results) = api.get("/results");
    assert_eq!(code, 200);
    for key in SIX {
        assert!(results[key].is_object(), "{key} missing: {results}");
    }
    assert_eq!(results["task_id"], submitted["task_id"]);
    assert_eq!(results["state"], "done");
    assert_eq!(results["missing"], json!([]));
    assert!(results["APP_REQUIREMENTS"]["app_requirements"].is_string());
    assert_eq!(results["CARBON_FOOTPRINT"]["carbon_footprint"], 10.0);

    let task_id = submitted["task_id"].clone();
    let (code, all) = api.post("/results", &json!({"node_id": 9, "task_id": task_id}));
    assert_eq!(code, 200);
    assert!(SIX.iter().all(|k| all[k].is_object()), "{all}");
    let (code, model) = api.post("/results", &json!({"node_id": 5, "task_id": task_id}));
    assert_eq!(code, 200);
    assert_eq!(model["ML_MODEL"]["model"], "ML_MODEL_NODE@1.1", "{model}");
    assert_eq!(model["ML_MODEL"]["task_id"], task_id);
    let (code, echo) = api.post("/results", &json!({"node_id": 7, "task_id": task_id}));
    assert_eq!(code, 200);
    assert_eq!(echo["ORCHESTRATOR"]["modality"], "images", "{echo}");
    assert_eq!(
        echo["ORCHESTRATOR"]["extra_data"]["goal"],
        "image-classification"
    );

    let (code, config) = api.post(
        "/config_request",
        &json!({"configuration": "modality", "node_id": 4}),
    );
    assert_eq!(code, 200, "{config}");
    assert_eq!(config["response"]["success"], true);
    assert_eq!(config["response"]["node_id"], 4);
    let answer: Value = serde_json::from_str(
        config["response"]["configuration"]
            .as_str()
            .expect("a string"),
    )
    .expect("the test node answers JSON");
    assert_eq!(answer["node"], "ML_MODEL_METADATA_NODE");
    // Without node_id, routed by its words as the reference back-end does.
    let (code, routed) = api.post("/config_request", &json!({"configuration": "hardwares"}));
    assert_eq!(code, 200, "{routed}");
    assert_eq!(routed["response"]["node_id"], 3);

    // SIGTERM with an event stream open still shuts down cleanly; the tasks stay.
    api.stop();
    let api = start_api(domain, &dir, &[]);
    let (code, tasks) = api.get("/tasks");
    assert_eq!(code, 200);
    let list = tasks["tasks"].as_array().expect("a list");
    assert_eq!(list.len(), 1, "{tasks}");
    assert_eq!(list[0]["task_id"], task_id);
    assert_eq!(list[0]["state"], "done");
    assert_eq!(list[0]["outputs"], 6);
    api.stop();
}

#[test]
fn bad_requests_absent_nodes_and_missing_results_answer_at_once() {
    // Protects: malformed input gets a 400 naming the field, absent nodes a timeout error, results not there yet an immediate answer, and remote binding a refusal.
    assert_isolated();
    let _one = sustainml_tests::serial();
    let domain = 141;
    let dir = data_dir("errors");

    // No authentication, so no remote address without saying so.
    let refused = Peer::spawn(
        "sustainml-orchestrator",
        &workspace_bin("sustainml-orchestrator"),
        &[
            "--bind",
            "0.0.0.0:0",
            "--data-dir",
            &dir.display().to_string(),
        ],
        domain,
        &[],
    );
    let (ok, _, stderr) = refused.outcome(WAIT);
    assert!(!ok);
    assert!(stderr.contains("--allow-remote"), "{stderr}");

    let api = start_api(domain, &dir, &["--config-timeout", "1"]);
    let (code, none) = api.get("/results");
    assert_eq!(code, 200);
    assert_eq!(none["state"], "no_task");

    for (body, field) in [
        (r#"{"modality": 5}"#, "modality"),
        (
            r#"{"inputs": "a", "maximum_samples": "many"}"#,
            "maximum_samples",
        ),
        (r#"{"extra_data": [1]}"#, "extra_data"),
        (r#"{"previous_iteration": 1}"#, "previous_problem_id"),
        (r#"{"modality": "images""#, "JSON"),
    ] {
        let (code, err) = api.call("POST", "/user_input", Some(body));
        assert_eq!(code, 400, "{body}: {err}");
        let msg = err["error"].as_str().expect("an error message");
        assert!(msg.contains(field), "{body}: {msg}");
    }
    let (code, err) = api.post(
        "/user_input",
        &json!({"previous_iteration": 1, "extra_data": {"previous_problem_id": 42}}),
    );
    assert_eq!(code, 404, "{err}");
    assert!(err["error"].as_str().expect("message").contains("42"));

    // Nobody serves CARBON_FOOTPRINT (1) here.
    let (code, err) = api.post(
        "/config_request",
        &json!({"configuration": "x", "node_id": 1}),
    );
    assert_eq!(code, 504, "{err}");
    assert!(err["error"]
        .as_str()
        .expect("message")
        .contains("timed out"));
    let (code, err) = api.post(
        "/config_request",
        &json!({"configuration": "x", "node_id": 42}),
    );
    assert_eq!(code, 400, "{err}");
    assert!(err["error"].as_str().expect("message").contains("node_id"));
    let (code, err) = api.post("/config_request", &json!({"node_id": 1}));
    assert_eq!(code, 400);
    assert!(err["error"]
        .as_str()
        .expect("message")
        .contains("configuration"));
    let (code, _) = api.post("/status", &json!({"node_id": 3}));
    assert_eq!(code, 404);

    // No node runs: the task stays running and results say what is missing.
    let (code, submitted) = api.post("/user_input", &problem());
    assert_eq!(code, 200, "{submitted}");
    let (code, results) = api.get("/results");
    assert_eq!(code, 200);
    assert_eq!(results["state"], "running");
    assert_eq!(results["missing"].as_array().map(Vec::len), Some(6));
    let (code, one) = api.post(
        "/results",
        &json!({"node_id": 0, "task_id": submitted["task_id"]}),
    );
    assert_eq!(code, 202, "{one}");
    assert_eq!(one["missing"], json!(["APP_REQUIREMENTS"]));
    let (code, _) = api.get("/tasks/9/9");
    assert_eq!(code, 404);
    let (code, err) = api.get("/tasks/x/1");
    assert_eq!(code, 400);
    assert!(err["error"].as_str().expect("message").contains("problem"));
    let (code, _) = api.get("/shutdown");
    assert_eq!(code, 404);
    api.stop();
}
