//! Models chained around the one on the device: a pre-processing model whose outputs are
//! the main model's inputs, and a post-processing model fed by the main model's outputs
//! (MemryX's `set_preprocessing_model` / `set_postprocessing_model`). Shapes are checked
//! when a model is attached, so a mismatch is an error naming both tensors, not a failed
//! inference later.

use serde::Serialize;

use crate::error::{ChainEnd, DeviceError, Result};
use crate::facts::TensorInfo;
use crate::model::TensorData;
use crate::LoadedModel;

/// One port of a model: its index and the tensor it carries (MemryX's
/// `inport_assignment` / `outport_assignment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    /// The port's index: the position of the tensor among the model's inputs or outputs.
    pub index: usize,
    /// The ONNX name of the tensor.
    pub name: String,
    /// Its shape, outermost dimension first.
    pub shape: Vec<usize>,
}

/// The ports of `tensors`, in order.
pub(crate) fn ports(tensors: &[TensorInfo]) -> Vec<Port> {
    tensors
        .iter()
        .enumerate()
        .map(|(index, t)| Port {
            index,
            name: t.name.clone(),
            shape: t.shape.clone(),
        })
        .collect()
}

/// `input port 0 ("features")`, or `input ports 0 ("a"), 1 ("b")`.
pub(crate) fn port_label(direction: &str, ports: &[Port]) -> String {
    let list: Vec<String> = ports
        .iter()
        .map(|p| format!("{} ({:?})", p.index, p.name))
        .collect();
    let plural = if ports.len() == 1 { "" } else { "s" };
    format!("{direction} port{plural} {}", list.join(", "))
}

/// A model on a device with optional pre- and post-processing models around it; every
/// stage runs in turn on each frame. `From<Box<dyn LoadedModel>>` makes a pipeline of the
/// main model alone.
#[derive(Debug)]
pub struct Pipeline {
    pre: Option<Box<dyn LoadedModel>>,
    main: Box<dyn LoadedModel>,
    post: Option<Box<dyn LoadedModel>>,
}

impl From<Box<dyn LoadedModel>> for Pipeline {
    fn from(main: Box<dyn LoadedModel>) -> Pipeline {
        Pipeline::new(main)
    }
}

impl Pipeline {
    /// The main model alone.
    pub fn new(main: Box<dyn LoadedModel>) -> Pipeline {
        Pipeline {
            pre: None,
            main,
            post: None,
        }
    }

    /// Runs `pre` before the main model: its outputs become the main model's inputs, in
    /// order. Fails with [`DeviceError::ChainArity`] or [`DeviceError::ChainShape`]
    /// (naming both tensors) when they do not match; the pipeline is then unchanged.
    pub fn set_preprocessing_model(&mut self, pre: Box<dyn LoadedModel>) -> Result<()> {
        check_link(pre.as_ref(), self.main.as_ref())?;
        self.pre = Some(pre);
        Ok(())
    }

    /// Runs `post` after the main model, fed by its outputs in order; the same checks as
    /// [`Pipeline::set_preprocessing_model`].
    pub fn set_postprocessing_model(&mut self, post: Box<dyn LoadedModel>) -> Result<()> {
        check_link(self.main.as_ref(), post.as_ref())?;
        self.post = Some(post);
        Ok(())
    }

    /// The model on the device.
    pub fn main(&self) -> &dyn LoadedModel {
        self.main.as_ref()
    }

    /// Where the main model came from (names it in errors).
    pub fn origin(&self) -> &str {
        &self.main.facts().origin
    }

    /// The tensors a frame is made of: the first stage's inputs.
    pub fn inputs(&self) -> &[TensorInfo] {
        &self.first().facts().inputs
    }

    /// The tensors each frame's result is made of: the last stage's outputs.
    pub fn outputs(&self) -> &[TensorInfo] {
        &self.last().facts().outputs
    }

    /// The main model's input ports (the device's, as MemryX assigns them).
    pub fn inport_assignment(&self) -> Vec<Port> {
        ports(&self.main.facts().inputs)
    }

    /// The main model's output ports.
    pub fn outport_assignment(&self) -> Vec<Port> {
        ports(&self.main.facts().outputs)
    }

    /// Runs one frame through every stage.
    pub fn run(&self, inputs: &[TensorData]) -> Result<Vec<TensorData>> {
        let values = match &self.pre {
            Some(pre) => self.main.run(&pre.run(inputs)?)?,
            None => self.main.run(inputs)?,
        };
        match &self.post {
            Some(post) => post.run(&values),
            None => Ok(values),
        }
    }

    /// Checks a frame against the first stage's inputs (count and shapes) without running
    /// it: [`DeviceError::BadInput`] naming the input.
    pub fn check_inputs(&self, inputs: &[TensorData]) -> Result<()> {
        let facts = self.first().facts();
        let bad = |cause: String| DeviceError::BadInput {
            origin: facts.origin.clone(),
            cause,
        };
        if inputs.len() != facts.inputs.len() {
            return Err(bad(format!(
                "the model takes {} input(s), {} given",
                facts.inputs.len(),
                inputs.len()
            )));
        }
        for (given, wanted) in inputs.iter().zip(&facts.inputs) {
            let len: usize = given.shape.iter().product();
            if given.shape != wanted.shape || given.data.len() != len {
                return Err(bad(format!(
                    "input {:?} has shape {:?}, {:?} given with {} value(s)",
                    wanted.name,
                    wanted.shape,
                    given.shape,
                    given.data.len()
                )));
            }
        }
        Ok(())
    }

    /// One frame of deterministic inputs ([`TensorData::pattern`]) for the first stage.
    pub fn sample_frame(&self) -> Vec<TensorData> {
        self.inputs()
            .iter()
            .map(|i| TensorData::pattern(&i.shape))
            .collect()
    }

    fn first(&self) -> &dyn LoadedModel {
        self.pre.as_deref().unwrap_or(self.main.as_ref())
    }

    fn last(&self) -> &dyn LoadedModel {
        self.post.as_deref().unwrap_or(self.main.as_ref())
    }
}

/// `from`'s outputs must be `to`'s inputs: as many, and of the same shapes, in order.
fn check_link(from: &dyn LoadedModel, to: &dyn LoadedModel) -> Result<()> {
    let (from, to) = (from.facts(), to.facts());
    if from.outputs.len() != to.inputs.len() {
        return Err(DeviceError::ChainArity {
            from: from.origin.clone(),
            outputs: from.outputs.len(),
            to: to.origin.clone(),
            inputs: to.inputs.len(),
        });
    }
    for (output, input) in from.outputs.iter().zip(&to.inputs) {
        if output.shape != input.shape {
            return Err(DeviceError::ChainShape {
                output: Box::new(ChainEnd {
                    model: from.origin.clone(),
                    tensor: output.name.clone(),
                    shape: output.shape.clone(),
                }),
                input: Box::new(ChainEnd {
                    model: to.origin.clone(),
                    tensor: input.name.clone(),
                    shape: input.shape.clone(),
                }),
            });
        }
    }
    Ok(())
}
