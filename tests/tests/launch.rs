//! Protects "launch any node, run it well": a launch file runs any program as a node
//! (a Rust node built on crates/node, a shell wrapper that does not exec, a built-in
//! kind), Ctrl-C stops every process of every node, SIGKILL of the launcher leaves no
//! node running 3 s later, restart policies behave as documented (with the reset after
//! a healthy run), every line is timestamped and kept per node, and `sustainml logs`
//! reads it back. Domains 105-108.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sustainml_tests::launch::{processes_in_groups, script, wait_groups_gone, Launcher};
use sustainml_tests::{assert_isolated, repo_root, workspace_bin};

/// Generous waits on a 2-core machine with debug builds; never asserted as durations.
const WAIT: Duration = Duration::from_secs(90);

fn sustainml(domain: u16, args: &[&str]) -> (i32, String, String) {
    sustainml_tests::run_sustainml(domain, args, "")
}

/// Waits until `sustainml node list` shows every node of `wanted` on `domain`.
fn wait_listed(domain: u16, wanted: &[&str], launcher: &Launcher) {
    let deadline = Instant::now() + WAIT;
    loop {
        let (code, out, err) = sustainml(domain, &["node", "list", "--json", "--wait", "2"]);
        assert_eq!(code, 0, "{err}");
        let listed: Vec<String> = out
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["node"].as_str().map(str::to_owned))
            .collect();
        if wanted.iter().all(|w| listed.iter().any(|n| n == w)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "listed {listed:?}, want {wanted:?}; launcher:\n{}",
            launcher.stderr()
        );
    }
}

