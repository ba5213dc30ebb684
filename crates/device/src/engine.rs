//! The worker every stream and accelerator is built on: a thread that takes frames from a
//! [`Queue`], runs them in order and hands each result on. When it stops, for any
//! reason (a panicking callback included), it closes its queue so that no producer waits
//! on it forever.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crate::error::{DeviceError, Result};
use crate::model::TensorData;
use crate::queue::Queue;
use crate::stream::StreamOutput;

/// Inputs that may wait before a producer blocks.
pub(crate) const QUEUE: usize = 16;

/// What runs one frame: a model, or a pipeline of models.
pub(crate) type Runner = Arc<dyn Fn(&[TensorData]) -> Result<Vec<TensorData>> + Send + Sync>;

/// One frame to run: which stream it belongs to and its number in that stream.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) stream: usize,
    pub(crate) seq: u64,
    pub(crate) inputs: Vec<TensorData>,
}

/// Closes the queue when dropped, unwinding included.
struct CloseOnDrop(Arc<Queue<Job>>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// A running worker thread.
#[derive(Debug)]
pub(crate) struct Worker {
    origin: String,
    handle: Option<JoinHandle<u64>>,
}

impl Worker {
    /// Starts a thread that runs every job of `jobs` with `runner` and hands the result to
    /// `deliver(stream, output)`, until the queue is closed and drained. Results computed
    /// after `discard` is set are dropped instead.
    pub(crate) fn spawn(
        origin: &str,
        runner: Runner,
        jobs: Arc<Queue<Job>>,
        discard: Arc<AtomicBool>,
        mut deliver: impl FnMut(usize, StreamOutput) + Send + 'static,
    ) -> Result<Worker> {
        let handle = std::thread::Builder::new()
            .name("sustainml-device-worker".into())
            .spawn(move || {
                let _close = CloseOnDrop(Arc::clone(&jobs));
                let mut delivered = 0;
                while let Ok(job) = jobs.pop(None) {
                    let start = Instant::now();
                    let outputs = runner(&job.inputs);
                    let host_latency_ms = start.elapsed().as_secs_f64() * 1e3;
                    if discard.load(Ordering::SeqCst) {
                        continue;
                    }
                    deliver(
                        job.stream,
                        StreamOutput {
                            seq: job.seq,
                            outputs,
                            host_latency_ms,
                        },
                    );
                    delivered += 1;
                }
                delivered
            })
            .map_err(|e| DeviceError::Run {
                origin: origin.to_string(),
                cause: format!("cannot start a worker thread: {e}"),
            })?;
        Ok(Worker {
            origin: origin.to_string(),
            handle: Some(handle),
        })
    }

    /// Waits for the thread to end (close its queue first) and returns how many results
    /// it handed on; [`DeviceError::StreamClosed`] if it panicked (in a callback).
    pub(crate) fn join(&mut self) -> Result<u64> {
        match self.handle.take() {
            Some(handle) => handle.join().map_err(|_| DeviceError::StreamClosed {
                origin: self.origin.clone(),
            }),
            None => Ok(0),
        }
    }
}
