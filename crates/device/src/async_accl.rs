//! The callback-driven accelerators, after MemryX's `AsyncAccl` and
//! `MultiStreamAsyncAccl`: an input callback is called for the next frame (returning
//! `None`, or an error, ends its stream), a worker runs the frames in order and an output
//! callback receives each result; `wait` lets every frame finish, `stop` discards what is
//! pending. One implementation serves both: `AsyncAccl` is a single stream.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::engine::{Job, Worker, QUEUE};
use crate::error::{CallbackError, DeviceError, Result};
use crate::model::TensorData;
use crate::pipeline::{Pipeline, Port};
use crate::queue::Queue;
use crate::stream::StreamOutput;
use crate::LoadedModel;

/// What an input callback returns: the next frame, `Ok(None)` to end its stream, or an
/// error, which ends the stream and is returned by `wait`.
pub type NextFrame = std::result::Result<Option<Vec<TensorData>>, CallbackError>;

/// An input callback, called with its stream's index.
type StreamInputCallback = Box<dyn FnMut(usize) -> NextFrame + Send>;
/// An output callback, called with its stream's index, on the worker thread.
type StreamOutputCallback = Box<dyn FnMut(usize, StreamOutput) + Send>;

/// The errors the input thread met: (stream, error).
type InputErrors = Vec<(usize, CallbackError)>;

/// The shared machinery: n streams, one input thread, one worker.
#[derive(Debug)]
struct Core {
    pipeline: Arc<Pipeline>,
    streams: usize,
    jobs: Arc<Queue<Job>>,
    stop: Arc<AtomicBool>,
    input: Option<JoinHandle<InputErrors>>,
    worker: Option<Worker>,
    started: bool,
}

impl Core {
    /// `streams` is at least 1 (the callers check).
    fn new(pipeline: Pipeline, streams: usize) -> Core {
        Core {
            pipeline: Arc::new(pipeline),
            streams,
            jobs: Arc::new(Queue::new(QUEUE)),
            stop: Arc::new(AtomicBool::new(false)),
            input: None,
            worker: None,
            started: false,
        }
    }

    fn origin(&self) -> String {
        self.pipeline.origin().to_string()
    }

    fn pipeline_mut(&mut self) -> Result<&mut Pipeline> {
        let origin = self.origin();
        match Arc::get_mut(&mut self.pipeline) {
            Some(pipeline) if !self.started => Ok(pipeline),
            _ => Err(DeviceError::AlreadyStarted { origin }),
        }
    }

    /// Starts the input thread: it asks each live stream in turn for a frame.
    fn connect_input(&mut self, mut next: StreamInputCallback) -> Result<()> {
        if self.input.is_some() {
            return Err(DeviceError::AlreadyConnected {
                origin: self.origin(),
                callback: "input",
            });
        }
        self.started = true;
        let (jobs, stop, streams) = (Arc::clone(&self.jobs), Arc::clone(&self.stop), self.streams);
        let handle = std::thread::Builder::new()
            .name("sustainml-device-input".into())
            .spawn(move || {
                let mut errors = InputErrors::new();
                let mut seqs = vec![0u64; streams];
                let mut live: Vec<usize> = (0..streams).collect();
                'feed: while !live.is_empty() {
                    let mut still = Vec::with_capacity(live.len());
                    for &stream in &live {
                        if stop.load(Ordering::SeqCst) {
                            break 'feed;
                        }
                        match next(stream) {
                            Ok(Some(inputs)) => {
                                let seq = seqs[stream];
                                seqs[stream] += 1;
                                let job = Job {
                                    stream,
                                    seq,
                                    inputs,
                                };
                                if jobs.push(job, None).is_err() {
                                    break 'feed;
                                }
                                still.push(stream);
                            }
                            Ok(None) => {}
                            Err(e) => errors.push((stream, e)),
                        }
                    }
                    live = still;
                }
                jobs.close();
                errors
            })
            .map_err(|e| DeviceError::Run {
                origin: self.origin(),
                cause: format!("cannot start the input thread: {e}"),
            })?;
        self.input = Some(handle);
        Ok(())
    }

    /// Starts the worker, which hands each result to `deliver`.
    fn connect_output(&mut self, deliver: StreamOutputCallback) -> Result<()> {
        if self.worker.is_some() {
            return Err(DeviceError::AlreadyConnected {
                origin: self.origin(),
                callback: "output",
            });
        }
        self.started = true;
        let pipeline = Arc::clone(&self.pipeline);
        self.worker = Some(Worker::spawn(
            self.pipeline.origin(),
            Arc::new(move |inputs: &[TensorData]| pipeline.run(inputs)),
            Arc::clone(&self.jobs),
            Arc::clone(&self.stop),
            deliver,
        )?);
        Ok(())
    }

    /// Lets every stream end and every frame be delivered; the number delivered, or the
    /// first input callback's error.
    fn wait(&mut self) -> Result<u64> {
        let origin = self.origin();
        let Some(input) = self.input.take() else {
            return Err(DeviceError::NotConnected {
                origin,
                callback: "input",
            });
        };
        let Some(worker) = self.worker.as_mut() else {
            self.input = Some(input);
            return Err(DeviceError::NotConnected {
                origin,
                callback: "output",
            });
        };
        let errors = input.join().map_err(|_| DeviceError::StreamClosed {
            origin: origin.clone(),
        })?;
        let delivered = worker.join()?;
        match errors.into_iter().next() {
            Some((stream, source)) => Err(DeviceError::InputCallback {
                origin,
                stream,
                source,
            }),
            None => Ok(delivered),
        }
    }

    /// Stops asking for frames, discards the queued ones and any result still being
    /// computed, and returns how many results were delivered.
    fn stop(&mut self) -> Result<u64> {
        self.stop.store(true, Ordering::SeqCst);
        self.jobs.clear();
        self.jobs.close();
        let origin = self.origin();
        let input = self.input.take().map(JoinHandle::join);
        let delivered = match self.worker.as_mut() {
            Some(worker) => worker.join()?,
            None => 0,
        };
        match input {
            Some(Err(_)) => Err(DeviceError::StreamClosed { origin }),
            _ => Ok(delivered),
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        if self.input.is_some() || self.worker.is_some() {
            if let Err(e) = self.stop() {
                tracing::warn!("{e}");
            }
        }
    }
}

