//! The asynchronous stream: inputs are pushed, a worker thread runs them in order and hands
//! each result to a callback (the push-driven shape of MemryX's asynchronous API; the
//! callback-driven one is [`crate::AsyncAccl`]).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::engine::{Job, Runner, Worker, QUEUE};
use crate::error::{DeviceError, Result};
use crate::model::TensorData;
use crate::queue::Queue;

/// One result of a stream.
#[derive(Debug)]
pub struct StreamOutput {
    /// The frame's number in its stream (0, 1, 2… in the order the inputs came).
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
    jobs: Arc<Queue<Job>>,
    worker: Worker,
    next: u64,
}

impl Stream {
    pub(crate) fn start(
        origin: &str,
        runner: Runner,
        mut on_output: OutputCallback,
    ) -> Result<Stream> {
        let jobs = Arc::new(Queue::new(QUEUE));
        let worker = Worker::spawn(
            origin,
            runner,
            Arc::clone(&jobs),
            Arc::new(AtomicBool::new(false)),
            move |_, out| on_output(out),
        )?;
        Ok(Stream {
            origin: origin.to_string(),
            jobs,
            worker,
            next: 0,
        })
    }

    /// Queues one set of inputs and returns its sequence number; blocks while the queue is
    /// full. Fails when the worker has stopped (its callback panicked).
    pub fn push(&mut self, inputs: Vec<TensorData>) -> Result<u64> {
        let seq = self.next;
        let job = Job {
            stream: 0,
            seq,
            inputs,
        };
        self.jobs.push(job, None).map_err(|_| self.closed())?;
        self.next += 1;
        Ok(seq)
    }

    /// Closes the input, waits until every queued input has been run and its result handed
    /// to the callback, and returns how many were.
    pub fn finish(mut self) -> Result<u64> {
        self.close()
    }

    fn close(&mut self) -> Result<u64> {
        self.jobs.close();
        self.worker.join()
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
