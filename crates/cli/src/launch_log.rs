//! The launcher's log: every line on the console behind a UTC timestamp and its
//! source (`[NODE]` or `[launch]`), and each node's lines (its output and what the
//! launcher says of it) also in `NODE.log` under the launch's log directory.
//!
//! The default directory is `<state dir>/sustainml/log/<file>-<time>-<pid>`, where the
//! state directory is `$XDG_STATE_HOME`, else `~/.local/state` (the `dirs` crate's
//! `state_dir`); `<state dir>/sustainml/log/latest` then points at it, for
//! `sustainml logs`.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use anyhow::{Context, Result};

/// Where a line goes on the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output (a node's stdout).
    Out,
    /// Standard error (a node's stderr, and everything the launcher says).
    Err,
}

/// The launch's log: console and per-node files.
#[derive(Debug)]
pub struct LaunchLog {
    dir: PathBuf,
    files: Mutex<HashMap<String, File>>,
}

/// `<state dir>/sustainml/log`: where launches keep their logs by default.
pub fn default_root() -> Result<PathBuf> {
    let state = dirs::state_dir()
        .context("no per-user state directory (set XDG_STATE_HOME or HOME, or pass --log-dir)")?;
    Ok(state.join("sustainml").join("log"))
}

impl LaunchLog {
    /// Opens the log in `dir`, or in a new directory under [`default_root`] named after
    /// the launch file (`stem`), the time and this process, which `latest` then points
    /// at.
    pub fn create(dir: Option<PathBuf>, stem: &str) -> Result<Self> {
        let dir = match dir {
            Some(dir) => dir,
            None => {
                let root = default_root()?;
                let time = humantime::format_rfc3339_seconds(SystemTime::now())
                    .to_string()
                    .replace(':', "");
                let dir = root.join(format!("{stem}-{time}-{}", std::process::id()));
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating the log directory {}", dir.display()))?;
                if let Some(name) = dir.file_name() {
                    // A new link renamed over `latest`: atomic, whatever other
                    // launches do at the same time.
                    let latest = root.join("latest");
                    let link = root.join(format!(".latest-{}", std::process::id()));
                    let _ = std::fs::remove_file(&link);
                    std::os::unix::fs::symlink(name, &link)
                        .and_then(|()| std::fs::rename(&link, &latest))
                        .with_context(|| {
                            format!("pointing {} at the new log directory", latest.display())
                        })?;
                }
                dir
            }
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the log directory {}", dir.display()))?;
        Ok(Self {
            dir,
            files: Mutex::new(HashMap::new()),
        })
    }

    /// The log directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A line from or about node `name`: on the console and in `name.log`.
    pub fn node(&self, name: &str, stream: Stream, text: &str) {
        let line = format!("{} [{name}] {text}", now());
        print_line(stream, &line);
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        if !files.contains_key(name) {
            let path = self.dir.join(format!("{name}.log"));
            match OpenOptions::new().create(true).append(true).open(&path) {
                Ok(f) => {
                    files.insert(name.to_owned(), f);
                }
                Err(e) => {
                    print_line(
                        Stream::Err,
                        &format!("{} [launch] cannot write {}: {e}", now(), path.display()),
                    );
                    return;
                }
            }
        }
        if let Some(f) = files.get_mut(name) {
            let _ = writeln!(f, "{line}");
        }
    }

    /// A line of the launcher's own, on the console.
    pub fn launcher(&self, text: &str) {
        print_line(Stream::Err, &format!("{} [launch] {text}", now()));
    }
}

fn now() -> humantime::Rfc3339Timestamp {
    humantime::format_rfc3339_millis(SystemTime::now())
}

fn print_line(stream: Stream, line: &str) {
    match stream {
        Stream::Out => println!("{line}"),
        Stream::Err => eprintln!("{line}"),
    }
}
