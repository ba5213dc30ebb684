// Protects the task store: what an orchestrator records is read back intact, survives
// a restart, problem ids continue, and bad or busy files give errors naming the file.

use super::*;
use sustainml_types::{CO2FootprintImpl, MLModelImpl};

fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "sustainml-store-{name}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn input(problem: u32, iteration: u32) -> UserInputImpl {
    UserInputImpl {
        problem_short_description: format!("problem {problem}"),
        extra_data: br#"{"goal":"classify"}"#.to_vec(),
        task_id: TaskIdImpl::new(problem, iteration),
        ..Default::default()
    }
}

fn fill(store: &Store) {
    let id = TaskIdImpl::new(1, 1);
    store.insert_task(&input(1, 1), 10).expect("insert");
    let model = NodeOutput::MlModel(MLModelImpl {
        model: "m".into(),
        raw_model: vec![7; 1000],
        task_id: id,
        ..Default::default()
    });
    let co2 = NodeOutput::CarbonFootprint(CO2FootprintImpl {
        carbon_footprint: 12.5,
        task_id: id,
        ..Default::default()
    });
    assert!(store.put_output(&model, 11).expect("model"));
    assert!(store.put_output(&co2, 12).expect("co2"));
    let status = TaskNodeStatus {
        node_name: "ML_MODEL_NODE".into(),
        task_status: "TASK_SUCCEEDED".into(),
        description: String::new(),
        updated_ms: 11,
    };
    store.put_task_status(id, &status).expect("status");
    store.set_state(id, &TaskState::Done, 13).expect("state");
    store.insert_task(&input(2, 1), 20).expect("insert 2");
    let failed = TaskState::Failed {
        reason: "HW_RESOURCES_NODE: boom".into(),
    };
    store
        .set_state(TaskIdImpl::new(2, 1), &failed, 21)
        .expect("fail");
    store.put_run(1, r#"{"x":1}"#).expect("run");
}

fn check(store: &Store) {
    let tasks = store.tasks().expect("tasks");
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].task_id, TaskIdImpl::new(1, 1));
    assert_eq!(tasks[0].state, TaskState::Done);
    assert_eq!(tasks[0].outputs, 2);
    assert_eq!(tasks[0].carbon_footprint, Some(12.5));
    assert_eq!(
        tasks[1].state,
        TaskState::Failed {
            reason: "HW_RESOURCES_NODE: boom".into()
        }
    );
    let details = store
        .task(TaskIdImpl::new(1, 1))
        .expect("task")
        .expect("exists");
    assert_eq!(details.user_input, Some(input(1, 1)));
    assert_eq!(details.outputs.len(), 2);
    match details.outputs.get(&NodeId::MlModel) {
        Some(NodeOutput::MlModel(m)) => assert_eq!(m.raw_model.len(), 1000),
        other => panic!("no model: {other:?}"),
    }
    assert_eq!(details.statuses.len(), 1);
    assert_eq!(details.statuses[0].task_status, "TASK_SUCCEEDED");
    assert_eq!(store.max_problem_id().expect("max"), 2);
    assert_eq!(store.last_iteration(1).expect("last"), Some(1));
    assert_eq!(store.last_iteration(9).expect("last"), None);
    assert_eq!(store.run(1).expect("run").as_deref(), Some(r#"{"x":1}"#));
    assert!(store.task(TaskIdImpl::new(5, 1)).expect("task").is_none());
}

#[test]
fn a_store_reads_back_what_was_written() {
    let dir = temp_dir("roundtrip");
    let store = Store::open(&dir).expect("open");
    fill(&store);
    check(&store);
    // Outputs of tasks the store does not know are not stored.
    let stray = NodeOutput::CarbonFootprint(CO2FootprintImpl {
        task_id: TaskIdImpl::new(40, 1),
        ..Default::default()
    });
    assert!(!store.put_output(&stray, 1).expect("stray"));
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_reopened_store_has_everything_and_ids_continue() {
    let dir = temp_dir("restart");
    let store = Store::open(&dir).expect("open");
    assert_eq!(store.max_problem_id().expect("max"), 0);
    fill(&store);
    drop(store);
    let store = Store::open(&dir).expect("reopen");
    check(&store);
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_corrupt_file_is_an_error_naming_the_file() {
    let dir = temp_dir("corrupt");
    let file = dir.join(DB_FILE);
    std::fs::write(&file, vec![0x42; 4096]).expect("write garbage");
    let err = Store::open(&dir).expect_err("garbage is not a store");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&file.display().to_string()), "{text}");
    assert!(text.contains("corrupt"), "{text}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_locked_store_is_an_error_naming_the_file() {
    let dir = temp_dir("locked");
    let first = Store::open(&dir).expect("open");
    let err = Store::open(&dir).expect_err("second opener");
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&dir.join(DB_FILE).display().to_string()),
        "{text}"
    );
    drop(first);
    // Once the first is gone, the store opens again.
    Store::open(&dir).expect("open after the first closed");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unwritable_directory_is_an_error_naming_it() {
    let dir = temp_dir("file-not-dir");
    let not_a_dir = dir.join("plain-file");
    std::fs::write(&not_a_dir, b"x").expect("write");
    let err = Store::open(&not_a_dir).expect_err("a file is not a directory");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("plain-file"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn node_states_are_remembered_and_come_back_not_alive() {
    let dir = temp_dir("nodes");
    {
        let store = Store::open(&dir).expect("open");
        let mut info = NodeInfo {
            node_name: "ML_MODEL_NODE".into(),
            key: node_key("ML_MODEL_NODE"),
            status: "IDLE".into(),
            error_description: String::new(),
            last_seen_ms: 5,
            alive: true,
        };
        store.put_node(&info).expect("put");
        info.status = "INACTIVE".into();
        info.last_seen_ms = 9;
        store.put_node(&info).expect("update");
        let custom = NodeInfo {
            node_name: "MY_NODE".into(),
            key: node_key("MY_NODE"),
            status: "ERROR".into(),
            error_description: "3 tasks failed".into(),
            last_seen_ms: 7,
            alive: true,
        };
        store.put_node(&custom).expect("custom");
    }
    let store = Store::open(&dir).expect("reopen");
    let nodes = store.nodes().expect("nodes");
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0].node_name, "ML_MODEL_NODE");
    assert_eq!(nodes[0].key, "ML_MODEL");
    assert_eq!(nodes[0].status, "INACTIVE");
    assert_eq!(nodes[0].last_seen_ms, 9);
    assert!(!nodes[0].alive);
    assert_eq!(nodes[1].error_description, "3 tasks failed");
    assert!(!nodes[1].alive);
}

#[test]
fn pruning_deletes_ended_tasks_before_the_cutoff_and_keeps_running_ones() {
    let dir = temp_dir("prune");
    let store = Store::open(&dir).expect("open");
    fill(&store); // 1.1 done at 13 with outputs and a run; 2.1 failed at 21.
    store.insert_task(&input(3, 1), 5).expect("running since 5");
    assert_eq!(store.prune(15).expect("prune"), 1);
    let ids: Vec<TaskIdImpl> = store
        .tasks()
        .expect("tasks")
        .iter()
        .map(|t| t.task_id)
        .collect();
    assert_eq!(ids, vec![TaskIdImpl::new(2, 1), TaskIdImpl::new(3, 1)]);
    let one = TaskIdImpl::new(1, 1);
    assert!(store.outputs(one, None).expect("outputs").is_empty());
    assert!(store.task_statuses(one).expect("statuses").is_empty());
    assert_eq!(store.run(1).expect("run"), None);
    // Nothing else is old enough.
    assert_eq!(store.prune(15).expect("again"), 0);
    assert_eq!(store.prune(22).expect("later"), 1);
    assert_eq!(store.tasks().expect("tasks").len(), 1);
}

#[test]
fn running_tasks_come_back_with_their_stored_outputs_and_runs_are_listed() {
    let dir = temp_dir("running");
    let store = Store::open(&dir).expect("open");
    fill(&store); // 1.1 done, 2.1 failed, a run of problem 1.
    store.insert_task(&input(3, 1), 30).expect("3.1");
    store.insert_task(&input(3, 2), 40).expect("3.2");
    let co2 = NodeOutput::CarbonFootprint(CO2FootprintImpl {
        carbon_footprint: 4.0,
        task_id: TaskIdImpl::new(3, 2),
        ..Default::default()
    });
    let model = NodeOutput::MlModel(MLModelImpl {
        task_id: TaskIdImpl::new(3, 2),
        ..Default::default()
    });
    assert!(store.put_output(&co2, 41).expect("co2"));
    assert!(store.put_output(&model, 42).expect("model"));
    drop(store);
    let store = Store::open(&dir).expect("reopen");
    let running = store.running_tasks().expect("running");
    assert_eq!(
        running,
        vec![
            RunningTask {
                task_id: TaskIdImpl::new(3, 1),
                created_ms: 30,
                outputs: vec![],
            },
            RunningTask {
                task_id: TaskIdImpl::new(3, 2),
                created_ms: 40,
                outputs: vec![
                    (NodeId::CarbonFootprint, Some(4.0)),
                    (NodeId::MlModel, None)
                ],
            },
        ]
    );
    assert_eq!(
        store.created_ms(TaskIdImpl::new(3, 2)).expect("created"),
        Some(40)
    );
    assert_eq!(store.created_ms(TaskIdImpl::new(9, 1)).expect("none"), None);
    assert_eq!(
        store.runs().expect("runs"),
        vec![(1, r#"{"x":1}"#.to_owned())]
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn model_output(problem: u32, graph: &[u8]) -> NodeOutput {
    NodeOutput::MlModel(MLModelImpl {
        model: "resnet18".into(),
        raw_model: graph.to_vec(),
        extra_data: br#"{"why":"fits"}"#.to_vec(),
        task_id: TaskIdImpl::new(problem, 1),
        ..Default::default()
    })
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn.query_row(sql, [], |r| r.get(0)).expect("count")
}

#[test]
fn a_graph_proposed_for_many_tasks_is_stored_once_and_read_back_whole() {
    let dir = temp_dir("graphs");
    let store = Store::open(&dir).expect("open");
    let graph: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let other = vec![3u8; 70_000];
    for problem in 1..=5 {
        store.insert_task(&input(problem, 1), 10).expect("insert");
        let g = if problem == 5 { &other } else { &graph };
        let out = model_output(problem, g);
        assert!(store.put_output(&out, 11).expect("store"));
    }
    assert_eq!(count(&store, "SELECT COUNT(*) FROM models"), 2);
    drop(store);
    let store = Store::open(&dir).expect("reopen");
    for problem in 1..=5 {
        let back = store
            .output(TaskIdImpl::new(problem, 1), NodeId::MlModel)
            .expect("read")
            .expect("there");
        let g = if problem == 5 { &other } else { &graph };
        assert_eq!(back, model_output(problem, g), "problem {problem}");
    }
    // An output of an unknown task stores neither it nor its graph.
    assert!(!store
        .put_output(&model_output(9, &[1; 10]), 12)
        .expect("unknown"));
    assert_eq!(count(&store, "SELECT COUNT(*) FROM models"), 2);
    // Pruning the only task that used a graph deletes the graph, and only that one.
    store
        .set_state(TaskIdImpl::new(5, 1), &TaskState::Done, 13)
        .expect("end 5");
    assert_eq!(store.prune(14).expect("prune"), 1);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM models"), 1);
    let kept = store
        .output(TaskIdImpl::new(1, 1), NodeId::MlModel)
        .expect("read")
        .expect("there");
    assert_eq!(kept, model_output(1, &graph));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_version_1_store_is_upgraded_and_its_inline_graphs_stay_readable() {
    let dir = temp_dir("v1");
    let inline = model_output(1, &[5; 4000]);
    {
        // A version 1 file: outputs without the digest column, the graph inline.
        let conn = Connection::open(dir.join(DB_FILE)).expect("create");
        let v1 = SCHEMA
            .replace("    raw_model    BLOB,\n", "")
            .replace(
                "CREATE TABLE IF NOT EXISTS models (\n    digest BLOB PRIMARY KEY,\n    bytes  BLOB NOT NULL\n);",
                "",
            );
        assert!(
            !v1.contains("models"),
            "the version 1 schema has no models table"
        );
        conn.execute_batch(&v1).expect("v1 schema");
        conn.execute_batch("PRAGMA user_version = 1").expect("v1");
        conn.execute(
            "INSERT INTO tasks VALUES (1, 1, 'done', NULL, 1, 2, ?1)",
            [codec::encode(&input(1, 1)).expect("encode")],
        )
        .expect("task");
        conn.execute(
            "INSERT INTO outputs VALUES (1, 1, ?1, 'MLModelImpl', ?2, NULL, 3)",
            params![NodeId::MlModel.value(), inline.encode().expect("encode")],
        )
        .expect("output");
    }
    let store = Store::open(&dir).expect("open a version 1 store");
    assert_eq!(count(&store, "PRAGMA user_version"), SCHEMA_VERSION);
    let back = store
        .output(TaskIdImpl::new(1, 1), NodeId::MlModel)
        .expect("read")
        .expect("there");
    assert_eq!(back, inline);
    store.insert_task(&input(2, 1), 4).expect("new task");
    let new = model_output(2, &[6; 5000]);
    assert!(store.put_output(&new, 5).expect("store"));
    drop(store);
    let store = Store::open(&dir).expect("reopen");
    assert_eq!(
        store
            .output(TaskIdImpl::new(2, 1), NodeId::MlModel)
            .expect("read"),
        Some(new)
    );
    let _ = std::fs::remove_dir_all(dir);
}
