//! Protects the node binaries and the orchestrator as command-line programs: `--help`
//! names every flag and its environment variable, `--version` prints the version, an
//! unknown flag or a bad value (from a flag or a variable) is refused with exit code 2
//! naming it, flags and variables reach a running node, and the orchestrator without
//! `--data-dir` keeps its store in the per-user data directory of its domain, not in
//! the working directory.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use sustainml_dds::{Participant, Subscriber};
use sustainml_tests::{assert_isolated, repo_root, sample_line, temp_file, workspace_bin, Peer};
use sustainml_types::topics;
use sustainml_types::*;

const PEER: &str = env!("CARGO_BIN_EXE_sustainml-dds-peer");

/// The six module node binaries.
const NODES: [&str; 6] = [
    "sustainml-app-requirements",
    "sustainml-hw-constraints",
    "sustainml-ml-model-metadata",
    "sustainml-ml-model",
    "sustainml-hw-resources",
    "sustainml-carbon-footprint",
];
const ORCHESTRATOR: &str = "sustainml-orchestrator";

/// Every flag of a node binary with its environment variable.
const NODE_FLAGS: [(&str, &str); 6] = [
    ("--domain", "SUSTAINML_DOMAIN_ID"),
    ("--concurrency", "SUSTAINML_CONCURRENCY"),
    ("--input-timeout", "SUSTAINML_INPUT_TIMEOUT"),
    ("--task-timeout", "SUSTAINML_TASK_TIMEOUT"),
    ("--max-pending", "SUSTAINML_MAX_PENDING"),
    ("--config-timeout", "SUSTAINML_CONFIG_TIMEOUT"),
];

/// Every flag of the orchestrator with its environment variable ("" for none).
const ORCHESTRATOR_FLAGS: [(&str, &str); 7] = [
    ("--bind", "SUSTAINML_ORCHESTRATOR_BIND"),
    ("--allow-remote", ""),
    ("--data-dir", "SUSTAINML_DATA_DIR"),
    ("--domain", "SUSTAINML_DOMAIN_ID"),
    ("--deadline", "SUSTAINML_ORCHESTRATOR_DEADLINE"),
    ("--config-timeout", "SUSTAINML_ORCHESTRATOR_CONFIG_TIMEOUT"),
    ("--keep-days", "SUSTAINML_ORCHESTRATOR_KEEP_DAYS"),
];

/// A domain no other test uses, named in the environment of every child that should
/// never reach DDS (so that a binary that wrongly started would stay out of the way).
const PARSE_ONLY_DOMAIN: u16 = 56;

