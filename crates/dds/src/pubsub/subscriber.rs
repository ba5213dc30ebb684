//! Typed readers, each with a pump that takes samples out of rustdds at once.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustdds::with_key::Sample;
use rustdds::QosPolicies;
use sustainml_types::topics::TopicInfo;
use sustainml_types::{MLModelImpl, WireType};
use tokio::sync::{mpsc, oneshot};

use super::ids::Received;
use super::pump::{self, Shared, Taken};
use super::wait_for_match;
use crate::adapter::{Incoming, WireAdapter};
use crate::blob::{self, BlobStore};
use crate::error::{Error, Result};
use crate::participant::Participant;

/// Samples a subscriber takes out of rustdds ahead of its application.
///
/// rustdds acknowledges a sample as soon as it is received, then keeps it only while
/// its caches have room (500 samples per topic, [`crate::qos::SLOT_DEPTH`] per reader
/// slot) and only while its writer is matched: an application that takes late loses
/// samples without anyone knowing. Every subscriber therefore runs a pump, a thread
/// that takes each sample the moment rustdds has it and queues it here, so rustdds's
/// caches stay empty whatever the application's pace and whenever the writer leaves.
/// A reader more than this many samples behind makes the pump wait, and only then do
/// rustdds's own limits apply again.
pub const QUEUE_DEPTH: usize = 65_536;

/// A typed reader on one topic.
pub struct Subscriber<T: WireType> {
    queue: mpsc::Receiver<Taken<T>>,
    pump_done: Option<oneshot::Receiver<()>>,
    shared: Arc<Shared>,
    topic: TopicInfo,
    blobs: Arc<BlobStore>,
}

impl<T: WireType> fmt::Debug for Subscriber<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("topic", &self.topic.name)
            .field("dropped", &self.shared.dropped.load(Ordering::Relaxed))
            .finish()
    }
}

impl<T: WireType> Subscriber<T> {
    pub(crate) fn new(
        participant: &Participant,
        topic: TopicInfo,
        qos: QosPolicies,
    ) -> Result<Self> {
        let rtps_topic = participant.topic(&topic)?;
        let reader = participant
            .rtps_subscriber()
            .create_datareader::<Incoming<T>, WireAdapter<T>>(&rtps_topic, Some(qos))
            .map_err(|e| Error::Create {
                what: format!("reader on {}", topic.name),
                reason: e.to_string(),
            })?;
        let (tx, queue) = mpsc::channel(QUEUE_DEPTH);
        let shared = Arc::new(Shared::default());
        let pump_done = pump::start(
            reader,
            topic.name,
            tx,
            Arc::clone(&shared),
            participant.clone(),
        )
        .map_err(|e| Error::Create {
            what: format!("pump of the reader on {}", topic.name),
            reason: e.to_string(),
        })?;
        Ok(Self {
            queue,
            pump_done: Some(pump_done),
            shared,
            topic,
            blobs: Arc::clone(participant.blobs()),
        })
    }

    /// Stops the reader and waits until rustdds has deleted it.
    pub async fn close(mut self) {
        self.queue.close();
        if let Some(done) = self.pump_done.take() {
            let _ = done.await;
        }
    }

    /// The topic.
    pub fn topic(&self) -> &TopicInfo {
        &self.topic
    }

    /// How many samples were dropped because they did not decode (or their large
    /// payload could not be fetched).
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// A shared handle on the dropped-sample counter (for status reports).
    pub fn dropped_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.shared.dropped)
    }

    /// The next valid sample. Samples that do not decode are dropped here with one
    /// warning naming the topic and the writer; disposals are skipped.
    pub async fn recv(&mut self) -> Result<Received<T>> {
        loop {
            let Taken {
                sample,
                writer,
                source_timestamp,
            } = self.queue.recv().await.ok_or(Error::Closed)?;
            match sample {
                Sample::Value(Incoming::Value(mut value)) => {
                    if let Some(model) = (&mut value as &mut dyn Any).downcast_mut::<MLModelImpl>()
                    {
                        if let Err(reason) = blob::attach(&self.blobs, model).await {
                            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(
                                topic = self.topic.name,
                                %writer,
                                task = %model.task_id,
                                "dropped a model whose raw_model could not be fetched: {reason}"
                            );
                            continue;
                        }
                    }
                    return Ok(Received {
                        value,
                        writer,
                        source_timestamp,
                    });
                }
                Sample::Value(Incoming::Undecodable { len, error, .. }) => {
                    self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        topic = self.topic.name,
                        %writer,
                        bytes = len,
                        "dropped a sample that does not decode: {error}"
                    );
                }
                Sample::Dispose(_) => {
                    tracing::trace!(topic = self.topic.name, %writer, "instance disposed");
                }
            }
        }
    }

    /// How many writers are matched now.
    pub fn matched_writers(&mut self) -> usize {
        usize::try_from(self.shared.matched.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Waits until at least `count` writers are matched.
    pub async fn wait_for_writers(&mut self, count: usize, timeout: Duration) -> Result<()> {
        let topic = self.topic;
        wait_for_match("writers", topic, count, timeout, || self.matched_writers()).await
    }
}
