//! The six reference node kinds: their names, ids, inputs and outputs.

use sustainml_types::topics::{self, TopicInfo};
use sustainml_types::NodeId;

/// One of the reference's module nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NodeKind {
    /// (UserInput) → AppRequirements.
    AppRequirements,
    /// (UserInput) → HWConstraints.
    HwConstraints,
    /// (UserInput) → MLModelMetadata.
    MlModelMetadata,
    /// (MLModelMetadata, AppRequirements, HWConstraints, three baselines) → MLModel.
    MlModel,
    /// (MLModel, AppRequirements, HWConstraints) → HWResource.
    HwResources,
    /// (MLModel, UserInput, HWResource) → CO2Footprint.
    CarbonFootprint,
}

impl NodeKind {
    /// All six.
    pub const ALL: [NodeKind; 6] = [
        NodeKind::AppRequirements,
        NodeKind::HwConstraints,
        NodeKind::MlModelMetadata,
        NodeKind::MlModel,
        NodeKind::HwResources,
        NodeKind::CarbonFootprint,
    ];

    /// The reference's node id.
    pub fn id(self) -> NodeId {
        match self {
            NodeKind::AppRequirements => NodeId::AppRequirements,
            NodeKind::HwConstraints => NodeId::HwConstraints,
            NodeKind::MlModelMetadata => NodeId::MlModelMetadata,
            NodeKind::MlModel => NodeId::MlModel,
            NodeKind::HwResources => NodeId::HwResources,
            NodeKind::CarbonFootprint => NodeId::CarbonFootprint,
        }
    }

    /// The participant and status name, e.g. `ML_MODEL_NODE`.
    pub fn node_name(self) -> &'static str {
        self.id().node_name()
    }

    /// The input topics, in callback order (REFERENCE.md §1).
    pub fn inputs(self) -> &'static [TopicInfo] {
        match self {
            NodeKind::AppRequirements | NodeKind::HwConstraints | NodeKind::MlModelMetadata => {
                &[topics::USER_INPUT]
            }
            NodeKind::MlModel => &[
                topics::ML_MODEL_METADATA_OUTPUT,
                topics::APP_REQUIREMENTS_OUTPUT,
                topics::HW_CONSTRAINTS_OUTPUT,
                topics::ML_MODEL_BASELINE,
                topics::HW_RESOURCES_BASELINE,
                topics::CARBON_FOOTPRINT_BASELINE,
            ],
            NodeKind::HwResources => &[
                topics::ML_MODEL_OUTPUT,
                topics::APP_REQUIREMENTS_OUTPUT,
                topics::HW_CONSTRAINTS_OUTPUT,
            ],
            NodeKind::CarbonFootprint => &[
                topics::ML_MODEL_OUTPUT,
                topics::USER_INPUT,
                topics::HW_RESOURCES_OUTPUT,
            ],
        }
    }

    /// The output topic.
    pub fn output(self) -> TopicInfo {
        match self {
            NodeKind::AppRequirements => topics::APP_REQUIREMENTS_OUTPUT,
            NodeKind::HwConstraints => topics::HW_CONSTRAINTS_OUTPUT,
            NodeKind::MlModelMetadata => topics::ML_MODEL_METADATA_OUTPUT,
            NodeKind::MlModel => topics::ML_MODEL_OUTPUT,
            NodeKind::HwResources => topics::HW_RESOURCES_OUTPUT,
            NodeKind::CarbonFootprint => topics::CARBON_FOOTPRINT_OUTPUT,
        }
    }

    /// Parses a kind from its node name or a short name (`ml_model`, `carbon`…).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim().to_ascii_lowercase().replace('-', "_");
        let t = t.strip_suffix("_node").unwrap_or(&t);
        Some(match t {
            "app_requirements" | "app" => NodeKind::AppRequirements,
            "hw_constraints" | "constraints" => NodeKind::HwConstraints,
            "ml_model_metadata" | "metadata" => NodeKind::MlModelMetadata,
            "ml_model" | "model" => NodeKind::MlModel,
            "hw_resources" | "resources" => NodeKind::HwResources,
            "carbon_footprint" | "carbon" => NodeKind::CarbonFootprint,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_have_reference_topics() {
        assert_eq!(NodeKind::parse("ML_MODEL_NODE"), Some(NodeKind::MlModel));
        assert_eq!(NodeKind::parse("carbon"), Some(NodeKind::CarbonFootprint));
        assert_eq!(NodeKind::parse("nope"), None);
        assert_eq!(NodeKind::MlModel.inputs().len(), 6);
        assert_eq!(
            NodeKind::CarbonFootprint.inputs()[1].name,
            "/sustainml/user_input"
        );
    }
}
