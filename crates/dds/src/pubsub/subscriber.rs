//! Typed readers, each with a pump that takes samples out of rustdds at once.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::{FutureExt, StreamExt};
use rustdds::dds::statusevents::DataReaderStatus;
use rustdds::with_key::{DataReaderEventStream, DataReaderStream, Sample};
use rustdds::QosPolicies;
use sustainml_types::topics::TopicInfo;
use sustainml_types::{MLModelImpl, WireType};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::ids::{to_system_time, Received, WriterId};
use super::wait_for_match;
use crate::adapter::{Incoming, WireAdapter};
use crate::blob::{self, BlobStore};
use crate::error::{Error, Result};
use crate::participant::Participant;

/// How often an idle subscriber looks for samples rustdds did not wake it up for.
const REPOLL: Duration = Duration::from_millis(100);

/// Samples a subscriber takes out of rustdds ahead of its application.
///
/// rustdds acknowledges a sample as soon as it is received, then keeps it only while
/// its caches have room (500 samples per topic, [`crate::qos::SLOT_DEPTH`] per reader
/// slot) and only while its writer is matched: an application that takes late loses
/// samples without anyone knowing. Every subscriber therefore runs a pump, a task that
/// takes each sample the moment rustdds has it and queues it here, so rustdds's caches
/// stay empty whatever the application's pace and whenever the writer leaves. A
/// reader more than this many samples behind makes the pump wait, and only then do
/// rustdds's own limits apply again.
pub const QUEUE_DEPTH: usize = 65_536;

type RtpsStream<T> = DataReaderStream<Incoming<T>, WireAdapter<T>>;
type RtpsSample<T> = Sample<Incoming<T>, crate::adapter::ReaderSlot>;

/// A sample the pump took, with where it came from.
struct Taken<T> {
    sample: RtpsSample<T>,
    writer: WriterId,
    source_timestamp: Option<SystemTime>,
}

/// A typed reader on one topic.
pub struct Subscriber<T: WireType> {
    queue: mpsc::Receiver<Taken<T>>,
    pump: Pump<T>,
    events: DataReaderEventStream<Incoming<T>, WireAdapter<T>>,
    topic: TopicInfo,
    matched: i64,
    dropped: Arc<AtomicU64>,
    blobs: Arc<BlobStore>,
}

/// The pump of a subscriber: started at once inside a tokio runtime, else at the
/// first `recv`.
enum Pump<T: WireType> {
    Waiting(Box<PumpParts<T>>),
    Running(JoinHandle<()>),
    Stopped,
}

struct PumpParts<T: WireType> {
    stream: RtpsStream<T>,
    tx: mpsc::Sender<Taken<T>>,
    participant: Participant,
}

impl<T: WireType> Pump<T> {
    fn start(&mut self, topic: &'static str, dropped: &Arc<AtomicU64>) {
        if let Pump::Waiting(_) = self {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return;
            };
            if let Pump::Waiting(parts) = std::mem::replace(self, Pump::Stopped) {
                let dropped = Arc::clone(dropped);
                *self = Pump::Running(runtime.spawn(pump(*parts, topic, dropped)));
            }
        }
    }
}

impl<T: WireType> Drop for Subscriber<T> {
    fn drop(&mut self) {
        if let Pump::Running(handle) = &self.pump {
            handle.abort();
        }
    }
}

/// Takes every sample rustdds has for the reader, as soon as it has it. The task holds
/// the participant, so that the rustdds reader goes before its participant.
async fn pump<T: WireType>(parts: PumpParts<T>, topic: &'static str, dropped: Arc<AtomicU64>) {
    let PumpParts {
        mut stream,
        tx,
        participant,
    } = parts;
    loop {
        // rustdds can miss a wake-up when the reliable marker of a writer moves after
        // its last sample (the samples then sit in the cache until the next one
        // arrives): poll again periodically instead of waiting only for it.
        let item = tokio::select! {
            r = tokio::time::timeout(REPOLL, stream.next()) => match r {
                Ok(Some(item)) => item,
                Ok(None) => break,
                Err(_) => continue,
            },
            () = tx.closed() => break,
        };
        let sample = match item {
            Ok(s) => s,
            Err(e) => {
                // rustdds refused the sample before we saw it (e.g. an unknown
                // representation identifier): it does not tell us the writer.
                dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(topic, error = %e, "dropped a sample rustdds could not read");
                continue;
            }
        };
        let info = sample.sample_info();
        let taken = Taken {
            writer: WriterId(info.writer_guid()),
            source_timestamp: info.source_timestamp().map(to_system_time),
            sample: sample.into_value(),
        };
        if tx.send(taken).await.is_err() {
            break;
        }
    }
    drop(stream);
    drop(participant);
}

impl<T: WireType> fmt::Debug for Subscriber<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("topic", &self.topic.name)
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
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
        let stream = reader.async_sample_stream();
        let events = stream.async_event_stream();
        let (tx, queue) = mpsc::channel(QUEUE_DEPTH);
        let dropped = Arc::new(AtomicU64::new(0));
        let mut pump = Pump::Waiting(Box::new(PumpParts {
            stream,
            tx,
            participant: participant.clone(),
        }));
        pump.start(topic.name, &dropped);
        Ok(Self {
            queue,
            pump,
            events,
            topic,
            matched: 0,
            dropped,
            blobs: Arc::clone(participant.blobs()),
        })
    }

    /// Stops the reader and waits until rustdds has deleted it.
    pub async fn close(mut self) {
        if let Pump::Running(handle) = std::mem::replace(&mut self.pump, Pump::Stopped) {
            handle.abort();
            let _ = handle.await;
        }
    }

    /// The topic.
    pub fn topic(&self) -> &TopicInfo {
        &self.topic
    }

    /// How many samples were dropped because they did not decode (or their large
    /// payload could not be fetched).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// A shared handle on the dropped-sample counter (for status reports).
    pub fn dropped_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.dropped)
    }

    /// The next valid sample. Samples that do not decode are dropped here with one
    /// warning naming the topic and the writer; disposals are skipped.
    pub async fn recv(&mut self) -> Result<Received<T>> {
        loop {
            self.pump.start(self.topic.name, &self.dropped);
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
                            self.dropped.fetch_add(1, Ordering::Relaxed);
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
                    self.dropped.fetch_add(1, Ordering::Relaxed);
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
        while let Some(Some(status)) = self.events.next().now_or_never() {
            match status {
                DataReaderStatus::SubscriptionMatched { current, .. } => {
                    self.matched = i64::from(current.count());
                }
                DataReaderStatus::RequestedIncompatibleQos {
                    writer,
                    last_policy_id,
                    ..
                } => tracing::warn!(
                    topic = self.topic.name,
                    ?writer,
                    ?last_policy_id,
                    "a writer offers incompatible QoS"
                ),
                _ => {}
            }
        }
        usize::try_from(self.matched).unwrap_or(0)
    }

    /// Waits until at least `count` writers are matched.
    pub async fn wait_for_writers(&mut self, count: usize, timeout: Duration) -> Result<()> {
        let topic = self.topic;
        wait_for_match("writers", topic, count, timeout, || self.matched_writers()).await
    }
}
