//! Typed async publishers and subscribers.

use std::time::{Duration, Instant};

use sustainml_types::topics::TopicInfo;

use crate::error::{Error, Result};

mod ids;
mod publisher;
mod pump;
mod raw;
mod subscriber;

pub use ids::{ParticipantId, Received, WriterId};
pub use publisher::{Publisher, LEAVE_ACK_WAIT, TAKE_GRACE};
pub use raw::RawPublisher;
pub use subscriber::{Subscriber, QUEUE_DEPTH};

/// How often `wait_for_*` looks at the match count.
const MATCH_POLL: Duration = Duration::from_millis(5);

/// Polls `matched` until it reaches `count` or `timeout` passes.
pub(super) async fn wait_for_match(
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
