//! `sustainml launch` as the tests drive it: a launcher in a scratch directory, its
//! output and its log directory there, and the processes it started.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{repo_root, workspace_bin};

/// A running `sustainml launch FILE`.
#[derive(Debug)]
pub struct Launcher {
    child: Option<Child>,
    /// Its scratch directory: `stdout`, `stderr` and `log/` (the launch's log directory).
    pub dir: PathBuf,
}

impl Launcher {
    /// Starts `sustainml launch FILE ARGS…` on `domain` in a fresh scratch directory
    /// named after `tag`, with `--log-dir` there.
    pub fn start(domain: u16, tag: &str, file: &Path, args: &[&str]) -> Self {
        let dir = repo_root().join(format!(
            "target/test-data/launch-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Self::start_in(domain, &dir, file, args)
    }

    /// [`start`](Self::start) in the scratch directory `dir`.
    pub fn start_in(domain: u16, dir: &Path, file: &Path, args: &[&str]) -> Self {
        std::fs::create_dir_all(dir).expect("scratch dir");
        let log_dir = dir.join("log");
        let child = Command::new(workspace_bin("sustainml"))
            .arg("launch")
            .arg(file)
            .arg("--log-dir")
            .arg(&log_dir)
            .args(args)
            .current_dir(dir)
            .env("SUSTAINML_DOMAIN_ID", domain.to_string())
            .stdin(Stdio::null())
            .stdout(File::create(dir.join("stdout")).expect("stdout file"))
            .stderr(File::create(dir.join("stderr")).expect("stderr file"))
            .spawn()
            .expect("start sustainml launch");
        Self {
            child: Some(child),
            dir: dir.to_owned(),
        }
    }

    /// The pids the launcher started node `name` with (`TIMESTAMP [NAME] started
    /// PROGRAM (pid N)`), in order, one per restart: each run's supervisor, which
    /// leads the node's process group.
    pub fn pids(&self, name: &str) -> Vec<u32> {
        let prefix = format!("[{name}] started ");
        self.stderr()
            .lines()
            .filter(|l| l.contains(&prefix))
            .filter_map(|l| l.rsplit("(pid ").next())
            .filter_map(|p| p.trim_end_matches(')').parse().ok())
            .collect()
    }

    /// The launcher's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Everything it printed on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
    }

    /// Everything it printed on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.join("stdout")).unwrap_or_default()
    }

    /// Waits until its stderr holds `text` `count` times; fails the test after
    /// `timeout`, showing the output.
    pub fn wait_for(&self, text: &str, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.stderr().matches(text).count() < count {
            assert!(
                Instant::now() < deadline,
                "{text:?} ×{count} not in the launcher's output within {timeout:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The pids of the supervisors it started ("started … (pid N)"), which lead the
    /// nodes' process groups.
    pub fn group_leaders(&self) -> Vec<i32> {
        self.stderr()
            .lines()
            .filter_map(|l| l.split("(pid ").nth(1))
            .filter_map(|p| p.trim_end_matches(')').parse().ok())
            .collect()
    }

    /// Sends `signal` (e.g. "-INT", "-KILL") to the launcher.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Waits for its exit; returns the exit code (-1 for a signal).
    pub fn wait_exit(&mut self, timeout: Duration) -> i32 {
        let child = self.child.as_mut().expect("launcher");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "sustainml launch still running after {timeout:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Stops the launcher with Ctrl-C (SIGINT), so its nodes stop with it, and waits for
/// it (SIGKILL after 30 s; its nodes' supervisors then take them down).
impl Drop for Launcher {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The live processes (zombies excluded) whose process group is one of `groups`.
pub fn processes_in_groups(groups: &[i32]) -> Vec<(i32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for pid in entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok()) {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        let mut fields = stat[close + 1..].split_whitespace();
        let state = fields.next();
        let pgrp = fields.nth(1).and_then(|f| f.parse::<i32>().ok());
        if state != Some("Z") && pgrp.is_some_and(|g| groups.contains(&g)) {
            found.push((pid, comm));
        }
    }
    found
}

/// Waits until no live process is left in `groups`; fails the test after `timeout`,
/// naming the survivors.
pub fn wait_groups_gone(groups: &[i32], timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let left = processes_in_groups(groups);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still running {timeout:?} later: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Writes `text` to a new executable script `name` in `dir`.
pub fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).expect("script dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}