/// The binaries' command line, without any of their variables from this process's
/// environment: only `env` is added.
fn command(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(workspace_bin(bin));
    cmd.args(args).stdin(Stdio::null());
    for (_, var) in NODE_FLAGS.iter().chain(&ORCHESTRATOR_FLAGS) {
        if !var.is_empty() {
            cmd.env_remove(var);
        }
    }
    cmd.env("SUSTAINML_DOMAIN_ID", PARSE_ONLY_DOMAIN.to_string());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `bin args…` to its end: (exit code, stdout, stderr). A binary still running
/// after 30 s (one that took a bad command line and started) is killed and fails the
/// test.
fn run(bin: &str, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let child = command(bin, args, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out: Output = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(out) => out.expect("wait for the binary"),
        Err(_) => {
            sustainml_tests::sigkill(pid);
            panic!("{bin} {args:?} still running after 30 s: it did not refuse its command line")
        }
    };
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn all_binaries() -> impl Iterator<Item = &'static str> {
    NODES.into_iter().chain([ORCHESTRATOR])
}

#[test]
fn help_names_every_flag_and_its_variable() {
    assert_isolated();
    for bin in all_binaries() {
        let (code, out, err) = run(bin, &["--help"], &[]);
        assert_eq!(code, 0, "{bin} --help: {err}");
        assert!(
            out.contains(&format!("Usage: {bin} [OPTIONS]")),
            "{bin}:\n{out}"
        );
        let flags: &[(&str, &str)] = if bin == ORCHESTRATOR {
            &ORCHESTRATOR_FLAGS
        } else {
            &NODE_FLAGS
        };
        for (flag, var) in flags.iter().chain(&[("--help", ""), ("--version", "")]) {
            assert!(
                out.contains(flag),
                "{bin} --help does not name {flag}:\n{out}"
            );
            if !var.is_empty() {
                assert!(
                    out.contains(&format!("[env: {var}=")),
                    "{bin} --help does not name {var}:\n{out}"
                );
            }
        }
    }
}

#[test]
fn the_orchestrator_help_states_its_default_data_directory() {
    assert_isolated();
    let (code, out, err) = run(ORCHESTRATOR, &["--help"], &[]);
    assert_eq!(code, 0, "{err}");
    // clap (built without its wrap_help feature) keeps each help line whole.
    assert!(
        out.contains("$XDG_DATA_HOME/sustainml/orchestrator/domain-<ID>")
            && out.contains("~/.local/share"),
        "{out}"
    );
}

#[test]
fn version_prints_the_version() {
    assert_isolated();
    for bin in all_binaries() {
        for flag in ["--version", "-V"] {
            let (code, out, err) = run(bin, &[flag], &[]);
            assert_eq!(code, 0, "{bin} {flag}: {err}");
            assert_eq!(
                out.trim(),
                format!("{bin} {}", env!("CARGO_PKG_VERSION")),
                "{bin} {flag}"
            );
        }
    }
}

#[test]
fn an_unknown_flag_is_a_usage_error_naming_it() {
    assert_isolated();
    for bin in all_binaries() {
        for args in [&["--no-such-flag"][..], &["--domain", "3", "extra"]] {
            let (code, out, err) = run(bin, args, &[]);
            assert_eq!(code, 2, "{bin} {args:?}: {err}");
            let named = args.last().expect("an argument");
            assert!(
                err.contains(&format!("unexpected argument '{named}'")),
                "{bin} {args:?}: {err}"
            );
            assert!(out.is_empty(), "{bin} {args:?} wrote to stdout: {out}");
        }
    }
}

#[test]
fn a_bad_value_is_a_usage_error_naming_its_flag() {
    assert_isolated();
    let nodes: &[(&[&str], &str)] = &[
        (
            &["--concurrency", "0"],
            "--concurrency (SUSTAINML_CONCURRENCY) must be at least 1, not 0",
        ),
        (
            &["--max-pending", "0"],
            "--max-pending (SUSTAINML_MAX_PENDING) must be at least 1, not 0",
        ),
        (
            &["--task-timeout", "abc"],
            "invalid value 'abc' for '--task-timeout <SECS>'",
        ),
        (
            &["--input-timeout", "-1"],
            "--input-timeout (SUSTAINML_INPUT_TIMEOUT) must be a positive number of seconds, not -1",
        ),
        (
            &["--config-timeout", "0"],
            "--config-timeout (SUSTAINML_CONFIG_TIMEOUT) must be a positive number of seconds, not 0",
        ),
        (&["--concurrency", "many"], "invalid value 'many' for '--concurrency <N>'"),
        (&["--concurrency"], "a value is required for '--concurrency <N>'"),
    ];
    let shared: &[(&[&str], &str)] = &[
        (
            &["--domain", "233"],
            "invalid value '233' for '--domain <ID>': must be an integer from 0 to 232",
        ),
        (&["--domain", "x"], "invalid value 'x' for '--domain <ID>'"),
    ];
    let orchestrator: &[(&[&str], &str)] = &[
        (
            &["--deadline", "0"],
            "--deadline must be a positive number of seconds, not 0",
        ),
        (
            &["--deadline", "abc"],
            "invalid value 'abc' for '--deadline <SECS>'",
        ),
        (
            &["--keep-days", "-1"],
            "--keep-days must be a positive number of days, not -1",
        ),
        (
            &["--bind", "nowhere"],
            "invalid value 'nowhere' for '--bind <BIND>'",
        ),
        (
            &["--bind", "0.0.0.0:0"],
            "pass --allow-remote if that is intended",
        ),
    ];
    for bin in all_binaries() {
        let own = if bin == ORCHESTRATOR {
            orchestrator
        } else {
            nodes
        };
        for (args, expected) in own.iter().chain(shared) {
            let (code, _, err) = run(bin, args, &[]);
            assert_eq!(code, 2, "{bin} {args:?}: {err}");
            assert!(
                err.contains(expected),
                "{bin} {args:?}: want {expected:?} in:\n{err}"
            );
            assert!(
                err.contains("--help"),
                "{bin} {args:?}: no hint at --help:\n{err}"
            );
        }
    }
}

#[test]
fn a_bad_value_from_a_variable_is_a_usage_error_naming_it() {
    assert_isolated();
    for bin in NODES {
        for (var, value, expected) in [
            (
                "SUSTAINML_CONCURRENCY",
                "0",
                "--concurrency (SUSTAINML_CONCURRENCY) must be at least 1, not 0",
            ),
            (
                "SUSTAINML_TASK_TIMEOUT",
                "soon",
                "invalid value 'soon' for '--task-timeout <SECS>'",
            ),
            (
                "SUSTAINML_DOMAIN_ID",
                "abc",
                "must be an integer from 0 to 232 (given by --domain or SUSTAINML_DOMAIN_ID)",
            ),
        ] {
            let (code, _, err) = run(bin, &[], &[(var, value)]);
            assert_eq!(code, 2, "{bin} {var}={value}: {err}");
            assert!(err.contains(expected), "{bin} {var}={value}: {err}");
        }
    }
    let (code, _, err) = run(
        ORCHESTRATOR,
        &[],
        &[("SUSTAINML_ORCHESTRATOR_DEADLINE", "-5")],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--deadline must be a positive number of seconds, not -5"),
        "{err}"
    );
}

/// A reader of `/sustainml/status` on one domain, in this process.
struct StatusWatch {
    runtime: tokio::runtime::Runtime,
    subscriber: Subscriber<NodeStatusImpl>,
    _participant: Participant,
}

impl StatusWatch {
    fn new(domain: u16) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let (participant, subscriber) = runtime.block_on(async {
            let participant = Participant::builder()
                .name("NODE_CLI_WATCH")
                .domain(domain)
                .build()
                .expect("participant");
            let subscriber = participant
                .subscriber::<NodeStatusImpl>(topics::STATUS)
                .expect("status reader");
            (participant, subscriber)
        });
        Self {
            runtime,
            subscriber,
            _participant: participant,
        }
    }

    /// The first status satisfying `want`; fails the test (with `node`'s log) after
    /// `timeout`.
    fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        node: &Peer,
        want: impl Fn(&NodeStatusImpl) -> bool,
    ) -> NodeStatusImpl {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let got = self.runtime.block_on(async {
                tokio::time::timeout_at(deadline, self.subscriber.recv()).await
            });
            match got {
                Ok(Ok(r)) if want(&r.value) => return r.value,
                Ok(Ok(r)) => seen.push(r.value),
                Ok(Err(e)) => panic!("status reader failed: {e}"),
                Err(_) => panic!(
                    "no status {what} within {timeout:?}; seen:\n{seen:#?}\nnode log:\n{}",
                    node.stderr_text()
                ),
            }
        }
    }
}

