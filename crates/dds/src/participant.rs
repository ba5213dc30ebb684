//! One DDS participant and the typed endpoints it creates.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use rustdds::{DomainParticipant, DomainParticipantBuilder, QosPolicies, Topic, TopicKind};
use sustainml_types::topics::TopicInfo;
use sustainml_types::WireType;

use crate::blob::{BlobConfig, BlobStore};
use crate::domain::domain_id_from_env;
use crate::error::{Error, Result};
use crate::pubsub::{ParticipantId, Publisher, Subscriber};
use crate::{ports, qos};

/// Options for a [`Participant`].
#[derive(Debug, Clone, Default)]
pub struct ParticipantBuilder {
    name: Option<String>,
    domain: Option<u16>,
    only_networks: Option<Vec<IpAddr>>,
    receive_buffer: Option<usize>,
    blob: BlobConfig,
}

/// Default UDP receive buffer: bursts of samples (a task's inputs, a model's
/// fragments) overflow the kernel's ~200 KB default and cost retransmissions.
/// The kernel caps it at `net.core.rmem_max`.
pub const RECEIVE_BUFFER: usize = 4 << 20;

impl ParticipantBuilder {
    /// The participant's name, used in logs (rustdds 0.15 cannot announce a
    /// participant name in discovery).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The domain; without it, `SUSTAINML_DOMAIN_ID` (default 0) decides.
    pub fn domain(mut self, domain: u16) -> Self {
        self.domain = Some(domain);
        self
    }

    /// Use only the interfaces with these addresses (default: every interface).
    pub fn only_networks(mut self, addrs: impl IntoIterator<Item = IpAddr>) -> Self {
        self.only_networks = Some(addrs.into_iter().collect());
        self
    }

    /// The UDP receive buffer size (default [`RECEIVE_BUFFER`]).
    pub fn receive_buffer(mut self, bytes: usize) -> Self {
        self.receive_buffer = Some(bytes);
        self
    }

    /// How large model payloads are carried (see [`crate::blob`]).
    pub fn blob_config(mut self, config: BlobConfig) -> Self {
        self.blob = config;
        self
    }

    /// Creates the participant.
    pub fn build(self) -> Result<Participant> {
        let domain = match self.domain {
            Some(d) => d,
            None => domain_id_from_env()?,
        };
        let name = self.name.unwrap_or_else(|| "sustainml".to_owned());
        let dp = build_owning_ports(domain, &name, || {
            let mut builder = DomainParticipantBuilder::new(domain)
                .socket_receive_buffer_size(self.receive_buffer.unwrap_or(RECEIVE_BUFFER));
            if let Some(addrs) = &self.only_networks {
                builder = builder.with_only_networks(addrs.clone());
            }
            builder.build().map_err(|e| Error::Create {
                what: format!("participant {name} on domain {domain}"),
                reason: e.to_string(),
            })
        })?;
        let create = |what: &str, e: &dyn std::fmt::Display| Error::Create {
            what: what.to_owned(),
            reason: e.to_string(),
        };
        let publisher = dp
            .create_publisher(&qos::writer())
            .map_err(|e| create("publisher", &e))?;
        let subscriber = dp
            .create_subscriber(&qos::reader())
            .map_err(|e| create("subscriber", &e))?;
        tracing::debug!(participant = %name, domain, "participant created");
        Ok(Participant {
            inner: Arc::new(Inner {
                name,
                domain,
                topics: Mutex::new(HashMap::new()),
                blobs: BlobStore::new(self.blob),
                publisher,
                subscriber,
                dp,
            }),
        })
    }
}

struct Inner {
    name: String,
    domain: u16,
    topics: Mutex<HashMap<String, Topic>>,
    blobs: Arc<BlobStore>,
    publisher: rustdds::Publisher,
    subscriber: rustdds::Subscriber,
    // Dropped last: the endpoints above belong to it.
    dp: DomainParticipant,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Participant")
            .field("name", &self.name)
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

/// A DDS participant. Cheap to clone; the participant closes when the last clone and
/// every endpoint created from it are dropped.
#[derive(Debug, Clone)]
pub struct Participant {
    inner: Arc<Inner>,
}

impl Participant {
    /// Options for a participant.
    pub fn builder() -> ParticipantBuilder {
        ParticipantBuilder::default()
    }

    /// A participant named `name` on the domain from `SUSTAINML_DOMAIN_ID`.
    pub fn new(name: impl Into<String>) -> Result<Self> {
        Self::builder().name(name).build()
    }

    /// The participant's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The domain it is on.
    pub fn domain(&self) -> u16 {
        self.inner.domain
    }

    /// Its RTPS participant id on the domain: its unicast ports are
    /// [`ports::spdp_unicast_port`] and [`ports::user_unicast_port`] of it, both held
    /// by this process.
    pub fn participant_id(&self) -> u16 {
        self.inner.dp.participant_id()
    }

    pub(crate) fn blobs(&self) -> &Arc<BlobStore> {
        &self.inner.blobs
    }

    /// The rustdds topic, created once per name.
    pub(crate) fn topic(&self, info: &TopicInfo) -> Result<Topic> {
        let mut topics = self.inner.topics.lock().map_err(|_| Error::Closed)?;
        if let Some(t) = topics.get(info.name) {
            return Ok(t.clone());
        }
        let topic = self
            .inner
            .dp
            .create_topic(
                info.name.to_owned(),
                info.type_name.to_owned(),
                &qos::topic(),
                TopicKind::WithKey,
            )
            .map_err(|e| Error::Create {
                what: format!("topic {}", info.name),
                reason: e.to_string(),
            })?;
        topics.insert(info.name.to_owned(), topic.clone());
        Ok(topic)
    }

