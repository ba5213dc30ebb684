//! `sustainml logs [NODE] [--follow] [--dir DIR]`: a node's log from a launch
//! (`NODE.log` in the launch's log directory, see [`crate::launch_log`]); without
//! NODE, the nodes that have one.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::UsageError;

/// How often `--follow` looks for new lines.
const FOLLOW_POLL: Duration = Duration::from_millis(200);

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The node's name as the launch file gives it (see `sustainml logs` for the list).
    node: Option<String>,
    /// Keep printing lines as they are written, until Ctrl-C.
    #[arg(long, short)]
    follow: bool,
    /// The launch's log directory (as `sustainml launch` states it at start).
    /// Default: the latest launch's, $XDG_STATE_HOME/sustainml/log/latest (else
    /// ~/.local/state/sustainml/log/latest).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

pub fn run(args: LogsArgs) -> Result<std::process::ExitCode> {
    let dir = match args.dir {
        Some(dir) => dir,
        None => crate::launch_log::default_root()?.join("latest"),
    };
    if !dir.is_dir() {
        return Err(UsageError(format!(
            "no launch logs in {} (start a graph with `sustainml launch FILE`, or pass --dir)",
            dir.display()
        ))
        .into());
    }
    let known = nodes_with_logs(&dir)?;
    let Some(node) = args.node else {
        for name in &known {
            println!("{name}");
        }
        return Ok(std::process::ExitCode::SUCCESS);
    };
    if !known.contains(&node) {
        let list = if known.is_empty() {
            "none yet".to_owned()
        } else {
            known.join(", ")
        };
        return Err(UsageError(format!(
            "no log for node `{node}` in {} (nodes with a log: {list})",
            dir.display()
        ))
        .into());
    }
    print_log(&dir.join(format!("{node}.log")), args.follow)?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// The names of the `NAME.log` files in `dir`, sorted.
fn nodes_with_logs(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "log") {
            if let Some(stem) = path.file_stem() {
                names.push(stem.to_string_lossy().into_owned());
            }
        }
    }
    names.sort();
    Ok(names)
}

/// Copies the file to stdout; with `follow`, keeps copying what is appended.
fn print_log(path: &Path, follow: bool) -> Result<()> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n > 0 {
            out.write_all(&buf[..n])?;
            continue;
        }
        out.flush()?;
        if !follow {
            return Ok(());
        }
        std::thread::sleep(FOLLOW_POLL);
        // A log that was truncated (or replaced) starts again from its beginning.
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let at = file.stream_position()?;
        if len < at {
            file.seek(SeekFrom::Start(0))?;
        }
    }
}
