//! Node names and the reference's `NodeID` values.

use std::fmt;

/// The reference's `NodeID`: which node a configuration request is for, and the keys of
/// the orchestrator's REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum NodeId {
    /// APP_REQUIREMENTS_NODE.
    AppRequirements,
    /// CARBON_FOOTPRINT_NODE.
    CarbonFootprint,
    /// HW_CONSTRAINTS_NODE.
    HwConstraints,
    /// HW_RESOURCES_NODE.
    HwResources,
    /// ML_MODEL_METADATA_NODE.
    MlModelMetadata,
    /// ML_MODEL_NODE.
    MlModel,
    /// ORCHESTRATOR_NODE.
    Orchestrator,
}

impl NodeId {
    /// The six module nodes and the orchestrator.
    pub const ALL: [NodeId; 7] = [
        NodeId::AppRequirements,
        NodeId::CarbonFootprint,
        NodeId::HwConstraints,
        NodeId::HwResources,
        NodeId::MlModelMetadata,
        NodeId::MlModel,
        NodeId::Orchestrator,
    ];

    /// The six module nodes.
    pub const MODULES: [NodeId; 6] = [
        NodeId::AppRequirements,
        NodeId::CarbonFootprint,
        NodeId::HwConstraints,
        NodeId::HwResources,
        NodeId::MlModelMetadata,
        NodeId::MlModel,
    ];

    /// The numeric value used on the wire (`RequestTypeImpl.node_id`).
    pub fn value(self) -> i32 {
        match self {
            NodeId::AppRequirements => 0,
            NodeId::CarbonFootprint => 1,
            NodeId::HwConstraints => 2,
            NodeId::HwResources => 3,
            NodeId::MlModelMetadata => 4,
            NodeId::MlModel => 5,
            NodeId::Orchestrator => 7,
        }
    }

    /// The node with this wire value.
    pub fn from_value(value: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.value() == value)
    }

    /// The participant and status name, e.g. `ML_MODEL_NODE`.
    pub fn node_name(self) -> &'static str {
        match self {
            NodeId::AppRequirements => "APP_REQUIREMENTS_NODE",
            NodeId::CarbonFootprint => "CARBON_FOOTPRINT_NODE",
            NodeId::HwConstraints => "HW_CONSTRAINTS_NODE",
            NodeId::HwResources => "HW_RESOURCES_NODE",
            NodeId::MlModelMetadata => "ML_MODEL_METADATA_NODE",
            NodeId::MlModel => "ML_MODEL_NODE",
            NodeId::Orchestrator => "ORCHESTRATOR_NODE",
        }
    }

    /// The node with this participant name.
    pub fn from_node_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.node_name() == name)
    }

    /// The key the reference's REST API uses: the name without `_NODE`.
    pub fn rest_key(self) -> &'static str {
        let name = self.node_name();
        &name[..name.len() - "_NODE".len()]
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.node_name())
    }
}

/// A node's name as it appears on the wire (participant name, `node_name` of its status).
///
/// Any non-empty name is accepted, so user nodes beside the six reference kinds can take
/// part. Names are limited to 200 bytes: a Fast DDS 2.9 reader aborts on key strings over
/// about 255 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeName(String);

/// Why a node name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeNameError {
    /// Empty name.
    #[error("a node name cannot be empty")]
    Empty,
    /// Too long for Fast DDS readers.
    #[error("node name of {0} bytes is too long (at most {max} bytes)", max = NodeName::MAX_LEN)]
    TooLong(usize),
    /// Control characters or NUL.
    #[error("node name {0:?} contains control characters")]
    ControlCharacters(String),
}

impl NodeName {
    /// Longest accepted name, in bytes.
    pub const MAX_LEN: usize = 200;

    /// Checks and wraps a name.
    pub fn new(name: impl Into<String>) -> Result<Self, NodeNameError> {
        let name = name.into();
        if name.is_empty() {
            return Err(NodeNameError::Empty);
        }
        if name.len() > Self::MAX_LEN {
            return Err(NodeNameError::TooLong(name.len()));
        }
        if name.chars().any(char::is_control) {
            return Err(NodeNameError::ControlCharacters(name));
        }
        Ok(Self(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<NodeId> for NodeName {
    fn from(id: NodeId) -> Self {
        Self(id.node_name().to_owned())
    }
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_names_and_rest_keys() {
        assert_eq!(NodeId::from_value(4), Some(NodeId::MlModelMetadata));
        assert_eq!(NodeId::from_value(6), None);
        assert_eq!(NodeId::Orchestrator.value(), 7);
        assert_eq!(NodeId::MlModel.rest_key(), "ML_MODEL");
        assert_eq!(
            NodeId::from_node_name("HW_RESOURCES_NODE"),
            Some(NodeId::HwResources)
        );
    }

    #[test]
    fn bad_names_are_refused() {
        assert_eq!(NodeName::new(""), Err(NodeNameError::Empty));
        assert!(matches!(
            NodeName::new("x".repeat(300)),
            Err(NodeNameError::TooLong(300))
        ));
        assert!(NodeName::new("a\0b").is_err());
        assert_eq!(
            NodeName::new("MY_NODE").map(|n| n.to_string()),
            Ok("MY_NODE".into())
        );
    }
}