    pub(crate) fn rtps_publisher(&self) -> &rustdds::Publisher {
        &self.inner.publisher
    }

    pub(crate) fn rtps_subscriber(&self) -> &rustdds::Subscriber {
        &self.inner.subscriber
    }

    /// A writer for `topic` with the SustainML QoS. Fails if the topic's type is not `T`.
    pub fn publisher<T: WireType>(&self, topic: TopicInfo) -> Result<Publisher<T>> {
        self.publisher_with_qos(topic, qos::writer())
    }

    /// A writer with other QoS (benchmarks, the request writer).
    pub fn publisher_with_qos<T: WireType>(
        &self,
        topic: TopicInfo,
        qos: QosPolicies,
    ) -> Result<Publisher<T>> {
        check_type::<T>(&topic)?;
        Publisher::new(self, topic, qos)
    }

    /// A reader for `topic` with the SustainML QoS. Fails if the topic's type is not `T`.
    pub fn subscriber<T: WireType>(&self, topic: TopicInfo) -> Result<Subscriber<T>> {
        self.subscriber_with_qos(topic, qos::reader())
    }

    /// A reader with other QoS.
    pub fn subscriber_with_qos<T: WireType>(
        &self,
        topic: TopicInfo,
        qos: QosPolicies,
    ) -> Result<Subscriber<T>> {
        check_type::<T>(&topic)?;
        Subscriber::new(self, topic, qos)
    }
}

/// A remote participant appearing or disappearing, from rustdds's discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParticipantEvent {
    /// A participant was discovered (or announced itself again).
    Discovered(ParticipantId),
    /// A participant left: it disposed itself, or its lease expired (rustdds peers
    /// announce a 50 s lease; a killed process is noticed when it runs out).
    Lost {
        /// The participant.
        id: ParticipantId,
        /// Why, for people.
        reason: String,
    },
}

impl Participant {
    /// Remote participants discovered and lost, from now on. Must be called inside a
    /// tokio runtime (a task forwards rustdds's events); the task ends when the
    /// receiver is dropped. rustdds has one participant event queue: call this once
    /// per participant.
    pub fn participant_events(&self) -> tokio::sync::mpsc::UnboundedReceiver<ParticipantEvent> {
        use futures::StreamExt;
        use rustdds::dds::statusevents::{DomainParticipantStatusEvent, StatusEvented};
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let listener = self.inner.dp.status_listener();
        tokio::spawn(async move {
            let mut stream = Box::pin(listener.as_async_status_stream());
            loop {
                let event = tokio::select! {
                    e = stream.next() => e,
                    () = tx.closed() => break,
                };
                let event = match event {
                    None => break,
                    Some(DomainParticipantStatusEvent::ParticipantDiscovered { dpd }) => {
                        ParticipantEvent::Discovered(ParticipantId::of(dpd.guid.prefix))
                    }
                    Some(DomainParticipantStatusEvent::ParticipantLost { id, reason }) => {
                        ParticipantEvent::Lost {
                            id: ParticipantId::of(id),
                            reason: format!("{reason:?}"),
                        }
                    }
                    Some(_) => continue,
                };
                if tx.send(event).is_err() {
                    break;
                }
            }
        });
        rx
    }
}

/// Builds a participant that owns both unicast ports of its id (see [`crate::ports`]):
/// rustdds is steered to an id whose two ports are free, and a participant that still
/// ended up without one of them (another process took it in between) is dropped and
/// built again on another id.
fn build_owning_ports(
    domain: u16,
    name: &str,
    build: impl Fn() -> Result<DomainParticipant>,
) -> Result<DomainParticipant> {
    let mut avoid = HashSet::new();
    let mut last = None;
    for attempt in 1..=ports::CLAIM_ATTEMPTS {
        let reservation = ports::reserve(domain, &avoid).map_err(Error::Ports)?;
        let dp = build()?;
        let reserved = reservation.id;
        drop(reservation);
        let id = dp.participant_id();
        let spdp = ports::spdp_unicast_port(domain, id);
        let user = ports::user_unicast_port(domain, id);
        let (Some(spdp), Some(user)) = (spdp, user) else {
            return Err(Error::Ports(ports::ClaimError::Domain(domain)));
        };
        let owned = |p| ports::owned_by_this_process(p).unwrap_or(true);
        if owned(spdp) && owned(user) {
            tracing::debug!(participant = %name, domain, id, reserved, spdp, user, attempt, "participant owns its ports");
            return Ok(dp);
        }
        tracing::warn!(
            participant = %name, domain, id, spdp, user, attempt,
            "another process took a unicast port of this participant id while it started; starting again on another id"
        );
        avoid.insert(id);
        last = Some((id, spdp, user));
        drop(dp);
    }
    let (participant, spdp, user) = last.unwrap_or_default();
    Err(Error::Ports(ports::ClaimError::Contended {
        domain,
        participant,
        spdp,
        user,
    }))
}

fn check_type<T: WireType>(topic: &TopicInfo) -> Result<()> {
    if topic.type_name == T::TYPE_NAME {
        Ok(())
    } else {
        Err(Error::Create {
            what: format!("endpoint on {}", topic.name),
            reason: format!(
                "the topic carries {} but the endpoint is for {}",
                topic.type_name,
                T::TYPE_NAME
            ),
        })
    }
}
