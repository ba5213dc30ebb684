//! The model catalogue: `data/catalogue.toml`, checked when loaded.

use serde::Deserialize;

/// The catalogue shipped with the node.
pub const SHIPPED: &str = include_str!("../data/catalogue.toml");

/// One model the node can propose.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Name, as proposed in `MLModelImpl.model`.
    pub name: String,
    /// Hugging Face pipeline tag of the task it solves.
    pub goal: String,
    /// Input modality.
    pub modality: String,
    /// Parameter count (read from the file for shipped models).
    pub params: u64,
    /// Multiply-accumulates per inference, in billions.
    pub gmacs: f64,
    /// Input shape, e.g. `1x3x224x224`.
    pub input: String,
    /// What `score` measures.
    pub metric: String,
    /// Published higher-is-better score of the trained model, if there is one.
    pub score: Option<f64>,
    /// Licence of the published weights.
    pub licence: String,
    /// Where the figures come from.
    pub source: String,
    /// ONNX file shipped in `crates/device/models`, if any.
    pub file: Option<String>,
}

impl Model {
    /// Memory the fp32 weights take, in MB (10^6 bytes).
    pub fn weights_mb(&self) -> f64 {
        self.params as f64 * 4.0 / 1e6
    }
}

/// Facts read from a shipped ONNX file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FileFacts {
    /// Parameter count.
    pub params: u64,
    /// Multiply-accumulates per inference, in billions.
    pub gmacs: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    model: Vec<Model>,
}

/// A checked catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    models: Vec<Model>,
}

impl Catalogue {
    /// Parses `text`; rows with a `file` take their params and MACs from `facts(file)`.
    ///
    /// Fails on TOML errors, duplicate names, non-positive or non-finite figures, a
    /// score outside 0..=1, or a file whose facts cannot be read.
    pub fn parse(
        text: &str,
        mut facts: impl FnMut(&str) -> Result<FileFacts, String>,
    ) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| format!("model catalogue: {e}"))?;
        let mut models = Vec::with_capacity(file.model.len());
        for mut m in file.model {
            if models.iter().any(|o: &Model| o.name == m.name) {
                return Err(format!("model catalogue: {:?} appears twice", m.name));
            }
            if let Some(f) = &m.file {
                let read = facts(f).map_err(|e| format!("model catalogue: {}: {e}", m.name))?;
                m.params = read.params;
                m.gmacs = read.gmacs;
            }
            if m.params == 0 || !(m.gmacs.is_finite() && m.gmacs > 0.0) {
                return Err(format!(
                    "model catalogue: {}: params and gmacs must be positive",
                    m.name
                ));
            }
            if let Some(s) = m.score {
                if !(0.0..=1.0).contains(&s) {
                    return Err(format!(
                        "model catalogue: {}: score {s} is outside 0..=1",
                        m.name
                    ));
                }
            }
            models.push(m);
        }
        Ok(Self { models })
    }

    /// Every model, in catalogue order.
    pub fn models(&self) -> &[Model] {
        &self.models
    }

    /// The model called `name`.
    pub fn get(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    /// The goals some model solves, sorted.
    pub fn goals(&self) -> Vec<&str> {
        let mut goals: Vec<&str> = self.models.iter().map(|m| m.goal.as_str()).collect();
        goals.sort_unstable();
        goals.dedup();
        goals
    }
}

#[cfg(test)]
mod tests {
    // Protects the catalogue's checks: a broken catalogue is refused with the row named.
    use super::*;

    fn none(_: &str) -> Result<FileFacts, String> {
        Err("no files here".into())
    }

    const ROW: &str = r#"
[[model]]
name = "a"
goal = "image-classification"
modality = "image"
params = 10
gmacs = 0.5
input = "1x3x8x8"
metric = "m"
score = 0.5
licence = "MIT"
source = "s"
"#;

    #[test]
    fn rows_are_checked() {
        assert!(Catalogue::parse(ROW, none).is_ok());
        let twice = format!("{ROW}{ROW}");
        assert!(Catalogue::parse(&twice, none)
            .expect_err("expected an error")
            .contains("\"a\" appears twice"));
        let bad = ROW.replace("score = 0.5", "score = 1.5");
        assert!(Catalogue::parse(&bad, none)
            .expect_err("expected an error")
            .contains("a: score 1.5"));
        let zero = ROW.replace("gmacs = 0.5", "gmacs = 0.0");
        assert!(Catalogue::parse(&zero, none)
            .expect_err("expected an error")
            .contains("a: params and gmacs"));
        let unknown = ROW.replace("licence", "license");
        assert!(Catalogue::parse(&unknown, none)
            .expect_err("expected an error")
            .contains("unknown field"));
    }

    #[test]
    fn shipped_files_take_their_facts_from_the_file() {
        let row = format!(
            "{}file = \"x.onnx\"\n",
            ROW.replace("params = 10", "params = 0")
        );
        let c = Catalogue::parse(&row, |f| {
            assert_eq!(f, "x.onnx");
            Ok(FileFacts {
                params: 42,
                gmacs: 0.001,
            })
        })
        .expect("expected a value");
        assert_eq!(c.models()[0].params, 42);
        assert!(Catalogue::parse(&row, none)
            .expect_err("expected an error")
            .contains("a: no files here"));
    }
}
