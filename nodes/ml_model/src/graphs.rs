//! The runnable graphs ML_MODEL attaches to the models it proposes, by catalogue name:
//!
//! - the nine model-zoo graphs of `models/zoo` (from the PyPI `onnx` wheel), built into
//!   the binary so the node runs from anywhere;
//! - the graphs `scripts/make-model-graphs` generates into the model cache
//!   (`$SUSTAINML_MODEL_CACHE`, else `$XDG_CACHE_HOME/sustainml/models`, else
//!   `~/.cache/sustainml/models`), read when a model is proposed.
//!
//! Both come with an `index.json` (schema in `models/README.md`). Every graph has
//! untrained weights: its latency and memory are the architecture's, its outputs mean
//! nothing, and the proposal says so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::Deserialize;

/// Environment variable naming the model cache.
pub const CACHE_ENV: &str = "SUSTAINML_MODEL_CACHE";

/// The zoo's index and files, relative to the repository root.
pub const ZOO_DIR: &str = "models/zoo";

const ZOO_INDEX: &str = include_str!("../../../models/zoo/index.json");

macro_rules! zoo_files {
    ($($file:literal),+ $(,)?) => {
        &[$(($file, include_bytes!(concat!("../../../models/zoo/", $file)))),+]
    };
}

const ZOO_FILES: &[(&str, &[u8])] = zoo_files!(
    "bvlc_alexnet.onnx",
    "densenet121.onnx",
    "inception_v1.onnx",
    "inception_v2.onnx",
    "resnet50.onnx",
    "shufflenet.onnx",
    "squeezenet.onnx",
    "vgg19.onnx",
    "zfnet512.onnx",
);

/// Why a graph could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// An index is not what `models/README.md` describes.
    #[error("{path}: not a model index: {source}")]
    Index {
        /// The index file.
        path: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A graph file listed in an index cannot be read.
    #[error("graph of {model} at {path}: {source}")]
    Read {
        /// The catalogue model.
        model: String,
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// One graph of an index.
#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    /// The catalogue model's name (the zoo's own name for zoo graphs).
    pub name: String,
    /// The file, relative to the index's directory.
    pub file: String,
    /// How its weights are made.
    pub weights: String,
    /// What the graph is and what was simplified.
    pub architecture: String,
}

#[derive(Debug, Deserialize)]
struct Index {
    models: Vec<Entry>,
}

/// A graph found for a model: its bytes, where it is, and what it is.
#[derive(Debug, Clone)]
pub struct Graph {
    /// The ONNX bytes.
    pub bytes: Vec<u8>,
    /// Where the file is (`models/zoo/…` for a zoo graph, else in the cache).
    pub path: PathBuf,
    /// "model zoo" or "generated".
    pub origin: &'static str,
    /// The index entry.
    pub entry: Entry,
}

/// The graphs known to this process: the zoo's, and the cache's when it has an index.
#[derive(Debug, Clone)]
pub struct Graphs {
    zoo: Vec<Entry>,
    cache: Option<(PathBuf, Vec<Entry>)>,
    files: Arc<Mutex<HashMap<PathBuf, Held>>>,
}

/// A generated graph's bytes as read, and the file's time when they were: the file
/// is read again only when its size or time changed (it is regenerated), not for every
/// task, which cost ML_MODEL about a quarter of its CPU time per task.
#[derive(Debug)]
struct Held {
    modified: Option<SystemTime>,
    bytes: Vec<u8>,
}

/// The model cache directory, from the environment.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(CACHE_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("sustainml").join("models"))
}

fn parse_index(path: &str, text: &str) -> Result<Vec<Entry>, GraphError> {
    serde_json::from_str::<Index>(text)
        .map(|i| i.models)
        .map_err(|source| GraphError::Index {
            path: path.to_owned(),
            source,
        })
}

impl Graphs {
    /// The zoo's graphs and those of the cache at `cache` (none when it has no index,
    /// as before `scripts/make-model-graphs` ran).
    pub fn open(cache: Option<&Path>) -> Result<Self, GraphError> {
        let zoo = parse_index(&format!("{ZOO_DIR}/index.json"), ZOO_INDEX)?;
        let cache = match cache {
            None => None,
            Some(dir) => {
                let path = dir.join("index.json");
                match std::fs::read_to_string(&path) {
                    Ok(text) => Some((
                        dir.to_owned(),
                        parse_index(&path.display().to_string(), &text)?,
                    )),
                    Err(e) => {
                        tracing::warn!(
                            "no generated graphs ({}: {e}); run scripts/make-model-graphs so \
                             that models without a zoo graph are measured, not estimated",
                            path.display()
                        );
                        None
                    }
                }
            }
        };
        Ok(Self {
            zoo,
            cache,
            files: Arc::default(),
        })
    }

    /// The zoo's graphs and the default cache's ([`cache_dir`]).
    pub fn open_default() -> Result<Self, GraphError> {
        Self::open(cache_dir().as_deref())
    }

    /// Names of every model with a graph.
    pub fn names(&self) -> Vec<&str> {
        let cached = self.cache.iter().flat_map(|(_, e)| e.iter());
        self.zoo
            .iter()
            .chain(cached)
            .map(|e| e.name.as_str())
            .collect()
    }