#[test]
fn a_flag_and_a_variable_reach_a_running_node() {
    // --domain (over a different SUSTAINML_DOMAIN_ID) puts the node on its domain, and
    // SUSTAINML_INPUT_TIMEOUT=1 evicts an incomplete task after a second instead of
    // the default five minutes.
    assert_isolated();
    let domain = 57;
    let mut watch = StatusWatch::new(domain);
    let node = Peer::spawn(
        "sustainml-hw-resources",
        &workspace_bin("sustainml-hw-resources"),
        &["--domain", &domain.to_string(), "--concurrency", "2"],
        PARSE_ONLY_DOMAIN,
        &[("SUSTAINML_INPUT_TIMEOUT", "1")],
    );
    watch.wait_for(
        "NODE_IDLE from HW_RESOURCES_NODE",
        Duration::from_secs(60),
        &node,
        |s| {
            s.node_name == "HW_RESOURCES_NODE"
                && s.task_id == TaskIdImpl::default()
                && s.node_status == Status::Idle
        },
    );
    // One of the task's three inputs: the other two never come.
    let file = temp_file(
        &format!("node-cli-input-{domain}.txt"),
        &[sample_line(
            topics::ML_MODEL_OUTPUT,
            samples::ml_model(),
            1,
            1,
        )],
    );
    let publisher = Peer::spawn(
        "pub",
        Path::new(PEER),
        &[
            "pub",
            "--input",
            file.to_str().expect("path"),
            "--linger",
            "60",
        ],
        domain,
        &[],
    );
    let evicted = watch.wait_for(
        "TASK_ERROR of the incomplete task 1.1",
        Duration::from_secs(30),
        &node,
        |s| s.task_id == TaskIdImpl::new(1, 1) && s.task_status == TaskStatus::Error,
    );
    assert!(
        evicted
            .error_description
            .starts_with("timed out waiting for inputs; missing inputs:"),
        "{evicted:?}"
    );
    drop(publisher);
}

