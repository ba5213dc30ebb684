//! Typed async publishers and subscribers.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use futures::{FutureExt, StreamExt};
use rustdds::dds::statusevents::{DataReaderStatus, DataWriterStatus, StatusEvented};
use rustdds::with_key::{DataReaderEventStream, DataReaderStream, DataWriter, Sample};
use rustdds::{QosPolicies, Timestamp, GUID};
use sustainml_types::topics::TopicInfo;
use sustainml_types::{MLModelImpl, WireType};

use crate::adapter::{Incoming, Outgoing, RawAdapter, RawSample, WireAdapter};
use crate::blob::{self, BlobStore};
use crate::error::{Error, Result};
use crate::participant::Participant;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How often an idle subscriber looks for samples rustdds did not wake it up for.
const REPOLL: Duration = Duration::from_millis(100);

/// How often `wait_for_*` looks at the match count.
const MATCH_POLL: Duration = Duration::from_millis(5);

/// The writer a sample came from (its RTPS GUID).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WriterId(GUID);

impl fmt::Display for WriterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entity = self.0.entity_id.to_slice();
        write!(
            f,
            "{:?}.{:02x}{:02x}{:02x}{:02x}",
            self.0.prefix, entity[0], entity[1], entity[2], entity[3]
        )
    }
}

impl fmt::Debug for WriterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WriterId({self})")
    }
}

impl WriterId {
    /// The participant the writer belongs to (to relate samples to
    /// [`ParticipantEvent`](crate::ParticipantEvent)s).
    pub fn participant(&self) -> ParticipantId {
        ParticipantId::of(self.0.prefix)
    }
}

/// A DDS participant (its RTPS GUID prefix), as discovery sees it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId([u8; 12]);

impl ParticipantId {
    pub(crate) fn of(prefix: impl AsRef<[u8]>) -> Self {
        let mut bytes = [0u8; 12];
        for (b, p) in bytes.iter_mut().zip(prefix.as_ref()) {
            *b = *p;
        }
        Self(bytes)
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ParticipantId({self})")
    }
}

/// A sample and where it came from.
#[derive(Debug, Clone)]
pub struct Received<T> {
    /// The sample.
    pub value: T,
    /// Its writer.
    pub writer: WriterId,
    /// When the writer wrote it, by the writer's clock.
    pub source_timestamp: Option<SystemTime>,
}

fn to_system_time(t: Timestamp) -> SystemTime {
    let ticks = t.to_ticks();
    let secs = ticks >> 32;
    let nanos = ((ticks & 0xffff_ffff) * 1_000_000_000) >> 32;
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_nanos(nanos)
}

/// Polls `matched` until it reaches `count` or `timeout` passes.
async fn wait_for_match(
    what: &'static str,
    topic: TopicInfo,
    count: usize,
    timeout: Duration,
    mut matched: impl FnMut() -> usize,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while matched() < count {
        if Instant::now() >= deadline {
            return Err(Error::NotMatched {
                what,
                topic: topic.name.to_owned(),
                timeout,
            });
        }
        tokio::time::sleep(MATCH_POLL).await;
    }
    Ok(())
}

/// A typed writer on one topic.
pub struct Publisher<T: WireType> {
    writer: DataWriter<Outgoing<T>, WireAdapter<T>>,
    topic: TopicInfo,
    matched: Mutex<i64>,
    blobs: Arc<BlobStore>,
    last_write: LastWrite,
}

/// How long a writer stays after its last sample before it leaves (see
/// [`LastWrite`]). Our subscribers take a sample within microseconds of its arrival
/// (see [`QUEUE_DEPTH`]); the grace covers a reader process the scheduler keeps from
/// running for a while.
pub const TAKE_GRACE: Duration = Duration::from_millis(500);

/// The longest a leaving writer waits for its readers' acknowledgments.
pub const LEAVE_ACK_WAIT: Duration = Duration::from_secs(5);

