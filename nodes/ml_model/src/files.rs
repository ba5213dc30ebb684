//! The ONNX files shipped in `crates/device/models`, built into the binary so the node
//! runs from anywhere, and their facts read by `sustainml-device`.

use sustainml_device::ModelFacts;

use crate::catalogue::FileFacts;

const FILES: &[(&str, &[u8])] = &[
    (
        "tiny_cnn.onnx",
        include_bytes!("../../../crates/device/models/tiny_cnn.onnx"),
    ),
    (
        "mlp.onnx",
        include_bytes!("../../../crates/device/models/mlp.onnx"),
    ),
    (
        "kws_cnn.onnx",
        include_bytes!("../../../crates/device/models/kws_cnn.onnx"),
    ),
];

/// The bytes of shipped file `name`.
pub fn bytes(name: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// Parameters and MACs of shipped file `name`, read from its graph.
pub fn facts(name: &str) -> Result<FileFacts, String> {
    let bytes = bytes(name).ok_or_else(|| format!("{name} is not a shipped model file"))?;
    let facts = ModelFacts::from_bytes(name, bytes).map_err(|e| e.to_string())?;
    Ok(FileFacts {
        params: facts.parameters,
        gmacs: facts.flops as f64 / 2e9,
    })
}

/// The shipped catalogue, with the shipped files' facts.
pub fn shipped_catalogue() -> Result<crate::Catalogue, String> {
    crate::Catalogue::parse(crate::catalogue::SHIPPED, facts)
}
