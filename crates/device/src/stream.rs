//! The asynchronous stream: inputs are pushed, a worker thread runs them in order and hands
//! each result to a callback (the shape of MemryX's asynchronous API).

use std::sync::mpsc::{self, SyncSender};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::error::{DeviceError, Result};
use crate::model::{OnnxModel, TensorData};

/// Inputs that may wait in a stream before [`Stream::push`] blocks.
const QUEUE: usize = 16;

/// One result of a stream.
#[derive(Debug)]
pub struct StreamOutput {
    /// The number [`Stream::push`] returned for these inputs (0, 1, 2… in push order).
    pub seq: u64,
    /// The model's outputs, or why this inference failed.
    pub outputs: Result<Vec<TensorData>>,
    /// Time the host spent on this inference, milliseconds.
    pub host_latency_ms: f64,
}

/// The callback a stream hands each result to, on the stream's worker thread.
pub type OutputCallback = Box<dyn FnMut(StreamOutput) + Send + 'static>;

/// A running stream. Dropping it closes the input and waits for the pending results.
#[derive(Debug)]
pub struct Stream {
    origin: String,
    sender: Option<SyncSender<(u64, Vec<TensorData>)>>,
    worker: Option<JoinHandle<u64>>,
    next: u64,
}

impl Stream {
    pub(crate) fn start(model: OnnxModel, mut on_output: OutputCallback) -> Result<Stream> {
        let origin = model.facts.origin.clone();
        let (sender, receiver) = mpsc::sync_channel::<(u64, Vec<TensorData>)>(QUEUE);
        let worker = std::thread::Builder::new()
            .name("sustainml-device-stream".into())
            .spawn(move || {
                let mut done = 0;
                for (seq, inputs) in receiver {
                    let start = Instant::now();
                    let outputs = model.run(&inputs);
                    let host_latency_ms = start.elapsed().as_secs_f64() * 1e3;
                    on_output(StreamOutput {
                        seq,
                        outputs,
                        host_latency_ms,
                    });
                    done += 1;
                }
                done
            })
            .map_err(|e| DeviceError::Run {
                origin: origin.clone(),
                cause: format!("cannot start the stream worker: {e}"),
            })?;
        Ok(Stream {
            origin,
            sender: Some(sender),
            worker: Some(worker),
            next: 0,
        })
    }

    /// Queues one set of inputs and returns its sequence number; blocks while the queue is
    /// full. Fails when the worker has stopped (its callback panicked).
    pub fn push(&mut self, inputs: Vec<TensorData>) -> Result<u64> {
        let seq = self.next;
        let sender = self.sender.as_ref().ok_or_else(|| self.closed())?;
        sender.send((seq, inputs)).map_err(|_| self.closed())?;
        self.next += 1;
        Ok(seq)
    }

    /// Closes the input, waits until every queued input has been run and its result handed
    /// to the callback, and returns how many were.
    pub fn finish(mut self) -> Result<u64> {
        self.close()
    }

    fn close(&mut self) -> Result<u64> {
        self.sender = None;
        match self.worker.take() {
            Some(worker) => worker.join().map_err(|_| self.closed()),
            None => Ok(0),
        }
    }

    fn closed(&self) -> DeviceError {
        DeviceError::StreamClosed {
            origin: self.origin.clone(),
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::warn!("{e}");
        }
    }
}
