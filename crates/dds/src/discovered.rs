//! What DDS discovery knows about the domain now: the remote readers and writers, by
//! topic, from rustdds's discovery database (`sustainml topic list` shows it).

use rustdds::policy::Durability;
use rustdds::RTPSEntity;

use crate::participant::Participant;
use crate::pubsub::ParticipantId;

/// Whether a discovered endpoint writes or reads its topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EndpointKind {
    /// A data writer.
    Writer,
    /// A data reader.
    Reader,
}

impl std::fmt::Display for EndpointKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Writer => "writer",
            Self::Reader => "reader",
        })
    }
}

/// One remote reader or writer that discovery (SEDP) announced on the domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DiscoveredEndpoint {
    /// The topic name, as announced (e.g. `/sustainml/status`).
    pub topic: String,
    /// The type name, as announced (e.g. `NodeStatusImpl`).
    pub type_name: String,
    /// Writer or reader.
    pub kind: EndpointKind,
    /// The participant it belongs to.
    pub participant: ParticipantId,
    /// Whether it offers (a writer) or asks for (a reader) more than volatile
    /// durability: such a reader does not match a volatile writer, e.g. one with
    /// [`qos::commands`](crate::qos::commands).
    pub durable: bool,
}

fn durable(d: Option<Durability>) -> bool {
    !matches!(d, None | Some(Durability::Volatile))
}

impl Participant {
    /// The readers and writers of other participants that discovery knows of now
    /// (a snapshot; this participant's own endpoints are left out). Endpoints appear
    /// as remote participants announce them, within a second or so of discovery, and
    /// disappear when they are deleted or their participant is lost.
    pub fn discovered_endpoints(&self) -> Vec<DiscoveredEndpoint> {
        let Some(dp) = self.rtps_publisher().participant() else {
            return Vec::new();
        };
        let own = ParticipantId::of(dp.guid().prefix);
        let writers = dp.discovered_writers().into_iter().map(|w| {
            let data = w.publication_topic_data;
            DiscoveredEndpoint {
                topic: data.topic_name,
                type_name: data.type_name,
                kind: EndpointKind::Writer,
                participant: ParticipantId::of(data.key.prefix),
                durable: durable(data.durability),
            }
        });
        let readers = dp.discovered_readers().into_iter().map(|r| {
            let data = r.subscription_topic_data;
            DiscoveredEndpoint {
                topic: data.topic_name().clone(),
                type_name: data.type_name().clone(),
                kind: EndpointKind::Reader,
                participant: ParticipantId::of(data.key().prefix),
                durable: durable(data.qos().durability()),
            }
        });
        let mut all: Vec<_> = writers
            .chain(readers)
            .filter(|e| e.participant != own)
            .collect();
        all.sort();
        all
    }
}
