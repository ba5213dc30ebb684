//! Typed writers.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustdds::dds::statusevents::{DataWriterStatus, StatusEvented};
use rustdds::with_key::DataWriter;
use rustdds::QosPolicies;
use sustainml_types::topics::TopicInfo;
use sustainml_types::{MLModelImpl, WireType};

use super::wait_for_match;
use crate::adapter::{Outgoing, WireAdapter};
use crate::blob::{self, BlobStore};
use crate::error::{Error, Result};
use crate::participant::Participant;

/// A typed writer on one topic.
pub struct Publisher<T: WireType> {
    writer: DataWriter<Outgoing<T>, WireAdapter<T>>,
    topic: TopicInfo,
    matched: Mutex<i64>,
    blobs: Arc<BlobStore>,
    last_write: LastWrite,
}

/// How long a writer stays after its last sample before it leaves.
///
/// When a writer leaves, rustdds readers forget its reliability marker and with it
/// every sample of that writer the application has not taken yet
/// (`TopicCache::forget_reliable_writer`). A [`Publisher`] dropped soon after a write
/// therefore first waits (at most [`LEAVE_ACK_WAIT`]) until its matched readers have
/// acknowledged everything (so a reader still completing discovery is repaired first),
/// then until this long has passed since the write, so that the readers' applications
/// have taken it. A writer idle for longer leaves at once. Our subscribers take a sample within microseconds of its arrival
/// (see [`QUEUE_DEPTH`](super::QUEUE_DEPTH)); the grace covers a reader process the scheduler keeps from
/// running for a while.
pub const TAKE_GRACE: Duration = Duration::from_millis(500);

/// The longest a leaving writer waits for its readers' acknowledgments.
pub const LEAVE_ACK_WAIT: Duration = Duration::from_secs(5);

/// When a writer last wrote, so that it does not leave right after (see
/// [`TAKE_GRACE`]).
#[derive(Debug, Default)]
pub(super) struct LastWrite(Mutex<Option<Instant>>);

impl LastWrite {
    pub(super) fn touch(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    fn clear(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Blocks as described above; `wait_acks` waits for acknowledgments.
    pub(super) fn linger(&self, topic: &str, wait_acks: impl FnOnce(Duration) -> bool) {
        let Some(at) = *self.0.lock().unwrap_or_else(|p| p.into_inner()) else {
            return;
        };
        if at.elapsed() >= TAKE_GRACE {
            return;
        }
        if !wait_acks(LEAVE_ACK_WAIT) {
            tracing::warn!(
                topic,
                "leaving although a reader has not acknowledged every sample within {LEAVE_ACK_WAIT:?}"
            );
        }
        if let Some(rest) = TAKE_GRACE.checked_sub(at.elapsed()) {
            std::thread::sleep(rest);
        }
    }
}

impl<T: WireType> Drop for Publisher<T> {
    fn drop(&mut self) {
        let writer = &self.writer;
        self.last_write.linger(self.topic.name, |wait| {
            writer.wait_for_acknowledgments(wait).unwrap_or(false)
        });
    }
}

impl<T: WireType> fmt::Debug for Publisher<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publisher")
            .field("topic", &self.topic.name)
            .finish()
    }
}

impl<T: WireType> Publisher<T> {
    pub(crate) fn new(
        participant: &Participant,
        topic: TopicInfo,
        qos: QosPolicies,
    ) -> Result<Self> {
        let rtps_topic = participant.topic(&topic)?;
        let writer = participant
            .rtps_publisher()
            .create_datawriter::<Outgoing<T>, WireAdapter<T>>(&rtps_topic, Some(qos))
            .map_err(|e| Error::Create {
                what: format!("writer on {}", topic.name),
                reason: e.to_string(),
            })?;
        Ok(Self {
            writer,
            topic,
            matched: Mutex::new(0),
            blobs: Arc::clone(participant.blobs()),
            last_write: LastWrite::default(),
        })
    }

    /// Declares every sample written so far taken by the readers that matter (a
    /// request whose reply arrived), so that dropping the publisher does not linger
    /// for them (see [`TAKE_GRACE`]).
    pub fn settled(&self) {
        self.last_write.clear();
    }

    /// The topic.
    pub fn topic(&self) -> &TopicInfo {
        &self.topic
    }

    /// Writes a sample. A model whose `raw_model` is larger than the inline limit is
    /// sent through [`crate::blob`]; every other sample goes as it is.
    pub async fn write(&self, value: T) -> Result<()> {
        let mut value = value;
        if let Some(model) = (&mut value as &mut dyn Any).downcast_mut::<MLModelImpl>() {
            blob::detach(&self.blobs, model)
                .await
                .map_err(|reason| Error::Blob {
                    topic: self.topic.name.to_owned(),
                    reason,
                })?;
        }
        let written = self
            .writer
            .async_write(Outgoing(value), super::ids::stamp())
            .await
            .map_err(|e| Error::Write {
                topic: self.topic.name.to_owned(),
                reason: e.to_string(),
            });
        self.last_write.touch();
        written
    }

    /// Disposes the instance with this key (the reference never does; we use it for
    /// finished configuration requests).
    pub fn dispose(&self, key: &T::Key) -> Result<()> {
        self.writer
            .dispose(&crate::adapter::TaskKey(key.clone()), super::ids::stamp())
            .map_err(|e| Error::Write {
                topic: self.topic.name.to_owned(),
                reason: e.to_string(),
            })
    }

    /// Waits until every matched reader has acknowledged every sample written so far;
    /// `false` if `timeout` passed first. Call it before dropping a writer whose last
    /// samples must arrive: a dropped writer can no longer repair lost packets.
    pub async fn wait_for_acknowledgments(&self, timeout: Duration) -> Result<bool> {
        match tokio::time::timeout(timeout, self.writer.async_wait_for_acknowledgments()).await {
            Ok(Ok(all)) => Ok(all),
            Ok(Err(e)) => Err(Error::Write {
                topic: self.topic.name.to_owned(),
                reason: e.to_string(),
            }),
            Err(_) => Ok(false),
        }
    }

    /// How many readers are matched now.
    pub fn matched_readers(&self) -> usize {
        let mut matched = self.matched.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(status) = self.writer.try_recv_status() {
            match status {
                DataWriterStatus::PublicationMatched { current, .. } => {
                    *matched = i64::from(current.count());
                }
                DataWriterStatus::OfferedIncompatibleQos {
                    reader,
                    last_policy_id,
                    ..
                } => tracing::warn!(
                    topic = self.topic.name,
                    ?reader,
                    ?last_policy_id,
                    "a reader requested incompatible QoS"
                ),
                _ => {}
            }
        }
        usize::try_from(*matched).unwrap_or(0)
    }

    /// Waits until at least `count` readers are matched.
    pub async fn wait_for_readers(&self, count: usize, timeout: Duration) -> Result<()> {
        wait_for_match("readers", self.topic, count, timeout, || {
            self.matched_readers()
        })
        .await
    }
}
