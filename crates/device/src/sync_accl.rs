//! The synchronous accelerator, after MemryX's `SyncAccl`: `send` a frame and `receive`
//! its result, each with a timeout, or `run` a batch; frames are run in order on a worker
//! thread, so a caller may send several before receiving.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::{Job, Worker, QUEUE};
use crate::error::{DeviceError, Result};
use crate::model::TensorData;
use crate::pipeline::{port_label, Pipeline, Port};
use crate::queue::{Queue, QueueError};
use crate::LoadedModel;

/// A model (or a [`Pipeline`]) driven by send and receive.
///
/// ```no_run
/// # fn main() -> sustainml_device::Result<()> {
/// use std::time::Duration;
/// use sustainml_device::{require_device, Device, SyncAccl, TensorData};
///
/// let model = require_device("CPU")?.load(std::path::Path::new("mlp.onnx"))?;
/// let mut accl = SyncAccl::new(model);
/// accl.send(vec![TensorData::pattern(&[1, 64])], Duration::from_secs(1))?;
/// let outputs = accl.receive(Duration::from_secs(1))?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SyncAccl {
    pipeline: Arc<Pipeline>,
    running: Option<Running>,
}

/// The worker and its two queues, started by the first send or receive.
#[derive(Debug)]
struct Running {
    jobs: Arc<Queue<Job>>,
    results: Arc<Queue<Result<Vec<TensorData>>>>,
    worker: Worker,
    next: u64,
}

impl SyncAccl {
    /// An accelerator for `model` alone or for a whole [`Pipeline`].
    pub fn new(model: impl Into<Pipeline>) -> SyncAccl {
        SyncAccl {
            pipeline: Arc::new(model.into()),
            running: None,
        }
    }

    /// Runs `pre` before the main model (see [`Pipeline::set_preprocessing_model`]);
    /// [`DeviceError::AlreadyStarted`] after the first send or receive.
    pub fn set_preprocessing_model(&mut self, pre: Box<dyn LoadedModel>) -> Result<()> {
        self.pipeline_mut()?.set_preprocessing_model(pre)
    }

    /// Runs `post` after the main model (see [`Pipeline::set_postprocessing_model`]);
    /// [`DeviceError::AlreadyStarted`] after the first send or receive.
    pub fn set_postprocessing_model(&mut self, post: Box<dyn LoadedModel>) -> Result<()> {
        self.pipeline_mut()?.set_postprocessing_model(post)
    }

    /// The models this accelerator runs.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// The main model's input ports: index and tensor name.
    pub fn inport_assignment(&self) -> Vec<Port> {
        self.pipeline.inport_assignment()
    }

    /// The main model's output ports: index and tensor name.
    pub fn outport_assignment(&self) -> Vec<Port> {
        self.pipeline.outport_assignment()
    }

    /// Queues one frame (one tensor per input, in port order). A frame that does not fit
    /// the inputs is refused at once ([`DeviceError::BadInput`]); when the queue stays
    /// full for `timeout` the error is [`DeviceError::Timeout`] naming the input ports.
    pub fn send(&mut self, inputs: Vec<TensorData>, timeout: Duration) -> Result<()> {
        self.pipeline.check_inputs(&inputs)?;
        let deadline = Instant::now() + timeout;
        let label = port_label("input", &self.pipeline.inport_assignment());
        let origin = self.pipeline.origin().to_string();
        let running = self.start()?;
        let job = Job {
            stream: 0,
            seq: running.next,
            inputs,
        };
        match running.jobs.push(job, Some(deadline)) {
            Ok(()) => {
                running.next += 1;
                Ok(())
            }
            Err(QueueError::Timeout) => Err(DeviceError::Timeout {
                origin,
                port: format!("sending to {label} (the input queue stayed full)"),
                waited_ms: timeout.as_millis(),
            }),
            Err(QueueError::Closed) => Err(DeviceError::StreamClosed { origin }),
        }
    }

    /// The result of the oldest frame sent and not yet received: its outputs, or the
    /// error running it. [`DeviceError::Timeout`] naming the output ports when none is
    /// ready within `timeout`.
    pub fn receive(&mut self, timeout: Duration) -> Result<Vec<TensorData>> {
        let deadline = Instant::now() + timeout;
        let label = port_label("output", &self.pipeline.outport_assignment());
        let origin = self.pipeline.origin().to_string();
        let running = self.start()?;
        match running.results.pop(Some(deadline)) {
            Ok(result) => result,
            Err(QueueError::Timeout) => Err(DeviceError::Timeout {
                origin,
                port: format!("receiving from {label} (no result was ready)"),
                waited_ms: timeout.as_millis(),
            }),
            Err(QueueError::Closed) => Err(DeviceError::StreamClosed { origin }),
        }
    }

    /// Runs a batch of frames on the calling thread and returns their outputs in order;
    /// the first frame that fails ends the batch with its error.
    pub fn run(&self, batch: &[Vec<TensorData>]) -> Result<Vec<Vec<TensorData>>> {
        batch.iter().map(|frame| self.pipeline.run(frame)).collect()
    }

    fn pipeline_mut(&mut self) -> Result<&mut Pipeline> {
        let origin = self.pipeline.origin().to_string();
        match (&self.running, Arc::get_mut(&mut self.pipeline)) {
            (None, Some(pipeline)) => Ok(pipeline),
            _ => Err(DeviceError::AlreadyStarted { origin }),
        }
    }

    fn start(&mut self) -> Result<&mut Running> {
        if self.running.is_none() {
            let jobs = Arc::new(Queue::new(QUEUE));
            let results = Arc::new(Queue::new(QUEUE));
            let pipeline = Arc::clone(&self.pipeline);
            let sink = Arc::clone(&results);
            let worker = Worker::spawn(
                self.pipeline.origin(),
                Arc::new(move |inputs: &[TensorData]| pipeline.run(inputs)),
                Arc::clone(&jobs),
                Arc::new(AtomicBool::new(false)),
                move |_, out| {
                    // Closed only when the accelerator is dropped: nobody is left to receive.
                    let _ = sink.push(out.outputs, None);
                },
            )?;
            self.running = Some(Running {
                jobs,
                results,
                worker,
                next: 0,
            });
        }
        match self.running.as_mut() {
            Some(running) => Ok(running),
            None => Err(DeviceError::StreamClosed {
                origin: self.pipeline.origin().to_string(),
            }),
        }
    }
}

impl Drop for SyncAccl {
    /// Discards what was sent and not received, and stops the worker.
    fn drop(&mut self) {
        if let Some(mut running) = self.running.take() {
            running.results.close();
            running.jobs.clear();
            running.jobs.close();
            if let Err(e) = running.worker.join() {
                tracing::warn!("{e}");
            }
        }
    }
}
