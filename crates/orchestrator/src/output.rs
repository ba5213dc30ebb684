//! A node's output, as one value of six types, with its CDR bytes and a JSON view.

use serde_json::Value;
use sustainml_types::codec;
use sustainml_types::topics::{self, TopicInfo};
use sustainml_types::{
    AppRequirementsImpl, CO2FootprintImpl, HWConstraintsImpl, HWResourceImpl, MLModelImpl,
    MLModelMetadataImpl, NodeId, TaskIdImpl,
};

use crate::error::{Error, Result};

/// The six nodes whose outputs make a task, in pipeline order.
pub const OUTPUT_NODES: [NodeId; 6] = [
    NodeId::AppRequirements,
    NodeId::HwConstraints,
    NodeId::MlModelMetadata,
    NodeId::MlModel,
    NodeId::HwResources,
    NodeId::CarbonFootprint,
];

/// The name ML_MODEL gives its output when it found no model (REFERENCE.md §9).
pub const NO_MODEL: &str = "NO_MODEL";

/// One node's output for one task.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NodeOutput {
    /// APP_REQUIREMENTS_NODE.
    AppRequirements(AppRequirementsImpl),
    /// HW_CONSTRAINTS_NODE.
    HwConstraints(HWConstraintsImpl),
    /// ML_MODEL_METADATA_NODE.
    MlModelMetadata(MLModelMetadataImpl),
    /// ML_MODEL_NODE.
    MlModel(MLModelImpl),
    /// HW_RESOURCES_NODE.
    HwResources(HWResourceImpl),
    /// CARBON_FOOTPRINT_NODE.
    CarbonFootprint(CO2FootprintImpl),
}

/// The output topic of a module node (`None` for the orchestrator).
pub fn output_topic(node: NodeId) -> Option<TopicInfo> {
    Some(match node {
        NodeId::AppRequirements => topics::APP_REQUIREMENTS_OUTPUT,
        NodeId::HwConstraints => topics::HW_CONSTRAINTS_OUTPUT,
        NodeId::MlModelMetadata => topics::ML_MODEL_METADATA_OUTPUT,
        NodeId::MlModel => topics::ML_MODEL_OUTPUT,
        NodeId::HwResources => topics::HW_RESOURCES_OUTPUT,
        NodeId::CarbonFootprint => topics::CARBON_FOOTPRINT_OUTPUT,
        _ => return None,
    })
}

impl NodeOutput {
    /// The node that produced it.
    pub fn node(&self) -> NodeId {
        match self {
            Self::AppRequirements(_) => NodeId::AppRequirements,
            Self::HwConstraints(_) => NodeId::HwConstraints,
            Self::MlModelMetadata(_) => NodeId::MlModelMetadata,
            Self::MlModel(_) => NodeId::MlModel,
            Self::HwResources(_) => NodeId::HwResources,
            Self::CarbonFootprint(_) => NodeId::CarbonFootprint,
        }
    }

    /// The task it belongs to.
    pub fn task_id(&self) -> TaskIdImpl {
        match self {
            Self::AppRequirements(v) => v.task_id,
            Self::HwConstraints(v) => v.task_id,
            Self::MlModelMetadata(v) => v.task_id,
            Self::MlModel(v) => v.task_id,
            Self::HwResources(v) => v.task_id,
            Self::CarbonFootprint(v) => v.task_id,
        }
    }

