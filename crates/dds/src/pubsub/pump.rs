//! The pump of a subscriber: a thread that takes every sample out of rustdds the
//! moment it has it (see [`QUEUE_DEPTH`](super::QUEUE_DEPTH)).
//!
//! rustdds's async sample stream takes one sample per wake-up, and each take scans
//! every sample the reader holds, so a reader that falls behind a burst falls further
//! behind (10 000 samples written at once overflowed the reader's cache this way).
//! The pump instead waits on the reader with `mio` (rustdds's readers are `mio`
//! event sources) and takes everything there is in one call each time it wakes.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mio::{Events, Interest, Poll, Token};
use rustdds::dds::statusevents::{DataReaderStatus, StatusEvented};
use rustdds::with_key::{DataReader, Sample};
use rustdds::ReadCondition;
use sustainml_types::WireType;
use tokio::sync::{mpsc, oneshot};

use super::ids::{to_system_time, WriterId};
use crate::adapter::{Incoming, ReaderSlot, WireAdapter};
use crate::participant::Participant;

/// How often an idle pump looks for samples rustdds did not wake it up for, and
/// whether its subscriber is gone.
const REPOLL: Duration = Duration::from_millis(100);

const DATA: Token = Token(0);
const STATUS: Token = Token(1);

pub(super) type RtpsReader<T> = DataReader<Incoming<T>, WireAdapter<T>>;

/// A sample the pump took, with where it came from.
pub(super) struct Taken<T> {
    pub sample: Sample<Incoming<T>, ReaderSlot>,
    pub writer: WriterId,
    pub source_timestamp: Option<SystemTime>,
}

/// What the pump shares with its subscriber.
#[derive(Debug, Default)]
pub(super) struct Shared {
    /// Writers matched now (from rustdds's SubscriptionMatched events).
    pub matched: AtomicI64,
    /// Samples rustdds could not read.
    pub dropped: Arc<AtomicU64>,
}

/// Starts the pump of `reader` on its own thread. It ends (and drops the reader, then
/// its hold on the participant) once the queue's receiver is gone; `done` fires then.
pub(super) fn start<T: WireType>(
    mut reader: RtpsReader<T>,
    topic: &'static str,
    tx: mpsc::Sender<Taken<T>>,
    shared: Arc<Shared>,
    participant: Participant,
) -> std::io::Result<oneshot::Receiver<()>> {
    let poll = Poll::new()?;
    poll.registry()
        .register(&mut reader, DATA, Interest::READABLE)?;
    poll.registry()
        .register(reader.as_status_source_mio1(), STATUS, Interest::READABLE)?;
    let (done_tx, done) = oneshot::channel();
    std::thread::Builder::new()
        .name(format!("pump {topic}"))
        .spawn(move || {
            run(poll, &mut reader, topic, &tx, &shared);
            drop(reader);
            drop(participant);
            let _ = done_tx.send(());
        })?;
    Ok(done)
}

fn run<T: WireType>(
    mut poll: Poll,
    reader: &mut RtpsReader<T>,
    topic: &'static str,
    tx: &mpsc::Sender<Taken<T>>,
    shared: &Shared,
) {
    let mut events = Events::with_capacity(4);
    loop {
        statuses(reader, topic, shared);
        if !drain(reader, topic, tx, shared) {
            return;
        }
        // rustdds can miss a wake-up when the reliable marker of a writer moves after
        // its last sample: the timeout looks again regardless.
        if let Err(e) = poll.poll(&mut events, Some(REPOLL)) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                tracing::error!(topic, "the reader's pump stopped: {e}");
                return;
            }
        }
        if tx.is_closed() {
            return;
        }
    }
}

/// Takes every sample the reader has; false once the subscriber is gone.
fn drain<T: WireType>(
    reader: &mut RtpsReader<T>,
    topic: &'static str,
    tx: &mpsc::Sender<Taken<T>>,
    shared: &Shared,
) -> bool {
    loop {
        let samples = match reader.take(usize::MAX, ReadCondition::not_read()) {
            Ok(s) => s,
            Err(e) => {
                // rustdds refused a sample before we saw it (e.g. an unknown
                // representation identifier): it does not tell us the writer.
                shared.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(topic, error = %e, "dropped a sample rustdds could not read");
                return !tx.is_closed();
            }
        };
        if samples.is_empty() {
            return !tx.is_closed();
        }
        for sample in samples {
            let info = sample.sample_info();
            let taken = Taken {
                writer: WriterId(info.writer_guid()),
                source_timestamp: info.source_timestamp().map(to_system_time),
                sample: sample.into_value(),
            };
            // Waits only when the subscriber is QUEUE_DEPTH samples behind.
            if tx.blocking_send(taken).is_err() {
                return false;
            }
        }
    }
}

fn statuses<T: WireType>(reader: &RtpsReader<T>, topic: &'static str, shared: &Shared) {
    while let Some(status) = reader.try_recv_status() {
        match status {
            DataReaderStatus::SubscriptionMatched { current, .. } => {
                shared
                    .matched
                    .store(i64::from(current.count()), Ordering::Relaxed);
            }
            DataReaderStatus::RequestedIncompatibleQos {
                writer,
                last_policy_id,
                ..
            } => tracing::warn!(
                topic,
                ?writer,
                ?last_policy_id,
                "a writer offers incompatible QoS"
            ),
            _ => {}
        }
    }
}
