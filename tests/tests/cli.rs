//! Protects the `sustainml` command across processes: launch files are validated with
//! every problem and its line, `launch` starts and stops a whole graph and restarts
//! failing nodes, kills nodes deaf to SIGTERM after the grace period or at a second
//! Ctrl-C, `node list` sees live nodes, `topic list|echo` show the topic table and
//! decoded samples.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sustainml_tests::{assert_isolated, repo_root, sample_line, temp_file, workspace_bin, Peer};
use sustainml_types::{samples, topics};

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");

fn sustainml() -> PathBuf {
    workspace_bin("sustainml")
}

fn bin_dir() -> String {
    sustainml()
        .parent()
        .expect("bin dir")
        .to_str()
        .expect("path")
        .to_owned()
}

/// Runs `sustainml args…` to completion on `domain`: (exit code, stdout, stderr).
fn run(domain: u16, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(sustainml())
        .args(args)
        .env("SUSTAINML_DOMAIN_ID", domain.to_string())
        .output()
        .expect("run sustainml");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A launcher in its own scratch directory, its output in files there.
fn spawn_launcher(domain: u16, tag: &str, args: &[&str]) -> (Child, PathBuf) {
    let dir = repo_root().join(format!("target/test-data/cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let child = Command::new(sustainml())
        .args(args)
        .current_dir(&dir)
        .env("SUSTAINML_DOMAIN_ID", domain.to_string())
        .stdin(Stdio::null())
        .stdout(File::create(dir.join("stdout")).expect("stdout file"))
        .stderr(File::create(dir.join("stderr")).expect("stderr file"))
        .spawn()
        .expect("start sustainml launch");
    (child, dir)
}

fn wait_exit(child: &mut Child, timeout: Duration) -> i32 {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sustainml launch still running after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_default()
}

#[test]
fn check_reports_every_problem_with_its_line() {
    // A broken launch file is refused as a whole, each problem named with its line.
    assert_isolated();
    let file = temp_file(
        "broken-launch.toml",
        &[
            "[[node]]".into(),
            "kind = \"ml-modle\"".into(),
            "[[node]]".into(),
            "kind = \"orchestrator\"".into(),
            "restart = 3".into(),
            "colour = \"red\"".into(),
            "[[node]]".into(),
            "kind = \"orchestrator\"".into(),
        ],
    );
    let path = file.to_str().expect("path");
    let (code, _, err) = run(
        150,
        &["launch", "--check", path, "--bin-dir", "/nonexistent"],
    );
    assert_eq!(code, 2, "{err}");
    for expected in [
        ":line 2: unknown node kind `ml-modle`",
        ":line 3: node `orchestrator`: binary /nonexistent/sustainml-orchestrator",
        ":line 5: `restart` must be",
        ":line 6: unknown key `colour`",
        ":line 7: duplicate node name `orchestrator`",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}

#[test]
fn launch_local_starts_the_graph_and_stops_it_on_ctrl_c() {
    // `sustainml launch launch/local.toml` brings up the six nodes; Ctrl-C stops them all.
    assert_isolated();
    let file = repo_root().join("launch/local.toml");
    let bins = bin_dir();
    let args = ["launch", file.to_str().expect("path"), "--bin-dir", &bins];
    let (mut launcher, dir) = spawn_launcher(151, "local", &args);
    let wanted = [
        "APP_REQUIREMENTS_NODE",
        "CARBON_FOOTPRINT_NODE",
        "HW_CONSTRAINTS_NODE",
        "HW_RESOURCES_NODE",
        "ML_MODEL_METADATA_NODE",
        "ML_MODEL_NODE",
    ];
    let mut idle = Vec::new();
    for _ in 0..10 {
        let (code, out, err) = run(151, &["node", "list", "--json", "--wait", "4"]);
        assert_eq!(code, 0, "{err}");
        idle = out
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["status"] == "NODE_IDLE")
            .filter_map(|v| v["node"].as_str().map(str::to_owned))
            .collect();
        if wanted.iter().all(|w| idle.iter().any(|n| n == w)) {
            break;
        }
    }
    assert!(
        wanted.iter().all(|w| idle.iter().any(|n| n == w)),
        "idle: {idle:?}\nlauncher:\n{}",
        read(&dir, "stderr")
    );
    let stderr = read(&dir, "stderr");
    let pids: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.split("(pid ").nth(1))
        .map(|p| p.trim_end_matches(')').to_owned())
        .collect();
    assert_eq!(pids.len(), 7, "{stderr}");
    let status = Command::new("kill")
        .args(["-INT", &launcher.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let code = wait_exit(&mut launcher, Duration::from_secs(60));
    assert_eq!(code, 0, "{}", read(&dir, "stderr"));
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "child {pid} still there"
        );
    }
}

#[test]
fn a_failing_node_is_restarted_then_given_up() {
    // restart = "on-failure" restarts a crashing node, then gives up after max_restarts.
    assert_isolated();
    let file = temp_file(
        "restart-launch.toml",
        &[
            "[[node]]".into(),
            "name = \"broken\"".into(),
            "kind = \"orchestrator\"".into(),
            "args = [\"--deadline\", \"-1\"]".into(),
            "restart = \"on-failure\"".into(),
            "max_restarts = 2".into(),
        ],
    );
    let bins = bin_dir();
    let args = ["launch", file.to_str().expect("path"), "--bin-dir", &bins];
    let (mut launcher, dir) = spawn_launcher(152, "restart", &args);
    let code = wait_exit(&mut launcher, Duration::from_secs(60));
    let err = read(&dir, "stderr");
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.matches("[broken] started").count(), 3, "{err}");
    assert!(err.contains("[broken] gave up after 2 restart(s)"), "{err}");
}

#[test]
fn topic_list_shows_the_fourteen_topics() {
    // `sustainml topic list` prints every SustainML topic with its type.
    assert_isolated();
    let (code, out, err) = run(153, &["topic", "list"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 14, "{out}");
    assert!(out.contains("/sustainml/status") && out.contains("NodeStatusImpl"));
}

#[test]
fn topic_echo_decodes_a_published_sample() {
    // `sustainml topic echo --json` prints a sample another process published, decoded.
    assert_isolated();
    let line = sample_line(topics::USER_INPUT, samples::user_input(), 42, 1);
    let file = temp_file("echo-input.txt", &[line]);
    let publ = Peer::spawn(
        "pub",
        Path::new(PEER),
        &[
            "pub",
            "--input",
            file.to_str().expect("path"),
            "--linger",
            "120",
        ],
        154,
        &[],
    );
    let (code, out, err) = run(
        154,
        &[
            "topic",
            "echo",
            "/sustainml/user_input",
            "--json",
            "--count",
            "1",
            "--timeout",
            "60",
        ],
    );
    drop(publ);
    assert_eq!(code, 0, "{err}");
    let sample: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    assert_eq!(sample["task_id"]["problem_id"], 42, "{out}");
}

#[test]
fn topic_echo_of_an_unknown_topic_is_one_line_and_exit_2() {
    // A mistyped topic gets one clear line naming it and the known topics, exit 2.
    let (code, _, err) = run(155, &["topic", "echo", "/sustainml/nope"]);
    assert_eq!(code, 2);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("/sustainml/nope") && err.contains("/sustainml/status"));
}

/// A node program that ignores SIGTERM and prints its pid.
fn deaf_node(tag: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = repo_root().join(format!(
        "target/test-data/cli-deaf-{tag}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("program dir");
    let script = dir.join("deaf.sh");
    // The ignored SIGTERM survives the exec; only SIGKILL ends it.
    std::fs::write(
        &script,
        "#!/bin/sh\ntrap '' TERM\necho \"deaf $$\"\nexec sleep 100000\n",
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

/// Starts a launcher of one deaf node; returns it, its scratch dir and the node's pid.
fn launch_deaf_node(domain: u16, tag: &str, grace: &str) -> (Child, PathBuf, String) {
    let program = deaf_node(tag);
    let file = temp_file(
        &format!("deaf-{tag}.toml"),
        &[
            "[[node]]".into(),
            "name = \"app-requirements\"".into(),
            format!("command = [\"{}\"]", program.display()),
        ],
    );
    let args = ["launch", file.to_str().expect("path"), "--grace", grace];
    let (launcher, dir) = spawn_launcher(domain, tag, &args);
    let deadline = Instant::now() + Duration::from_secs(30);
    let pid = loop {
        let out = read(&dir, "stdout");
        if let Some(pid) = out
            .lines()
            .find_map(|l| l.split_once("[app-requirements] deaf ").map(|(_, pid)| pid))
        {
            break pid.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "the node never started: {out}");
        std::thread::sleep(Duration::from_millis(50));
    };
    (launcher, dir, pid)
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
}

#[test]
fn a_node_deaf_to_sigterm_is_killed_after_the_grace_period() {
    // Ctrl-C asks every node to stop; one that does not is killed after --grace.
    assert_isolated();
    let (mut launcher, dir, pid) = launch_deaf_node(156, "grace", "1");
    interrupt(&launcher);
    let code = wait_exit(&mut launcher, Duration::from_secs(60));
    let err = read(&dir, "stderr");
    assert_eq!(code, 0, "a stop by Ctrl-C is a good end:\n{err}");
    assert!(
        err.contains("[app-requirements] still running after 1.0 s: killing it"),
        "{err}"
    );
    assert!(err.contains("[app-requirements] killed"), "{err}");
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "{pid} lives");
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    // With a long grace period, a second Ctrl-C does not wait for it.
    assert_isolated();
    let (mut launcher, dir, pid) = launch_deaf_node(157, "twice", "3600");
    interrupt(&launcher);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !read(&dir, "stderr").contains("Ctrl-C again to kill") {
        assert!(Instant::now() < deadline, "{}", read(&dir, "stderr"));
        std::thread::sleep(Duration::from_millis(50));
    }
    interrupt(&launcher);
    // Far less than the hour of grace.
    let code = wait_exit(&mut launcher, Duration::from_secs(60));
    let err = read(&dir, "stderr");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("killing every node"), "{err}");
    assert!(!err.contains("still running after"), "{err}");
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "{pid} lives");
}