fn scratch(tag: &str) -> PathBuf {
    let dir = repo_root().join(format!(
        "target/test-data/launch-files-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

/// A launch file with the three sorts of node: the crates/node example built as a
/// binary, a built-in node behind a shell wrapper that does not exec, a built-in kind.
fn three_sorts(tag: &str) -> PathBuf {
    let dir = scratch(tag);
    let example = workspace_bin("examples/my_node");
    assert!(
        example.is_file(),
        "build the example first: {}",
        example.display()
    );
    // The node is the wrapper's child, not the wrapper itself.
    script(
        &dir,
        "wrapper.sh",
        "#!/bin/sh\necho \"wrapper $$ starts $1\"\n\"$1\"\necho \"wrapper: the node ended\"\n",
    );
    let constraints = workspace_bin("sustainml-hw-constraints");
    let file = dir.join("three.toml");
    std::fs::write(
        &file,
        format!(
            "[[node]]\nname = \"mine\"\ncommand = [\"{}\"]\n\n\
             [[node]]\nname = \"wrapped\"\ncommand = [\"./wrapper.sh\", \"{}\"]\n\n\
             [[node]]\nkind = \"carbon-footprint\"\n",
            example.display(),
            constraints.display()
        ),
    )
    .expect("launch file");
    file
}

const THREE: [&str; 3] = [
    "MY_REQUIREMENTS_NODE",
    "HW_CONSTRAINTS_NODE",
    "CARBON_FOOTPRINT_NODE",
];

#[test]
fn any_program_is_a_node_and_ctrl_c_stops_every_process() {
    assert_isolated();
    let domain = 105;
    let file = three_sorts("ctrl-c");
    let mut launcher = Launcher::start(domain, "ctrl-c", &file, &[]);
    wait_listed(domain, &THREE, &launcher);
    let groups = launcher.group_leaders();
    assert_eq!(groups.len(), 3, "{}", launcher.stderr());
    let before = processes_in_groups(&groups);
    // Three supervisors, the example, the wrapper and its node, the built-in node.
    assert!(before.len() >= 6, "{before:?}");
    launcher.signal("-INT");
    let code = launcher.wait_exit(WAIT);
    assert_eq!(
        code,
        0,
        "a stop by Ctrl-C is a good end:\n{}",
        launcher.stderr()
    );
    assert_eq!(
        processes_in_groups(&groups),
        Vec::new(),
        "left running after the launcher ended"
    );
    // One prefix per line, behind a UTC timestamp.
    let err = launcher.stderr();
    for line in err.lines().filter(|l| !l.is_empty()) {
        let (stamp, rest) = line.split_once(' ').unwrap_or_default();
        assert!(
            stamp.len() == 24 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "no timestamp: {line:?}"
        );
        assert!(rest.starts_with('['), "no prefix: {line:?}");
    }
    assert!(err.contains("[wrapped] started"), "{err}");
}

#[test]
fn sigkill_of_the_launcher_leaves_no_node_running() {
    assert_isolated();
    let domain = 106;
    let file = three_sorts("sigkill");
    let mut launcher = Launcher::start(domain, "sigkill", &file, &[]);
    wait_listed(domain, &THREE, &launcher);
    let groups = launcher.group_leaders();
    assert_eq!(groups.len(), 3, "{}", launcher.stderr());
    assert!(processes_in_groups(&groups).len() >= 6);
    launcher.signal("-KILL");
    assert_eq!(launcher.wait_exit(WAIT), -1);
    wait_groups_gone(&groups, Duration::from_secs(3));
}

/// Starts a launch of one node `node` (its keys), from a file in `dir`; waits for the
/// launcher to end and returns it.
fn run_to_end(dir: &Path, tag: &str, node: &str) -> Launcher {
    let file = dir.join(format!("{tag}.toml"));
    std::fs::write(&file, format!("[[node]]\nname = \"crash\"\n{node}")).expect("file");
    let mut launcher = Launcher::start(107, tag, &file, &[]);
    launcher.wait_exit(WAIT);
    launcher
}

#[test]
fn restart_policies_behave_as_documented() {
    assert_isolated();
    let dir = scratch("programs");
    let ok = script(&dir, "ok.sh", "#!/bin/sh\necho fine\nexit 0\n");
    let ok = ok.display();

    // always: even a clean exit is restarted, max_restarts times in a row.
    let always = run_to_end(
        &dir,
        "always",
        &format!("command = [\"{ok}\"]\nrestart = \"always\"\nmax_restarts = 2\n"),
    );
    let err = always.stderr();
    assert_eq!(err.matches("[crash] started").count(), 3, "{err}");
    assert!(
        err.contains(
            "[crash] restart 1 of 2 in 0.5 s: it ended (exit code 0) and restart = \"always\""
        ),
        "{err}"
    );
    assert!(err.contains("[crash] restart 2 of 2 in 1.0 s"), "{err}");
    assert!(
        err.contains("[crash] gave up after 2 restart(s) in a row"),
        "{err}"
    );

    // on-failure: a clean exit is the end.
    let on_failure = run_to_end(
        &dir,
        "on-failure",
        &format!("command = [\"{ok}\"]\nrestart = \"on-failure\"\n"),
    );
    let err = on_failure.stderr();
    assert_eq!(err.matches("[crash] started").count(), 1, "{err}");
    assert!(err.contains("[crash] exited: exit code 0"), "{err}");
    assert!(!err.contains("restart 1"), "{err}");
}

#[test]
fn a_healthy_run_resets_the_restart_count() {
    assert_isolated();
    let dir = scratch("healthy");
    let count = dir.join("runs");
    // Fails at once, except the third run, which stays up 2 s (healthy_after = 1).
    let flaky = script(
        &dir,
        "flaky.sh",
        &format!(
            "#!/bin/sh\nn=$(($(cat {c} 2>/dev/null || echo 0) + 1))\necho $n > {c}\necho \"run $n\"\n\
             if [ \"$n\" = 3 ]; then sleep 2; fi\nexit 1\n",
            c = count.display()
        ),
    );
    let launcher = run_to_end(
        &dir,
        "healthy",
        &format!(
            "command = [\"{}\"]\nrestart = \"on-failure\"\nmax_restarts = 2\nhealthy_after = 1\n",
            flaky.display()
        ),
    );
    let err = launcher.stderr();
    // 1, 2 fail (restarts 1 and 2), 3 is healthy (count reset, restart 1 again), 4 and
    // 5 fail (restart 2, then give up).
    assert_eq!(err.matches("[crash] started").count(), 5, "{err}");
    assert_eq!(
        err.matches("restart count and backoff reset").count(),
        1,
        "{err}"
    );
    assert_eq!(err.matches("[crash] restart 1 of 2").count(), 2, "{err}");
    assert!(
        err.contains("[crash] gave up after 2 restart(s) in a row"),
        "{err}"
    );
    assert!(err.contains("exit code 1 after"), "{err}");
}

#[test]
fn check_names_a_missing_or_unusable_program_with_its_line() {
    let dir = scratch("check");
    script(&dir, "fine.sh", "#!/bin/sh\n");
    std::fs::write(dir.join("plain.txt"), "not a program").expect("write");
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "[[node]]\nname = \"a\"\ncommand = [\"./fine.sh\"]\n\
         [[node]]\nname = \"b\"\ncommand = [\"no-such-program-here\"]\n\
         [[node]]\nname = \"c\"\ncommand = [\"./plain.txt\"]\n\
         [[node]]\nname = \"d\"\nkind = \"orchestrator\"\ncommand = [\"./fine.sh\"]\n",
    )
    .expect("file");
    let path = file.to_str().expect("path");
    let (code, _, err) = sustainml(0, &["launch", "--check", path]);
    assert_eq!(code, 2, "{err}");
    for expected in [
        ":line 4: node `b`: program `no-such-program-here` not found in PATH",
        ":line 7: node `c`: program `./plain.txt`",
        "is not executable",
        ":line 10: [[node]] with both `kind` and `command`",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert!(!err.contains("line 1:"), "{err}");
}

#[test]
fn logs_reads_back_what_each_node_said() {
    assert_isolated();
    let dir = scratch("logs");
    let talk = script(
        &dir,
        "talk.sh",
        "#!/bin/sh\necho \"hello from $1\"\necho oops >&2\n",
    );
    let file = dir.join("talk.toml");
    std::fs::write(
        &file,
        format!(
            "[[node]]\nname = \"one\"\ncommand = [\"{t}\", \"one\"]\n[[node]]\nname = \"two\"\ncommand = [\"{t}\", \"two\"]\n",
            t = talk.display()
        ),
    )
    .expect("file");
    let mut launcher = Launcher::start(107, "logs", &file, &[]);
    assert_eq!(launcher.wait_exit(WAIT), 0, "{}", launcher.stderr());
    let log_dir = launcher.dir.join("log");
    assert!(
        launcher
            .stderr()
            .contains(&format!("logs in {}", log_dir.display())),
        "the log directory is stated at start:\n{}",
        launcher.stderr()
    );
    let log_dir = log_dir.to_str().expect("path");
    let (code, out, err) = sustainml(0, &["logs", "--dir", log_dir]);
    assert_eq!((code, out.as_str()), (0, "one\ntwo\n"), "{err}");
    let (code, out, err) = sustainml(0, &["logs", "one", "--dir", log_dir]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("[one] hello from one"), "{out}");
    assert!(out.contains("[one] oops"), "{out}");
    assert!(out.contains("[one] exited: exit code 0"), "{out}");
    assert!(!out.contains("two"), "only node one's lines: {out}");
    let (code, _, err) = sustainml(0, &["logs", "three", "--dir", log_dir]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no log for node `three`") && err.contains("one, two"),
        "{err}"
    );
    let (code, _, err) = sustainml(0, &["logs", "one", "--dir", "/nonexistent/logs"]);
    assert_eq!(code, 2);
    assert!(err.contains("no launch logs in /nonexistent/logs"), "{err}");
    follow_sees_new_lines(Path::new(log_dir));
}

/// `logs --follow` prints a line appended after it started.
fn follow_sees_new_lines(log_dir: &Path) {
    use std::io::{BufRead, BufReader, Write};
    let mut follow = Command::new(workspace_bin("sustainml"))
        .args(["logs", "two", "--follow", "--dir"])
        .arg(log_dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("logs --follow");
    let mut lines = BufReader::new(follow.stdout.take().expect("stdout")).lines();
    // The existing lines come first: read up to the node's exit line.
    loop {
        let line = lines.next().expect("a line").expect("read");
        if line.contains("[two] exited") {
            break;
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(log_dir.join("two.log"))
        .expect("open the log");
    writeln!(file, "appended later").expect("append");
    let next = lines.next().expect("a line").expect("read");
    assert_eq!(next, "appended later");
    let _ = follow.kill();
    let _ = follow.wait();
}

#[test]
fn the_readme_node_runs_from_its_launch_file() {
    // README "Write a node" shows crates/node/examples/my_node.rs and
    // launch/my-node.toml as they are; launching that file shows both nodes.
    assert_isolated();
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README");
    for shown in ["crates/node/examples/my_node.rs", "launch/my-node.toml"] {
        let text = std::fs::read_to_string(repo_root().join(shown)).expect(shown);
        assert!(
            readme.contains(&text),
            "README does not show {shown} as it is"
        );
    }
    let file = repo_root().join("launch/my-node.toml");
    let domain = 108;
    let mut launcher = Launcher::start(domain, "readme", &file, &[]);
    wait_listed(
        domain,
        &["MY_REQUIREMENTS_NODE", "HW_CONSTRAINTS_NODE"],
        &launcher,
    );
    launcher.signal("-INT");
    assert_eq!(launcher.wait_exit(WAIT), 0, "{}", launcher.stderr());
}
