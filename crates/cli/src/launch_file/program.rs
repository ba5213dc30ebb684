//! Finding a node's program and working directory, as a shell would: a name with a
//! `/` is a path (relative to the launch file), a bare name is looked up in PATH.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{Places, Program};

/// The executable file a node runs, or why there is none.
pub(super) fn resolve(program: &Program, places: &Places) -> Result<PathBuf, String> {
    match program {
        Program::Kind(kind) => {
            let bin = places.bin_dir.join(format!("sustainml-{kind}"));
            check(&bin).map_err(|why| format!("binary {} {why}", bin.display()))?;
            Ok(bin)
        }
        Program::Command { program, .. } if program.contains('/') => {
            let path = places.base_dir.join(program);
            check(&path)
                .map_err(|why| format!("program `{program}` ({}) {why}", path.display()))?;
            Ok(path)
        }
        Program::Command { program, .. } => {
            let path = places.path.as_deref().unwrap_or_default();
            let mut found_not_executable = None;
            for dir in std::env::split_paths(path) {
                let dir = if dir.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    dir
                };
                let candidate = dir.join(program);
                match check(&candidate) {
                    Ok(()) => return Ok(candidate),
                    Err(Unusable::NoExecuteBit) if found_not_executable.is_none() => {
                        found_not_executable = Some(candidate)
                    }
                    Err(_) => {}
                }
            }
            Err(match found_not_executable {
                Some(p) => format!("program `{program}` ({}) is not executable", p.display()),
                None => format!("program `{program}` not found in PATH"),
            })
        }
    }
}

/// The absolute working directory of a node (`cwd` relative to the launch file).
pub(super) fn working_dir(cwd: Option<&Path>, places: &Places) -> Result<Option<PathBuf>, String> {
    let Some(cwd) = cwd else {
        return Ok(None);
    };
    let dir = places.base_dir.join(cwd);
    if dir.is_dir() {
        Ok(Some(dir))
    } else {
        Err(format!(
            "working directory `{}` ({}) is not a directory",
            cwd.display(),
            dir.display()
        ))
    }
}

#[derive(Debug)]
enum Unusable {
    Absent,
    Directory,
    NoExecuteBit,
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Absent => "not found",
            Self::Directory => "is not a file",
            Self::NoExecuteBit => "is not executable",
        })
    }
}

fn check(path: &Path) -> Result<(), Unusable> {
    let meta = std::fs::metadata(path).map_err(|_| Unusable::Absent)?;
    if !meta.is_file() {
        return Err(Unusable::Directory);
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(Unusable::NoExecuteBit);
    }
    Ok(())
}