/// A scratch directory of this test run, emptied.
fn scratch(tag: &str) -> PathBuf {
    let dir = repo_root().join(format!(
        "target/test-data/node-cli-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The orchestrator started in `cwd` with `env`, once it listens; stopped by SIGTERM
/// and waited for when the test calls [`stop`].
fn start_orchestrator(cwd: &Path, env: &[(&str, &str)]) -> (Child, String) {
    let mut child = command(ORCHESTRATOR, &["--bind", "127.0.0.1:0"], env)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the orchestrator");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("listening on ") && tx.send(line).is_err() {
                break;
            }
        }
    });
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => (child, line),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the orchestrator did not listen within 60 s:\n{}",
                log.join().unwrap_or_default()
            );
        }
    }
}

fn stop(mut child: Child) {
    sustainml_tests::delivery::signal(child.id(), "TERM");
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(status) => assert!(status.expect("wait").success(), "orchestrator exit"),
        Err(_) => {
            sustainml_tests::sigkill(pid);
            panic!("the orchestrator did not stop within 30 s of SIGTERM");
        }
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn the_orchestrator_keeps_its_store_in_the_per_user_data_directory_of_its_domain() {
    assert_isolated();
    let domain = 58;
    let root = scratch("store");
    let xdg = root.join("xdg");
    let cwd = root.join("cwd");
    std::fs::create_dir_all(&cwd).expect("cwd");
    let xdg_text = xdg.to_str().expect("path").to_owned();
    let domain_text = domain.to_string();
    let env = [
        ("XDG_DATA_HOME", xdg_text.as_str()),
        ("SUSTAINML_DOMAIN_ID", domain_text.as_str()),
    ];

    let (child, listening) = start_orchestrator(&cwd, &env);
    let store = xdg.join(format!("sustainml/orchestrator/domain-{domain}"));
    let files = listing(&store);
    stop(child);
    assert!(
        !files.is_empty(),
        "no store in {} ({listening}); {}: {:?}",
        store.display(),
        xdg.display(),
        listing(&xdg)
    );
    assert!(
        listing(&cwd).is_empty(),
        "litter in the working directory: {:?}",
        listing(&cwd)
    );
    assert_eq!(
        listing(&xdg.join("sustainml/orchestrator")),
        [format!("domain-{domain}")]
    );

    // SUSTAINML_DATA_DIR stands for --data-dir.
    let explicit = root.join("explicit");
    let explicit_text = explicit.to_str().expect("path").to_owned();
    let (child, _) = start_orchestrator(
        &cwd,
        &[
            env[0],
            env[1],
            ("SUSTAINML_DATA_DIR", explicit_text.as_str()),
        ],
    );
    let files = listing(&explicit);
    stop(child);
    assert!(!files.is_empty(), "no store in {}", explicit.display());
    assert!(listing(&cwd).is_empty(), "litter: {:?}", listing(&cwd));
}
