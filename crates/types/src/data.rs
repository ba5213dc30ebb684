//! One Rust type per IDL struct, with the IDL's names and field order.
//!
//! Field order is the wire order: do not reorder fields. `sequence<octet>` fields are
//! `Vec<u8>` encoded as one block (`serde_bytes`), which is what makes a 64 MB
//! `raw_model` cheap to encode and decode. `extra_data` carries UTF-8 JSON by
//! convention; see [`extra_data_json`](UserInputImpl::extra_data_json).

use serde::{Deserialize, Serialize};

/// Identifies one task: a problem and one of its iterations. The first task is {1,1};
/// {0,0} is not a valid task.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct TaskIdImpl {
    /// The problem, numbered from 1.
    pub problem_id: u32,
    /// The iteration of that problem, numbered from 1.
    pub iteration_id: u32,
}

impl TaskIdImpl {
    /// A task id.
    pub const fn new(problem_id: u32, iteration_id: u32) -> Self {
        Self {
            problem_id,
            iteration_id,
        }
    }

    /// Whether this is a real task (neither number is 0).
    pub fn is_valid(&self) -> bool {
        self.problem_id != 0 && self.iteration_id != 0
    }
}

impl std::fmt::Display for TaskIdImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.problem_id, self.iteration_id)
    }
}

use crate::enums::{CmdNode, CmdTask, ErrorCode, Status, TaskStatus};

/// A node's status, published on `/sustainml/status`. Keyed by (`node_name`, `task_id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatusImpl {
    /// The node's state.
    pub node_status: Status,
    /// The state of `task_id` in this node.
    pub task_status: TaskStatus,
    /// Whether something failed.
    pub error_code: ErrorCode,
    /// What failed, for people.
    pub error_description: String,
    /// The publishing node (key).
    pub node_name: String,
    /// The task this status is about, {0,0} for the node as a whole (key).
    pub task_id: TaskIdImpl,
}

/// A command, published by the orchestrator on `/sustainml/control`. Keyed by
/// (`source_node`, `task_id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeControlImpl {
    /// Command for the whole node.
    pub cmd_node: CmdNode,
    /// Command for task `task_id`.
    pub cmd_task: CmdTask,
    /// The node the command is for.
    pub target_node: String,
    /// Who sent it (key).
    pub source_node: String,
    /// The task concerned (key).
    pub task_id: TaskIdImpl,
}

/// The user's problem, published by the orchestrator on `/sustainml/user_input`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserInputImpl {
    /// Data modality, e.g. "images".
    pub modality: String,
    /// One line describing the problem.
    pub problem_short_description: String,
    /// The problem in full.
    pub problem_definition: String,
    /// Model inputs.
    pub inputs: Vec<String>,
    /// Model outputs.
    pub outputs: Vec<String>,
    /// Smallest dataset size.
    pub minimum_samples: u32,
    /// Largest dataset size.
    pub maximum_samples: u32,
    /// The user steers the footprint by hand.
    pub optimize_carbon_footprint_manual: bool,
    /// The iteration this input follows, 0 for a new problem.
    pub previous_iteration: i32,
    /// Iterate automatically towards `desired_carbon_footprint`.
    pub optimize_carbon_footprint_auto: bool,
    /// Target footprint for automatic optimisation.
    pub desired_carbon_footprint: f64,
    /// Continent where the model runs.
    pub geo_location_continent: String,
    /// Region (or country, or cloud region) where the model runs.
    pub geo_location_region: String,
    /// JSON with further settings (hardware_required, max_memory_footprint, goal…).
    #[serde(with = "serde_bytes")]
    pub extra_data: Vec<u8>,
    /// The task (key).
    pub task_id: TaskIdImpl,
}

/// Output of ML_MODEL_METADATA_NODE.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MLModelMetadataImpl {
    /// Keywords found in the problem.
    pub keywords: Vec<String>,
    /// The ML goal(s), e.g. "image-classification".
    pub ml_model_metadata: Vec<String>,
    /// JSON.
    #[serde(with = "serde_bytes")]
    pub extra_data: Vec<u8>,
    /// The task (key).
    pub task_id: TaskIdImpl,
}

/// Output of APP_REQUIREMENTS_NODE.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRequirementsImpl {
    /// Requirements of the application, as text.
    pub app_requirements: Vec<String>,
    /// JSON.
    #[serde(with = "serde_bytes")]
    pub extra_data: Vec<u8>,
    /// The task (key).
    pub task_id: TaskIdImpl,
}

