//! Example values of every type: the `full` values of `tests/fastdds/GOLDEN.md`.
//!
//! The golden-byte test compares our encoding of these values with what Fast DDS 2.9
//! produced for the same values; benchmarks and examples use them as realistic samples.

use crate::data::*;
use crate::enums::*;

/// A [`TaskIdImpl`] with both fields set.
pub fn task_id() -> TaskIdImpl {
    TaskIdImpl::new(7, 3)
}

/// A failing node's status, with a non-ASCII description.
pub fn node_status() -> NodeStatusImpl {
    NodeStatusImpl {
        node_status: Status::Running,
        task_status: TaskStatus::Error,
        error_code: ErrorCode::InternalError,
        error_description: "model file is not ONNX: ünïcode ✓".into(),
        node_name: "ML_MODEL_NODE".into(),
        task_id: TaskIdImpl::new(7, 3),
    }
}

/// A preempt command with the largest problem id.
pub fn node_control() -> NodeControlImpl {
    NodeControlImpl {
        cmd_node: CmdNode::Stop,
        cmd_task: CmdTask::Preempt,
        target_node: "HW_RESOURCES_NODE".into(),
        source_node: "ORCHESTRATOR_NODE".into(),
        task_id: TaskIdImpl::new(u32::MAX, 1),
    }
}

/// An image-classification problem in France.
pub fn user_input() -> UserInputImpl {
    UserInputImpl {
        modality: "images".into(),
        problem_short_description: "Classify bird species".into(),
        problem_definition: "Classify photos taken by a camera trap in a forest.".into(),
        inputs: vec!["image".into(), "location".into()],
        outputs: vec!["species".into()],
        minimum_samples: 1000,
        maximum_samples: 50000,
        optimize_carbon_footprint_manual: true,
        previous_iteration: -1,
        optimize_carbon_footprint_auto: false,
        desired_carbon_footprint: 12.5,
        geo_location_continent: "Europe".into(),
        geo_location_region: "France".into(),
        extra_data: br#"{"hardware_required":"PIM_AI_1chip","max_memory_footprint":100}"#.to_vec(),
        task_id: TaskIdImpl::new(1, 1),
    }
}

/// Metadata of an image-classification problem.
pub fn ml_model_metadata() -> MLModelMetadataImpl {
    MLModelMetadataImpl {
        keywords: vec!["bird".into(), "camera".into(), "image".into()],
        ml_model_metadata: vec!["image-classification".into()],
        extra_data: br#"{"goal":"image-classification"}"#.to_vec(),
        task_id: TaskIdImpl::new(1, 1),
    }
}

/// Two application requirements, no extra data.
pub fn app_requirements() -> AppRequirementsImpl {
    AppRequirementsImpl {
        app_requirements: vec!["latency <= 50 ms".into(), "on-device".into()],
        extra_data: Vec::new(),
        task_id: TaskIdImpl::new(2, 1),
    }
}

/// A 16 MB limit on two kinds of hardware.
pub fn hw_constraints() -> HWConstraintsImpl {
    HWConstraintsImpl {
        max_memory_footprint: 16,
        hardware_required: vec!["PIM_AI_1chip".into(), "CPU".into()],
        extra_data: b"{}".to_vec(),
        task_id: TaskIdImpl::new(3, 2),
    }
}

/// A model with a 255-byte `raw_model` (odd length: padding follows it).
pub fn ml_model() -> MLModelImpl {
    MLModelImpl {
        model_path: "models/mobilenet_v2.onnx".into(),
        model: "mobilenet_v2".into(),
        raw_model: (0..=254u8).collect(),
        model_properties_path: String::new(),
        model_properties: r#"{"params":3500000}"#.into(),
        input_batch: vec!["1x3x224x224".into()],
        target_latency: 0.05,
        extra_data: br#"{"unsupported_models":[]}"#.to_vec(),
        task_id: TaskIdImpl::new(1, 2),
    }
}

/// A CPU measurement.
pub fn hw_resource() -> HWResourceImpl {
    HWResourceImpl {
        hw_description: "CPU x86_64".into(),
        power_consumption: 15.5,
        latency: 3.25,
        memory_footprint_of_ml_model: 13.9,
        max_hw_memory_footprint: 24576.0,
        extra_data: br#"{"estimated":false}"#.to_vec(),
        task_id: TaskIdImpl::new(1, 2),
    }
}

/// A carbon estimate.
pub fn co2_footprint() -> CO2FootprintImpl {
    CO2FootprintImpl {
        carbon_footprint: 0.000123,
        energy_consumption: 0.0021,
        carbon_intensity: 56.0,
        extra_data: br#"{"num_outputs":1}"#.to_vec(),
        task_id: TaskIdImpl::new(1, 2),
    }
}

/// A metadata query.
pub fn request() -> RequestTypeImpl {
    RequestTypeImpl {
        node_id: 4,
        transaction_id: 42,
        configuration: "modality".into(),
    }
}

/// An answer with a negative transaction id and an error code.
pub fn response() -> ResponseTypeImpl {
    ResponseTypeImpl {
        node_id: 4,
        transaction_id: -42,
        success: true,
        err_code: ErrorCode::InternalError,
        configuration: r#"{"modalities":"images, text"}"#.into(),
    }
}
