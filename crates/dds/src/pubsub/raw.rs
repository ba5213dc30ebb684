//! Writers of arbitrary payloads, as a faulty or foreign writer would send them.

use std::fmt;

use rustdds::with_key::DataWriter;
use sustainml_types::topics::TopicInfo;

use super::publisher::LastWrite;
use crate::adapter::{RawAdapter, RawSample};
use crate::error::{Error, Result};
use crate::participant::Participant;

/// Writes arbitrary payloads on a topic, as a faulty or foreign writer would. For tests
/// and diagnostics; applications use [`Publisher`](super::Publisher).
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
            RawWriter::Cdr(w) => w
                .async_write(sample, super::ids::stamp())
                .await
                .map_err(|e| e.to_string()),
            RawWriter::Xcdr2(w) => w
                .async_write(sample, super::ids::stamp())
                .await
                .map_err(|e| e.to_string()),
            RawWriter::PlCdr(w) => w
                .async_write(sample, super::ids::stamp())
                .await
                .map_err(|e| e.to_string()),
        };
        self.last_write.touch();
        result.map_err(|reason| Error::Write {
            topic: self.topic.name.to_owned(),
            reason,
        })
    }
}