/// Output of HW_CONSTRAINTS_NODE.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HWConstraintsImpl {
    /// Memory limit for the model.
    pub max_memory_footprint: u32,
    /// Hardware the model must run on.
    pub hardware_required: Vec<String>,
    /// JSON.
    #[serde(with = "serde_bytes")]
    pub extra_data: Vec<u8>,
    /// The task (key).
    pub task_id: TaskIdImpl,
}

/// Output of ML_MODEL_NODE (and the ML model baseline).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MLModelImpl {
    /// Where the model file is.
    pub model_path: String,
    /// The model's name.
    pub model: String,
    /// The model file itself (e.g. ONNX), possibly tens of megabytes.
    #[serde(with = "serde_bytes")]
    pub raw_model: Vec<u8>,
    /// Where the model's properties are.
    pub model_properties_path: String,
    /// The model's properties.
    pub model_properties: String,
    /// Input batch description.
    pub input_batch: Vec<String>,
    /// Target latency.
    pub target_latency: f64,
    /// JSON.
    #[serde(with = "serde_bytes")]
    pub extra_data: Vec<u8>,
    /// The task (key).
    pub task_id: TaskIdImpl,
}

impl MLModelImpl {
    /// A copy of every field but `raw_model`, which is left empty: for views and
    /// stores that keep or show the graph apart from the rest.
    pub fn without_raw_model(&self) -> Self {
        Self {
            model_path: self.model_path.clone(),
            model: self.model.clone(),
            raw_model: Vec::new(),
            model_properties_path: self.model_properties_path.clone(),
            model_properties: self.model_properties.clone(),
            input_batch: self.input_batch.clone(),
            target_latency: self.target_latency,
            extra_data: self.extra_data.clone(),
            task_id: self.task_id,
        }
    }
}

/// Output of HW_RESOURCES_NODE (and the hardware baseline).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HWResourceImpl {
    /// The hardware the model was evaluated on.
    pub hw_description: String,
    /// Power drawn while running the model.
    pub power_consumption: f64,
    /// Latency of one inference.
    pub latency: f64,
    /// Memory the model takes.
    pub memory_footprint_of_ml_model: f64,
    /// Memory the hardware has.
    pub max_hw_memory_footprint: f64,
    /// JSON.
    #[serde(with = "serde_bytes")]
    pub extra_data: Vec<u8>,
    /// The task (key).
    pub task_id: TaskIdImpl,
}

/// Output of CARBON_FOOTPRINT_NODE (and the carbon baseline).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CO2FootprintImpl {
    /// Carbon footprint.
    pub carbon_footprint: f64,
    /// Energy consumed.
    pub energy_consumption: f64,
    /// Carbon intensity of the electricity used.
    pub carbon_intensity: f64,
    /// JSON.
    #[serde(with = "serde_bytes")]
    pub extra_data: Vec<u8>,
    /// The task (key).
    pub task_id: TaskIdImpl,
}

/// A configuration request, on `sustainml/request`. Keyed by (`node_id`, `transaction_id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestTypeImpl {
    /// The node the request is for (a [`NodeId`](crate::NodeId) value).
    pub node_id: i32,
    /// Chosen by the requester; the response echoes it.
    pub transaction_id: i32,
    /// The request text (often JSON).
    pub configuration: String,
}

/// A configuration response, on `sustainml/response`. Keyed by (`node_id`, `transaction_id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseTypeImpl {
    /// The answering node (echoed from the request).
    pub node_id: i32,
    /// Echoed from the request.
    pub transaction_id: i32,
    /// Whether the node could apply or answer the request.
    pub success: bool,
    /// Why not, as a code.
    pub err_code: ErrorCode,
    /// The answer (often JSON), or the error message.
    pub configuration: String,
}

macro_rules! extra_data_accessors {
    ($($ty:ty),+) => {$(
        impl $ty {
            /// `extra_data` parsed as UTF-8 text; `None` if it is not valid UTF-8.
            pub fn extra_data_json(&self) -> Option<&str> {
                std::str::from_utf8(&self.extra_data).ok()
            }
        }
    )+};
}
extra_data_accessors!(
    UserInputImpl,
    MLModelMetadataImpl,
    AppRequirementsImpl,
    HWConstraintsImpl,
    MLModelImpl,
    HWResourceImpl,
    CO2FootprintImpl
);
