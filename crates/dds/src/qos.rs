//! The QoS we put on every reader and writer.
//!
//! The reference uses RELIABLE, TRANSIENT_LOCAL, KEEP_LAST 1 per instance and resource
//! limits of 500 instances × 1 sample (REFERENCE.md §3). Reliability and durability are
//! what peers match on, and we offer and request exactly those. History and resource
//! limits are local, and we size them for rustdds's behaviour (DESIGN.md, "rustdds:
//! what we measured"):
//!
//! - rustdds keeps a topic cache of only 64 samples unless resource limits say
//!   otherwise, so every profile sets them explicitly (bursts of tasks are not lost);
//! - a rustdds *reader* never forgets an instance it has seen, so our readers key
//!   samples by a bounded slot rather than by task id (see `adapter::ReaderSlot`) and
//!   keep [`SLOT_DEPTH`] samples per slot: distinct tasks sharing a slot are all kept,
//!   and a duplicate of a task is delivered again (the node's join ignores it);
//! - a rustdds *writer* counts KEEP_LAST depth over all its samples, not per instance,
//!   when it replays history to a late-joining reader. Writers therefore keep the last
//!   [`INSTANCES`] samples, which for task-keyed topics (one sample per task) replays
//!   what the reference's 500 instances × 1 sample would;
//! - a writer never drops a sample that a matched reliable reader has not acknowledged,
//!   whatever the depth, so live delivery of bursts is complete.
//!
//! QoS is always passed explicitly: with none, rustdds lets topic QoS override it.

use rustdds::policy::{Durability, History, Reliability, ResourceLimits};
use rustdds::{Duration, QosPolicies, QosPolicyBuilder};

/// Instances a topic holds (the reference's `max_instances`).
pub const INSTANCES: i32 = 500;

/// How long a reliable write may wait for room in the writer's send window (see
/// [`WRITER_WINDOW`]) before it fails: the back-pressure a slow reader puts on its
/// writers. Under a burst on a loaded machine acknowledgments were measured to lag
/// by more than half a second.
pub const MAX_BLOCKING: Duration = Duration::from_secs(5);

/// Samples a writer may have in flight, unacknowledged by some matched reader,
/// before a write waits (rustdds derives its reliable send window from
/// `max_samples`). The history kept for late joiners is the KEEP_LAST depth, not
/// this; the window only holds samples a reader has yet to acknowledge.
pub const WRITER_WINDOW: i32 = 4096;

fn base() -> QosPolicyBuilder {
    QosPolicyBuilder::new()
        .reliability(Reliability::Reliable {
            max_blocking_time: MAX_BLOCKING,
        })
        .durability(Durability::TransientLocal)
}

fn keep_last_one_per_instance(builder: QosPolicyBuilder) -> QosPolicies {
    builder
        .history(History::KeepLast { depth: 1 })
        .resource_limits(ResourceLimits {
            max_samples: INSTANCES,
            max_instances: INSTANCES,
            max_samples_per_instance: 1,
        })
        .build()
}

/// Topic QoS: also sizes rustdds's per-topic cache.
pub fn topic() -> QosPolicies {
    keep_last_one_per_instance(base())
}

/// Samples a reader keeps per slot. rustdds holds on to memory for every sample a slot
/// has kept (even once taken), so this bounds a reader's memory (about 2 MB per unit of
/// depth, measured). It must stay large enough that tasks sharing a slot never push
/// one another out: our subscribers take each sample as it arrives, and rustdds's
/// topic cache already drops what a reader leaves untaken beyond [`INSTANCES`]
/// samples; 500 samples over 1024 slots put more than 8 in one slot with a
/// probability of about 5 in a million.
pub const SLOT_DEPTH: i32 = 8;

/// Reader QoS: reliable, transient-local, keep-last [`SLOT_DEPTH`] per slot.
pub fn reader() -> QosPolicies {
    let slots = i32::from(crate::adapter::VALUE_SLOTS) + 64;
    base()
        .history(History::KeepLast { depth: SLOT_DEPTH })
        .resource_limits(ResourceLimits {
            max_samples: slots * SLOT_DEPTH,
            max_instances: slots,
            max_samples_per_instance: SLOT_DEPTH,
        })
        .build()
}

/// Writer QoS: reliable, transient-local, keep the last 500 samples for late joiners.
pub fn writer() -> QosPolicies {
    writer_with_depth(INSTANCES)
}

/// Writer QoS keeping only the last `depth` samples for late joiners (the request
/// writer keeps 1, so a node that starts late is not replayed a backlog of requests).
pub fn writer_with_depth(depth: i32) -> QosPolicies {
    base()
        .history(History::KeepLast { depth })
        .resource_limits(ResourceLimits {
            max_samples: WRITER_WINDOW,
            max_instances: INSTANCES,
            max_samples_per_instance: WRITER_WINDOW,
        })
        .build()
}

/// Commands (`/sustainml/control`): reliable and volatile, so a command reaches the
/// nodes running when it is sent and is never replayed to a node started later (a
/// replayed TERMINATE would stop it at once). Readers with this QoS also match the
/// reference's transient-local control writers.
pub fn commands() -> QosPolicies {
    base()
        .durability(Durability::Volatile)
        .history(History::KeepLast { depth: SLOT_DEPTH })
        .resource_limits(ResourceLimits {
            max_samples: INSTANCES,
            max_instances: INSTANCES,
            max_samples_per_instance: INSTANCES,
        })
        .build()
}

/// Benchmark topics: reliable, volatile, keep-last 1 (as the Fast DDS peer's ping-pong).
pub fn volatile() -> QosPolicies {
    keep_last_one_per_instance(base().durability(Durability::Volatile))
}