    /// Its XCDR1 payload (header included), as on the wire.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let bytes = match self {
            Self::AppRequirements(v) => codec::encode(v),
            Self::HwConstraints(v) => codec::encode(v),
            Self::MlModelMetadata(v) => codec::encode(v),
            Self::MlModel(v) => codec::encode(v),
            Self::HwResources(v) => codec::encode(v),
            Self::CarbonFootprint(v) => codec::encode(v),
        };
        bytes.map_err(|e| Error::BadOutput {
            node: self.node().to_string(),
            reason: e.to_string(),
        })
    }

    /// Decodes the payload `node` produced.
    pub fn decode(node: NodeId, payload: &[u8]) -> Result<Self> {
        let bad = |e: &dyn std::fmt::Display| Error::BadOutput {
            node: node.to_string(),
            reason: e.to_string(),
        };
        Ok(match node {
            NodeId::AppRequirements => {
                Self::AppRequirements(codec::decode(payload).map_err(|e| bad(&e))?)
            }
            NodeId::HwConstraints => {
                Self::HwConstraints(codec::decode(payload).map_err(|e| bad(&e))?)
            }
            NodeId::MlModelMetadata => {
                Self::MlModelMetadata(codec::decode(payload).map_err(|e| bad(&e))?)
            }
            NodeId::MlModel => Self::MlModel(codec::decode(payload).map_err(|e| bad(&e))?),
            NodeId::HwResources => Self::HwResources(codec::decode(payload).map_err(|e| bad(&e))?),
            NodeId::CarbonFootprint => {
                Self::CarbonFootprint(codec::decode(payload).map_err(|e| bad(&e))?)
            }
            _ => return Err(bad(&"the orchestrator produces no output")),
        })
    }

    /// The carbon footprint, if this is CARBON_FOOTPRINT's output.
    pub fn carbon_footprint(&self) -> Option<f64> {
        match self {
            Self::CarbonFootprint(v) => Some(v.carbon_footprint),
            _ => None,
        }
    }

    /// Why ML_MODEL found no model, if this is its output and it found none
    /// (`model == "NO_MODEL"` or `extra_data` has `"error_code":"NO_MODEL"`).
    pub fn no_model(&self) -> Option<String> {
        let Self::MlModel(m) = self else { return None };
        let extra: Option<Value> = serde_json::from_slice(&m.extra_data).ok();
        let flagged = extra
            .as_ref()
            .and_then(|v| v.get("error_code"))
            .and_then(Value::as_str)
            == Some(NO_MODEL);
        if m.model != NO_MODEL && !flagged {
            return None;
        }
        let why = extra
            .as_ref()
            .and_then(|v| v.get("error"))
            .and_then(Value::as_str)
            .unwrap_or("no model fits the problem");
        Some(format!("{}: {NO_MODEL}: {why}", NodeId::MlModel))
    }

    /// A JSON view: the fields by their IDL names, `extra_data` as the JSON it carries
    /// (or its text), and `raw_model` replaced by its size `raw_model_bytes`.
    pub fn to_json(&self) -> Value {
        let value = match self {
            Self::AppRequirements(v) => serde_json::to_value(v),
            Self::HwConstraints(v) => serde_json::to_value(v),
            Self::MlModelMetadata(v) => serde_json::to_value(v),
            // The graph is not rendered as an array of numbers (half a million JSON
            // values for a small model): a copy without it, and its size beside.
            Self::MlModel(v) => {
                let shallow = v.without_raw_model();
                serde_json::to_value(&shallow).map(|mut j| {
                    if let Value::Object(map) = &mut j {
                        map.remove("raw_model");
                        map.insert("raw_model_bytes".into(), Value::from(v.raw_model.len()));
                    }
                    j
                })
            }
            Self::HwResources(v) => serde_json::to_value(v),
            Self::CarbonFootprint(v) => serde_json::to_value(v),
        };
        let mut value = value.unwrap_or(Value::Null);
        if let Value::Object(map) = &mut value {
            if let Some(extra) = map.get("extra_data").map(bytes_of) {
                map.insert("extra_data".into(), extra_json(&extra));
            }
        }
        value
    }
}

fn bytes_of(v: &Value) -> Vec<u8> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .filter_map(|b| u8::try_from(b).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// `extra_data` as JSON: parsed if it is JSON, its text if UTF-8, else null.
pub(crate) fn extra_json(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or_else(|_| match std::str::from_utf8(bytes) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_round_trip_and_render_as_json() {
        let model = MLModelImpl {
            model: "resnet".into(),
            raw_model: vec![1, 2, 3],
            extra_data: br#"{"unsupported_models":[]}"#.to_vec(),
            task_id: TaskIdImpl::new(3, 2),
            ..Default::default()
        };
        let out = NodeOutput::MlModel(model);
        let bytes = out.encode().expect("encode");
        let back = NodeOutput::decode(NodeId::MlModel, &bytes).expect("decode");
        assert_eq!(back, out);
        let json = out.to_json();
        assert_eq!(json["model"], "resnet");
        assert_eq!(json["raw_model_bytes"], 3);
        assert_eq!(
            json["extra_data"]["unsupported_models"],
            serde_json::json!([])
        );
        assert_eq!(json["task_id"]["iteration_id"], 2);
        assert!(NodeOutput::decode(NodeId::Orchestrator, &bytes).is_err());
        assert!(NodeOutput::decode(NodeId::MlModel, &[0, 1]).is_err());
    }

    #[test]
    fn no_model_is_recognised() {
        let none = NodeOutput::MlModel(MLModelImpl {
            model: NO_MODEL.into(),
            extra_data: br#"{"error_code":"NO_MODEL","error":"nothing fits"}"#.to_vec(),
            ..Default::default()
        });
        assert_eq!(
            none.no_model().as_deref(),
            Some("ML_MODEL_NODE: NO_MODEL: nothing fits")
        );
        let some = NodeOutput::MlModel(MLModelImpl::default());
        assert_eq!(some.no_model(), None);
    }
}