/// When a writer last wrote, so that it does not leave right after.
///
/// When a writer leaves, rustdds readers forget its reliability marker and with it
/// every sample of that writer the application has not taken yet
/// (`TopicCache::forget_reliable_writer`). A publisher dropped soon after a write
/// therefore first waits (at most [`LEAVE_ACK_WAIT`]) until its matched readers have
/// acknowledged everything (so a reader still completing discovery is repaired first),
/// then until [`TAKE_GRACE`] has passed since the write, so that the readers'
/// applications have taken it. A writer idle for longer leaves at once.
#[derive(Debug, Default)]
struct LastWrite(Mutex<Option<Instant>>);

impl LastWrite {
    fn touch(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    fn clear(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Blocks as described above; `wait_acks` waits for acknowledgments.
    fn linger(&self, topic: &str, wait_acks: impl FnOnce(Duration) -> bool) {
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
            .async_write(Outgoing(value), None)
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
            .dispose(&crate::adapter::TaskKey(key.clone()), None)
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

/// Writes arbitrary payloads on a topic, as a faulty or foreign writer would. For tests
/// and diagnostics; applications use [`Publisher`].
pub struct RawPublisher {
    writer: RawWriter,
    topic: TopicInfo,
    last_write: LastWrite,
}

impl Drop for RawPublisher {
    fn drop(&mut self) {
        let writer = &self.writer;
        self.last_write.linger(self.topic.name, |wait| {
            match writer {
                RawWriter::Cdr(w) => w.wait_for_acknowledgments(wait),
                RawWriter::Xcdr2(w) => w.wait_for_acknowledgments(wait),
                RawWriter::PlCdr(w) => w.wait_for_acknowledgments(wait),
            }
            .unwrap_or(false)
        });
    }
}

enum RawWriter {
    Cdr(DataWriter<RawSample, RawAdapter<0x0001>>),
    Xcdr2(DataWriter<RawSample, RawAdapter<0x0007>>),
    PlCdr(DataWriter<RawSample, RawAdapter<0x0003>>),
}

impl fmt::Debug for RawPublisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawPublisher")
            .field("topic", &self.topic.name)
            .finish()
    }
}

impl RawPublisher {
    /// A writer on `topic` whose samples carry representation identifier `encapsulation`
    /// (`[0,1]` CDR_LE, `[0,7]` CDR2_LE or `[0,3]` PL_CDR_LE).
    pub fn new(
        participant: &Participant,
        topic: TopicInfo,
        encapsulation: [u8; 2],
    ) -> Result<Self> {
        let rtps_topic = participant.topic(&topic)?;
        let p = participant.rtps_publisher();
        let qos = Some(crate::qos::writer());
        let err = |e: rustdds::dds::CreateError| Error::Create {
            what: format!("raw writer on {}", topic.name),
            reason: e.to_string(),
        };
        let writer = match encapsulation {
            [0, 1] => RawWriter::Cdr(p.create_datawriter(&rtps_topic, qos).map_err(err)?),
            [0, 7] => RawWriter::Xcdr2(p.create_datawriter(&rtps_topic, qos).map_err(err)?),
            [0, 3] => RawWriter::PlCdr(p.create_datawriter(&rtps_topic, qos).map_err(err)?),
            other => {
                return Err(Error::Create {
                    what: format!("raw writer on {}", topic.name),
                    reason: format!("encapsulation {other:02x?} is not one of 0001, 0007, 0003"),
                })
            }
        };
        Ok(Self {
            writer,
            topic,
            last_write: LastWrite::default(),
        })
    }

    /// Writes `body` (the payload after the encapsulation header) as instance `instance`.
    pub async fn write(&self, body: Vec<u8>, instance: u64) -> Result<()> {
        let sample = RawSample { body, instance };
        let result = match &self.writer {
            RawWriter::Cdr(w) => w.async_write(sample, None).await.map_err(|e| e.to_string()),
            RawWriter::Xcdr2(w) => w.async_write(sample, None).await.map_err(|e| e.to_string()),
            RawWriter::PlCdr(w) => w.async_write(sample, None).await.map_err(|e| e.to_string()),
        };
        self.last_write.touch();
        result.map_err(|reason| Error::Write {
            topic: self.topic.name.to_owned(),
            reason,
        })
    }
}
