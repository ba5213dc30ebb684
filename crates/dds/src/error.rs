//! Errors of the DDS layer.

use std::time::Duration;

/// What went wrong in the DDS layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `SUSTAINML_DOMAIN_ID` is not a valid domain.
    #[error("invalid SUSTAINML_DOMAIN_ID={value:?}: {reason}")]
    Domain {
        /// The value found.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// rustdds could not create an entity.
    #[error("cannot create {what}: {reason}")]
    Create {
        /// The entity (participant, topic, reader, writer).
        what: String,
        /// rustdds's message.
        reason: String,
    },
    /// A write failed.
    #[error("cannot write to {topic}: {reason}")]
    Write {
        /// The topic.
        topic: String,
        /// Why.
        reason: String,
    },
    /// A read failed in rustdds itself (not a bad sample, which is only skipped).
    #[error("cannot read from {topic}: {reason}")]
    Read {
        /// The topic.
        topic: String,
        /// Why.
        reason: String,
    },
    /// Nobody matched in time.
    #[error("{what} on {topic}: none matched within {timeout:?}")]
    NotMatched {
        /// Readers or writers.
        what: &'static str,
        /// The topic.
        topic: String,
        /// How long we waited.
        timeout: Duration,
    },
    /// A large payload could not be sent or fetched.
    #[error("large payload on {topic}: {reason}")]
    Blob {
        /// The topic.
        topic: String,
        /// Why.
        reason: String,
    },
    /// No participant id with both unicast ports free could be had.
    #[error(transparent)]
    Ports(#[from] crate::ports::ClaimError),
    /// The participant is gone.
    #[error("the participant was closed")]
    Closed,
}

/// Result of the DDS layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;