macro_rules! common_methods {
    () => {
        /// Runs `pre` before the main model (see [`Pipeline::set_preprocessing_model`]);
        /// [`DeviceError::AlreadyStarted`] once a callback is connected.
        pub fn set_preprocessing_model(&mut self, pre: Box<dyn LoadedModel>) -> Result<()> {
            self.core.pipeline_mut()?.set_preprocessing_model(pre)
        }

        /// Runs `post` after the main model (see [`Pipeline::set_postprocessing_model`]);
        /// [`DeviceError::AlreadyStarted`] once a callback is connected.
        pub fn set_postprocessing_model(&mut self, post: Box<dyn LoadedModel>) -> Result<()> {
            self.core.pipeline_mut()?.set_postprocessing_model(post)
        }

        /// The models this accelerator runs.
        pub fn pipeline(&self) -> &Pipeline {
            &self.core.pipeline
        }

        /// The main model's input ports: index and tensor name.
        pub fn inport_assignment(&self) -> Vec<Port> {
            self.core.pipeline.inport_assignment()
        }

        /// The main model's output ports: index and tensor name.
        pub fn outport_assignment(&self) -> Vec<Port> {
            self.core.pipeline.outport_assignment()
        }

        /// Blocks until every stream has ended and every frame's result has been handed
        /// to the output callback; returns how many were. Fails with
        /// [`DeviceError::NotConnected`] before both callbacks are connected, and with
        /// [`DeviceError::InputCallback`] when an input callback returned an error (the
        /// frames before it are still delivered).
        pub fn wait(&mut self) -> Result<u64> {
            self.core.wait()
        }

        /// Stops: no input callback is called again, frames not yet run are discarded,
        /// and so is the result of the one running. Returns how many results were
        /// delivered. Dropping the accelerator stops it too.
        pub fn stop(&mut self) -> Result<u64> {
            self.core.stop()
        }
    };
}

/// A model (or a [`Pipeline`]) fed by an input callback, its results handed to an output
/// callback.
#[derive(Debug)]
pub struct AsyncAccl {
    core: Core,
}

impl AsyncAccl {
    /// An accelerator for `model` alone or for a whole [`Pipeline`].
    pub fn new(model: impl Into<Pipeline>) -> AsyncAccl {
        AsyncAccl {
            core: Core::new(model.into(), 1),
        }
    }

    /// Starts calling `next` for frames, on a thread of its own; frames wait (up to a
    /// small queue, then `next` is not called) until the output callback is connected.
    pub fn connect_input(
        &mut self,
        mut next: impl FnMut() -> NextFrame + Send + 'static,
    ) -> Result<()> {
        self.core.connect_input(Box::new(move |_| next()))
    }

    /// Starts running frames; each result goes to `on_output`, in frame order.
    pub fn connect_output(
        &mut self,
        mut on_output: impl FnMut(StreamOutput) + Send + 'static,
    ) -> Result<()> {
        self.core
            .connect_output(Box::new(move |_, out| on_output(out)))
    }

    common_methods!();
}

/// n streams through one model (or [`Pipeline`]), e.g. one per camera: each stream's
/// input callback is asked for frames in turn, and each result goes to the output
/// callback with its stream's index (frames numbered per stream).
#[derive(Debug)]
pub struct MultiStreamAsyncAccl {
    core: Core,
}

impl MultiStreamAsyncAccl {
    /// An accelerator of `streams` streams; [`DeviceError::NoStreams`] for 0.
    pub fn new(model: impl Into<Pipeline>, streams: usize) -> Result<MultiStreamAsyncAccl> {
        if streams == 0 {
            return Err(DeviceError::NoStreams);
        }
        Ok(MultiStreamAsyncAccl {
            core: Core::new(model.into(), streams),
        })
    }

    /// How many streams there are.
    pub fn stream_count(&self) -> usize {
        self.core.streams
    }

    /// Starts the streams: `next(i)` gives stream i's next frame (`None` or an error ends
    /// stream i alone), `on_output(i, result)` receives its results.
    pub fn connect_streams(
        &mut self,
        next: impl FnMut(usize) -> NextFrame + Send + 'static,
        on_output: impl FnMut(usize, StreamOutput) + Send + 'static,
    ) -> Result<()> {
        self.core.connect_output(Box::new(on_output))?;
        self.core.connect_input(Box::new(next))
    }

    common_methods!();
}
