//! Finding a node's program and working directory, as a shell would: a name with a
//! `/` is a path (relative to the launch file), a bare name is looked up in PATH.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::{Places, Program};

/// Why a node cannot be started from this machine.
#[derive(Debug, thiserror::Error)]
pub(super) enum ProgramError {
    /// A built-in kind's binary.
    #[error("binary {} {why}", path.display())]
    Binary { path: PathBuf, why: Unusable },
    /// A command given as a path.
    #[error("program `{program}` ({}) {why}", path.display())]
    Path {
        program: String,
        path: PathBuf,
        why: Unusable,
    },
    /// A bare command name that no PATH directory holds.
    #[error("program `{program}` not found in PATH")]
    NotInPath { program: String },
    /// A bare command name found in PATH, but not executable.
    #[error("program `{program}` ({}) is not executable", path.display())]
    NotExecutableInPath { program: String, path: PathBuf },
    /// A `cwd` that is not a directory.
    #[error("working directory `{}` ({}) is not a directory", cwd.display(), dir.display())]
    WorkingDir { cwd: PathBuf, dir: PathBuf },
}

/// The executable file a node runs, or why there is none.
pub(super) fn resolve(program: &Program, places: &Places) -> Result<PathBuf, ProgramError> {
    match program {
        Program::Kind(kind) => {
            let path = places.bin_dir.join(format!("sustainml-{kind}"));
            match check(&path) {
                Ok(()) => Ok(path),
                Err(why) => Err(ProgramError::Binary { path, why }),
            }
        }
        Program::Command { program, .. } if program.contains('/') => {
            let path = places.base_dir.join(program);
            match check(&path) {
                Ok(()) => Ok(path),
                Err(why) => Err(ProgramError::Path {
                    program: program.clone(),
                    path,
                    why,
                }),
            }
        }
        Program::Command { program, .. } => {
            let search = places.path.as_deref().unwrap_or_default();
            let mut not_executable = None;
            for dir in std::env::split_paths(search) {
                let dir = if dir.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    dir
                };
                let candidate = dir.join(program);
                match check(&candidate) {
                    Ok(()) => return Ok(candidate),
                    Err(Unusable::NoExecuteBit) if not_executable.is_none() => {
                        not_executable = Some(candidate)
                    }
                    Err(_) => {}
                }
            }
            Err(match not_executable {
                Some(path) => ProgramError::NotExecutableInPath {
                    program: program.clone(),
                    path,
                },
                None => ProgramError::NotInPath {
                    program: program.clone(),
                },
            })
        }
    }
}

/// The absolute working directory of a node (`cwd` relative to the launch file).
pub(super) fn working_dir(
    cwd: Option<&Path>,
    places: &Places,
) -> Result<Option<PathBuf>, ProgramError> {
    let Some(cwd) = cwd else {
        return Ok(None);
    };
    let dir = places.base_dir.join(cwd);
    if dir.is_dir() {
        Ok(Some(dir))
    } else {
        Err(ProgramError::WorkingDir {
            cwd: cwd.to_owned(),
            dir,
        })
    }
}

/// What is wrong with a file that should be a program.
#[derive(Debug, thiserror::Error)]
pub(super) enum Unusable {
    #[error("not found")]
    Absent,
    #[error("is not a file")]
    Directory,
    #[error("is not executable")]
    NoExecuteBit,
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
