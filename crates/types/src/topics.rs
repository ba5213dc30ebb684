//! The topic table: every SustainML topic, its DDS type name, who writes and who reads it.

/// One topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicInfo {
    /// The DDS topic name.
    pub name: &'static str,
    /// The DDS type name.
    pub type_name: &'static str,
}

macro_rules! topics {
    ($( $(#[$m:meta])* $konst:ident = $name:literal : $ty:literal ),+ $(,)?) => {
        $( $(#[$m])* pub const $konst: TopicInfo = TopicInfo { name: $name, type_name: $ty }; )+
        /// Every topic, in the reference's order, then the configuration service.
        pub const TOPICS: &[TopicInfo] = &[$($konst),+];
    };
}

topics! {
    /// The problem, from the orchestrator.
    USER_INPUT = "/sustainml/user_input": "UserInputImpl",
    /// APP_REQUIREMENTS_NODE's output.
    APP_REQUIREMENTS_OUTPUT = "/sustainml/app_requirements/output": "AppRequirementsImpl",
    /// HW_CONSTRAINTS_NODE's output.
    HW_CONSTRAINTS_OUTPUT = "/sustainml/hw_constraints/output": "HWConstraintsImpl",
    /// ML_MODEL_METADATA_NODE's output.
    ML_MODEL_METADATA_OUTPUT = "/sustainml/ml_model_metadata/output": "MLModelMetadataImpl",
    /// ML_MODEL_NODE's output.
    ML_MODEL_OUTPUT = "/sustainml/ml_model_provider/output": "MLModelImpl",
    /// HW_RESOURCES_NODE's output.
    HW_RESOURCES_OUTPUT = "/sustainml/hw_resources/output": "HWResourceImpl",
    /// CARBON_FOOTPRINT_NODE's output.
    CARBON_FOOTPRINT_OUTPUT = "/sustainml/carbon_tracker/output": "CO2FootprintImpl",
    /// The previous iteration's model, from the orchestrator.
    ML_MODEL_BASELINE = "/sustainml/ml_model_provider/baseline": "MLModelImpl",
    /// The previous iteration's hardware result, from the orchestrator.
    HW_RESOURCES_BASELINE = "/sustainml/hw_resources/baseline": "HWResourceImpl",
    /// The previous iteration's footprint, from the orchestrator.
    CARBON_FOOTPRINT_BASELINE = "/sustainml/carbon_tracker/baseline": "CO2FootprintImpl",
    /// Every node's status.
    STATUS = "/sustainml/status": "NodeStatusImpl",
    /// Commands from the orchestrator.
    CONTROL = "/sustainml/control": "NodeControlImpl",
    /// Configuration requests (no leading slash, as the reference).
    REQUEST = "sustainml/request": "RequestTypeImpl",
    /// Configuration responses (no leading slash, as the reference).
    RESPONSE = "sustainml/response": "ResponseTypeImpl",
}

/// Looks a topic up by name.
pub fn by_name(name: &str) -> Option<TopicInfo> {
    TOPICS.iter().copied().find(|t| t.name == name)
}

/// Runs `$body` with `$T` bound to the Rust type of topic `$topic` (a [`TopicInfo`]),
/// or `$fallback` with `$name` bound to a type name the table does not have.
///
/// ```
/// use sustainml_types::{topics, with_topic_type, WireType};
/// let name = with_topic_type!(topics::USER_INPUT, T => T::TYPE_NAME, other => other);
/// assert_eq!(name, "UserInputImpl");
/// ```
#[macro_export]
macro_rules! with_topic_type {
    ($topic:expr, $T:ident => $body:expr, $name:ident => $fallback:expr) => {
        match $topic.type_name {
            "UserInputImpl" => {
                type $T = $crate::UserInputImpl;
                $body
            }
            "AppRequirementsImpl" => {
                type $T = $crate::AppRequirementsImpl;
                $body
            }
            "HWConstraintsImpl" => {
                type $T = $crate::HWConstraintsImpl;
                $body
            }
            "MLModelMetadataImpl" => {
                type $T = $crate::MLModelMetadataImpl;
                $body
            }
            "MLModelImpl" => {
                type $T = $crate::MLModelImpl;
                $body
            }
            "HWResourceImpl" => {
                type $T = $crate::HWResourceImpl;
                $body
            }
            "CO2FootprintImpl" => {
                type $T = $crate::CO2FootprintImpl;
                $body
            }
            "NodeStatusImpl" => {
                type $T = $crate::NodeStatusImpl;
                $body
            }
            "NodeControlImpl" => {
                type $T = $crate::NodeControlImpl;
                $body
            }
            "RequestTypeImpl" => {
                type $T = $crate::RequestTypeImpl;
                $body
            }
            "ResponseTypeImpl" => {
                type $T = $crate::ResponseTypeImpl;
                $body
            }
            $name => $fallback,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_fourteen_unique_topics() {
        assert_eq!(TOPICS.len(), 14);
        let mut names: Vec<_> = TOPICS.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 14);
        assert_eq!(
            by_name("/sustainml/status").map(|t| t.type_name),
            Some("NodeStatusImpl")
        );
    }
}
