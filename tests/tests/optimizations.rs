//! Protects optimisation runs over REST: `POST /optimizations` starts one with its own
//! budget and target, `GET /optimizations[/{id}]` shows its iterations (model,
//! footprint, energy, latency, state) and why it stopped, `POST …/cancel` stops it,
//! a run goes on with its own budget after the orchestrator restarts, progress is on
//! `/events`, and bad bodies get 400 naming the field. Domains 113-116.

use std::process::Command;

use serde_json::{json, Value};
use sustainml_node::NodeKind;
use sustainml_tests::rest_api::{
    data_dir, expect_event, problem, six_nodes, six_nodes_with, start_api, Api,
};
use sustainml_tests::{assert_isolated, repo_root, workspace_bin};

fn run(api: &Api, body: Value) -> String {
    let (status, answer) = api.post("/optimizations", &body);
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["id"], answer["problem_id"].to_string());
    answer["id"].as_str().expect("id").to_owned()
}

fn stopped(api: &Api, id: &str) -> Value {
    api.poll(&format!("/optimizations/{id}"), |status, v| {
        status == 200 && v["state"] == "stopped"
    })
}

#[test]
fn a_run_goes_until_its_budget_and_shows_every_iteration() {
    assert_isolated();
    let domain = 113;
    let _nodes = six_nodes(domain);
    let api = start_api(domain, &data_dir("opt-budget"), &[]);
    api.poll("/ready", |status, _| status == 200);
    let events = api.events();
    // The test nodes give every iteration of problem 1 a footprint of 10: never 5.
    let id = run(
        &api,
        json!({
            "user_input": problem(),
            "budget": {"max_iterations": 3, "max_seconds": 300},
            "target_carbon_footprint": 5.0,
        }),
    );
    for _ in 0..3 {
        expect_event(&events, "iteration");
    }
    expect_event(&events, "optimization_finished");
    let report = stopped(&api, &id);
    assert_eq!(
        report["stop_reason"]["kind"], "iterations_exhausted",
        "{report}"
    );
    assert_eq!(report["budget"]["max_iterations"], 3);
    assert_eq!(report["target_carbon_footprint"], 5.0);
    let iterations = report["iterations"].as_array().expect("iterations");
    assert_eq!(iterations.len(), 3, "{report}");
    for (i, it) in iterations.iter().enumerate() {
        assert_eq!(it["task_id"]["iteration_id"], i + 1, "{it}");
        assert_eq!(it["state"], "done", "{it}");
        assert_eq!(it["carbon_footprint"], 10.0, "{it}");
        for field in ["model", "latency", "energy_consumption"] {
            assert!(!it[field].is_null(), "{field} missing in {it}");
        }
    }
    let (status, list) = api.get("/optimizations");
    assert_eq!(status, 200);
    let runs = list["optimizations"].as_array().expect("list");
    assert_eq!(runs.len(), 1, "{list}");
    assert_eq!(runs[0]["id"], id.as_str());
    assert_eq!(runs[0]["iterations"], 3);

    // The same through the CLI: a line per iteration, a table at the end.
    let sample = repo_root().join("scripts/sample-problem.toml");
    let cli = |args: &[&str]| {
        let out = Command::new(workspace_bin("sustainml"))
            .args(["task", "optimize"])
            .arg(&sample)
            .args(args)
            .args(["--orchestrator", &api.base])
            .output()
            .expect("sustainml task optimize");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = cli(&["--target", "5", "--max-iterations", "2", "--wait"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("iteration 2.1: done — model "), "{err}");
    assert!(err.contains("iteration 2.2: done"), "{err}");
    assert!(
        err.contains("stopped: 2 iterations run (budget 2)"),
        "{err}"
    );
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 3, "a header and two iterations:\n{out}");
    assert!(rows[0].starts_with("ITERATION"), "{out}");
    assert!(
        rows[1].starts_with("2.1 *") && rows[1].contains("20"),
        "{out}"
    );
    let (code, _, err) = cli(&["--max-iterations", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--max-iterations must be at least 1"), "{err}");
    api.stop();
}

#[test]
fn a_run_reaches_its_target_and_a_cancelled_run_says_so() {
    assert_isolated();
    let domain = 114;
    // Each iteration takes 2 s at CARBON_FOOTPRINT: time to cancel one in flight.
    let _nodes = six_nodes_with(
        domain,
        Some((NodeKind::CarbonFootprint, &["--delay-ms", "2000"])),
    );
    let api = start_api(domain, &data_dir("opt-cancel"), &[]);
    api.poll("/ready", |status, _| status == 200);
    let reached = run(
        &api,
        json!({"user_input": problem(), "target_carbon_footprint": 15.0}),
    );
    let report = stopped(&api, &reached);
    assert_eq!(report["stop_reason"]["kind"], "target_reached", "{report}");
    assert_eq!(report["iterations"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["budget"]["max_iterations"], 5, "the default budget");

    let events = api.events();
    let id = run(
        &api,
        json!({"user_input": problem(), "target_carbon_footprint": 1.0}),
    );
    expect_event(&events, "task_started");
    let (status, answer) = api.post(&format!("/optimizations/{id}/cancel"), &json!({}));
    assert_eq!(
        (status, answer["cancelled"].clone()),
        (200, json!(true)),
        "{answer}"
    );
    let report = stopped(&api, &id);
    assert_eq!(report["stop_reason"]["kind"], "cancelled", "{report}");
    let last = report["iterations"]
        .as_array()
        .and_then(|a| a.last().cloned())
        .expect("an iteration");
    assert_eq!(last["state"], "failed", "{report}");
    assert_eq!(last["reason"], "cancelled", "{report}");
    let (status, again) = api.post(&format!("/optimizations/{id}/cancel"), &json!({}));
    assert_eq!(
        (status, again["cancelled"].clone()),
        (200, json!(false)),
        "{again}"
    );
    let (status, _) = api.post("/optimizations/99/cancel", &json!({}));
    assert_eq!(status, 404);
    let (status, body) = api.get("/optimizations/abc");
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap_or("").contains("\"abc\""),
        "{body}"
    );
    api.stop();
}

#[test]
fn a_run_goes_on_with_its_own_budget_after_a_restart() {
    assert_isolated();
    let domain = 115;
    let _nodes = six_nodes_with(
        domain,
        Some((NodeKind::CarbonFootprint, &["--delay-ms", "1500"])),
    );
    let dir = data_dir("opt-restart");
    let api = start_api(domain, &dir, &[]);
    api.poll("/ready", |status, _| status == 200);
    let id = run(
        &api,
        json!({"user_input": problem(), "target_carbon_footprint": 1.0,
               "budget": {"max_iterations": 3}}),
    );
    // Stop the orchestrator once the first iteration is done and the second runs.
    api.poll(&format!("/optimizations/{id}"), |_, v| {
        v["iterations"]
            .as_array()
            .is_some_and(|a| a.len() >= 2 && a[0]["state"] == "done")
    });
    api.stop();
    let api = start_api(domain, &dir, &[]);
    let report = stopped(&api, &id);
    // Its own budget of 3, not the default 5.
    assert_eq!(
        report["stop_reason"]["kind"], "iterations_exhausted",
        "{report}"
    );
    let states: Vec<Value> = report["iterations"]
        .as_array()
        .expect("iterations")
        .iter()
        .map(|i| i["state"].clone())
        .collect();
    assert_eq!(states.len(), 3, "{report}");
    assert_eq!(states[0], "done", "{report}");
    api.stop();
}

#[test]
fn bad_bodies_get_400_naming_the_field() {
    assert_isolated();
    let domain = 116;
    let api = start_api(domain, &data_dir("opt-bad"), &[]);
    let mut iterating = problem();
    iterating["previous_iteration"] = json!(2);
    iterating["extra_data"]["previous_problem_id"] = json!(1);
    let mut bad_input = problem();
    bad_input["minimum_samples"] = json!("many");
    for (body, names) in [
        (json!({}), "field `user_input` is missing"),
        (
            json!({"user_input": 3}),
            "field `user_input` must be an object",
        ),
        (json!({"user_input": bad_input}), "minimum_samples"),
        (
            json!({"user_input": iterating}),
            "previous_iteration` must be 0",
        ),
        (
            json!({"user_input": problem(), "budget": {"max_iterations": 0}}),
            "`budget.max_iterations` must be an integer ≥ 1",
        ),
        (
            json!({"user_input": problem(), "budget": {"max_seconds": -1}}),
            "`budget.max_seconds` must be a number of seconds > 0",
        ),
        (
            json!({"user_input": problem(), "budget": {"max_iteration": 2}}),
            "unknown field `budget.max_iteration`",
        ),
        (
            json!({"user_input": problem(), "budget": 5}),
            "field `budget` must be an object",
        ),
        (
            json!({"user_input": problem(), "target_carbon_footprint": "low"}),
            "`target_carbon_footprint` must be a number ≥ 0",
        ),
        (
            json!({"user_input": problem(), "target": 1}),
            "unknown field `target`",
        ),
    ] {
        let (status, answer) = api.post("/optimizations", &body);
        assert_eq!(status, 400, "{body} → {answer}");
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(names),
            "{body}: {message:?} lacks {names:?}"
        );
    }
    let (status, list) = api.get("/optimizations");
    assert_eq!((status, list), (200, json!({"optimizations": []})));
    api.stop();
}
