//! Who a sample came from: writer and participant ids, and the received sample.

use std::fmt;
use std::time::{Duration, SystemTime};

use rustdds::{Timestamp, GUID};

/// The writer a sample came from (its RTPS GUID).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WriterId(pub(super) GUID);

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

impl From<[u8; 12]> for ParticipantId {
    /// The participant with this GUID prefix.
    fn from(prefix: [u8; 12]) -> Self {
        Self(prefix)
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

/// The source timestamp every write and dispose carries (an INFO_TS before the DATA).
///
/// Fast DDS (2.9 through 3.6) orders the changes of a reader history by sequence
/// number within one writer but by source timestamp across writers, and inserts a
/// change at the end whenever it is not older than the last one. Changes without
/// INFO_TS all carry timestamp zero there, so a repaired sample of one writer lands
/// after a later sample of the same writer that arrived first; Fast DDS then marks it
/// notified without handing it to the application. Stamping every sample with the
/// writer's clock keeps both orders consistent.
pub(super) fn stamp() -> Option<Timestamp> {
    Some(Timestamp::now())
}

pub(super) fn to_system_time(t: Timestamp) -> SystemTime {
    let ticks = t.to_ticks();
    let secs = ticks >> 32;
    let nanos = ((ticks & 0xffff_ffff) * 1_000_000_000) >> 32;
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_nanos(nanos)
}
