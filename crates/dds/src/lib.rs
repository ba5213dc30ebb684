//! The DDS layer of sustainml-rs: the only crate that touches rustdds.
//!
//! - [`Participant`]: one DDS participant on the domain from `SUSTAINML_DOMAIN_ID`
//!   (default 0; a bad value is an error), optionally restricted to some interfaces;
//!   [`Participant::participant_events`] reports remote participants discovered and
//!   lost (lease expiry or disposal), for liveliness.
//! - [`Publisher`] / [`Subscriber`]: typed, async (tokio) writers and readers for any
//!   [`WireType`](sustainml_types::WireType), with the SustainML QoS set explicitly
//!   ([`qos`]). A sample that does not decode is dropped with one warning naming the
//!   topic and the writer, and counted; it never stops the reader.
//! - [`Requester`] / [`Replier`]: the configuration service over `sustainml/request` and
//!   `sustainml/response`, correlated by (`node_id`, `transaction_id`), with a timeout on
//!   every request.
//! - [`blob`]: large `MLModelImpl.raw_model` payloads travel beside DDS, so that a 64 MB
//!   model does not go through rustdds's 256-byte fragments (see `docs/large-payloads.md`).
//! - [`logging`]: `tracing` setup with rustdds's `log` output bridged in and quiet.
//! - [`ports`]: the RTPS port mapping, and how a participant comes to own both
//!   unicast ports of its id whatever other vendors hold or are starting.
//! - [`relay`]: [`DiscoveryRelay`], discovery across machines without multicast, from
//!   a list of peer addresses (`sustainml launch` runs one).
//!
//! User code above this crate never sees a rustdds type.
#![warn(missing_docs)]

mod adapter;
pub mod blob;
mod discovered;
mod domain;
mod error;
pub mod logging;
mod participant;
pub mod ports;
mod pubsub;
pub mod qos;
pub mod relay;
mod rpc;
pub mod signal;

pub use discovered::{DiscoveredEndpoint, EndpointKind};
pub use domain::{domain_id_from_env, parse_domain_id, DOMAIN_ENV};
pub use error::{Error, Result};
pub use participant::{Participant, ParticipantBuilder, ParticipantEvent, RECEIVE_BUFFER};
pub use pubsub::{
    ParticipantId, Publisher, RawPublisher, Received, Subscriber, WriterId, LEAVE_ACK_WAIT,
    QUEUE_DEPTH, TAKE_GRACE,
};
pub use relay::DiscoveryRelay;
pub use rpc::{Replier, Request, Requester, Responder, RpcError};
pub use sustainml_types as types;