    /// The graph of a catalogue model: its shipped test file (`file`, in
    /// `crates/device/models`), else its zoo graph, else its generated one; `None`
    /// when it has none.
    pub fn for_model(&self, model: &crate::Model) -> Option<Result<Graph, GraphError>> {
        let Some(file) = &model.file else {
            return self.find(&model.name);
        };
        let bytes = crate::files::bytes(file)?;
        Some(Ok(Graph {
            bytes: bytes.to_vec(),
            path: Path::new(crate::MODELS_DIR).join(file),
            origin: "shipped test model",
            entry: Entry {
                name: model.name.clone(),
                file: file.clone(),
                weights: "seeded random initializers (scripts/make-test-models)".into(),
                architecture: model.source.clone(),
            },
        }))
    }

    /// The bytes of the generated graph at `path`, read again only if it changed.
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let meta = std::fs::metadata(path)?;
        let modified = meta.modified().ok();
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(held) = files.get(path) {
            if held.bytes.len() as u64 == meta.len()
                && held.modified == modified
                && modified.is_some()
            {
                return Ok(held.bytes.clone());
            }
        }
        let bytes = std::fs::read(path)?;
        files.insert(
            path.to_owned(),
            Held {
                modified,
                bytes: bytes.clone(),
            },
        );
        Ok(bytes)
    }

    /// The graph of catalogue model `model`, zoo first; `None` when there is none.
    pub fn find(&self, model: &str) -> Option<Result<Graph, GraphError>> {
        if let Some(entry) = self.zoo.iter().find(|e| e.name == model) {
            let bytes = ZOO_FILES.iter().find(|(f, _)| *f == entry.file)?.1;
            return Some(Ok(Graph {
                bytes: bytes.to_vec(),
                path: Path::new(ZOO_DIR).join(&entry.file),
                origin: "model zoo",
                entry: entry.clone(),
            }));
        }
        let (dir, entries) = self.cache.as_ref()?;
        let entry = entries.iter().find(|e| e.name == model)?;
        let path = dir.join(&entry.file);
        Some(
            self.read(&path)
                .map(|bytes| Graph {
                    bytes,
                    path: path.clone(),
                    origin: "generated",
                    entry: entry.clone(),
                })
                .map_err(|source| GraphError::Read {
                    model: model.to_owned(),
                    path: path.display().to_string(),
                    source,
                }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every zoo graph of the index is built into the binary.
    #[test]
    fn the_zoo_index_and_files_agree() {
        let graphs = Graphs::open(None).expect("zoo index parses");
        assert_eq!(graphs.zoo.len(), ZOO_FILES.len());
        for entry in &graphs.zoo {
            let graph = graphs.find(&entry.name).expect("listed").expect("built in");
            assert!(graph.bytes.len() > 1000, "{}", entry.name);
            assert_eq!(graph.origin, "model zoo");
        }
        assert!(graphs.find("no_such_model").is_none());
    }

    // A cache without an index is no graphs (a warning); a broken index is an error
    // naming the file.
    #[test]
    fn cache_indexes_are_optional_but_checked() {
        let dir = std::env::temp_dir().join(format!("sustainml-graphs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let graphs = Graphs::open(Some(&dir)).expect("no index is fine");
        assert!(graphs.cache.is_none());
        std::fs::write(dir.join("index.json"), "{\"models\": 3}").expect("write");
        let err = Graphs::open(Some(&dir)).expect_err("broken index");
        assert!(
            err.to_string().contains("index.json: not a model index"),
            "{err}"
        );
        std::fs::write(
            dir.join("index.json"),
            r#"{"models": [{"name": "m", "file": "m.onnx", "weights": "w", "architecture": "a"}]}"#,
        )
        .expect("write");
        let graphs = Graphs::open(Some(&dir)).expect("index");
        let err = graphs.find("m").expect("listed").expect_err("no file");
        assert!(err.to_string().starts_with("graph of m at "), "{err}");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    // A generated graph is read once, and again when the file is regenerated.
    #[test]
    fn a_generated_graph_is_reread_when_its_file_changes() {
        let dir =
            std::env::temp_dir().join(format!("sustainml-graphs-reread-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(
            dir.join("index.json"),
            r#"{"models": [{"name": "m", "file": "m.onnx", "weights": "w", "architecture": "a"}]}"#,
        )
        .expect("write");
        let file = dir.join("m.onnx");
        std::fs::write(&file, [1u8; 300]).expect("graph");
        let graphs = Graphs::open(Some(&dir)).expect("index");
        let first = graphs.find("m").expect("listed").expect("read");
        assert_eq!(first.bytes, vec![1u8; 300]);
        let again = graphs.find("m").expect("listed").expect("held");
        assert_eq!(again.bytes, first.bytes);
        std::fs::write(&file, [2u8; 200]).expect("regenerate");
        let changed = graphs.find("m").expect("listed").expect("reread");
        assert_eq!(changed.bytes, vec![2u8; 200]);
        std::fs::remove_file(&file).expect("remove");
        let gone = graphs.find("m").expect("listed");
        assert!(
            gone.is_err(),
            "a removed file is an error, not the old bytes"
        );
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
