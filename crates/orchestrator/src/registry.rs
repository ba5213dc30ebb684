//! The node registry: every node's latest status, when it was last heard from, and
//! whether its participant is still alive.
//!
//! Liveliness comes from DDS discovery: each status sample tells which participant the
//! node lives in; when discovery loses that participant (disposed, or its lease ran
//! out: rustdds announces 50 s) the node becomes INACTIVE. Nodes publish status only
//! when it changes (an idle node is silent), so a lease on status samples would mark
//! healthy idle nodes dead; participant leases do not.

use std::collections::{BTreeMap, HashMap};

use sustainml_dds::ParticipantId;
use sustainml_types::{NodeStatusImpl, Status};

use crate::model::{node_key, NodeInfo};

/// The REST string of a node state: the IDL name without `NODE_`.
pub fn status_text(s: Status) -> &'static str {
    let name = s.idl_name();
    name.strip_prefix("NODE_").unwrap_or(name)
}

#[derive(Debug, Default)]
pub(crate) struct Registry {
    nodes: BTreeMap<String, NodeInfo>,
    owner: HashMap<String, ParticipantId>,
}

impl Registry {
    /// A registry holding the nodes remembered from an earlier run, not alive (no
    /// participant is known for them until they are heard from again).
    pub fn restored(nodes: Vec<NodeInfo>) -> Self {
        Self {
            nodes: nodes
                .into_iter()
                .map(|mut n| {
                    n.alive = false;
                    n.status = status_text(Status::Inactive).to_owned();
                    (n.node_name.clone(), n)
                })
                .collect(),
            owner: HashMap::new(),
        }
    }

    /// Applies a status sample; returns the node's new record if anything changed.
    pub fn on_status(
        &mut self,
        s: &NodeStatusImpl,
        participant: ParticipantId,
        now: u64,
    ) -> Option<NodeInfo> {
        if s.node_name.is_empty() {
            return None;
        }
        self.owner.insert(s.node_name.clone(), participant);
        // The node's state comes from its node-wide samples (task_id {0,0}), which our
        // nodes write on a writer of their own. A task's sample carries the state too,
        // but the two writers' samples can arrive in either order (a late joiner is
        // replayed both), so a task sample only stands in while no node-wide state of
        // this life of the node is known.
        let known = self.nodes.get(&s.node_name).filter(|n| n.alive);
        let status = match known {
            Some(n) if s.task_id.is_valid() => n.status.clone(),
            _ => status_text(s.node_status).to_owned(),
        };
        let info = NodeInfo {
            node_name: s.node_name.clone(),
            key: node_key(&s.node_name),
            status,
            error_description: if s.task_id.is_valid() {
                self.nodes
                    .get(&s.node_name)
                    .map(|n| n.error_description.clone())
                    .unwrap_or_default()
            } else {
                s.error_description.clone()
            },
            last_seen_ms: now,
            alive: true,
        };
        let old = self.nodes.insert(s.node_name.clone(), info.clone());
        let changed = old.is_none_or(|o| {
            o.status != info.status
                || o.alive != info.alive
                || o.error_description != info.error_description
        });
        changed.then_some(info)
    }

    /// Marks the nodes of a lost participant INACTIVE; returns them.
    pub fn on_lost(&mut self, participant: ParticipantId) -> Vec<NodeInfo> {
        let mut lost = Vec::new();
        for (name, owner) in &self.owner {
            if *owner != participant {
                continue;
            }
            if let Some(n) = self.nodes.get_mut(name) {
                if n.alive {
                    n.alive = false;
                    n.status = status_text(Status::Inactive).to_owned();
                    lost.push(n.clone());
                }
            }
        }
        lost
    }

    /// Every node, by registry key (REST key for reference nodes, else the name).
    pub fn snapshot(&self) -> BTreeMap<String, NodeInfo> {
        self.nodes
            .values()
            .map(|n| (n.key.clone(), n.clone()))
            .collect()
    }

    /// Whether `name` is alive and takes tasks: not stopped (a node stopped with
    /// STOP_NODE reports INACTIVE while its participant lives), not still starting and
    /// not terminating.
    pub fn is_ready(&self, name: &str) -> bool {
        let not_ready = [Status::Inactive, Status::Initializing, Status::Terminating];
        self.nodes
            .get(name)
            .is_some_and(|n| n.alive && !not_ready.iter().any(|s| status_text(*s) == n.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sustainml_types::{TaskIdImpl, TaskStatus};

    fn sample(state: Status, task: TaskIdImpl) -> NodeStatusImpl {
        sample_of("HW_RESOURCES_NODE", state, task)
    }

    fn sample_of(node: &str, state: Status, task: TaskIdImpl) -> NodeStatusImpl {
        NodeStatusImpl {
            node_status: state,
            task_status: TaskStatus::Succeeded,
            node_name: node.into(),
            task_id: task,
            ..NodeStatusImpl::default()
        }
    }

    #[test]
    fn the_state_comes_from_node_wide_samples_not_from_late_task_samples() {
        let p = ParticipantId::from([7; 12]);
        let mut r = Registry::default();
        // First heard of through a task sample: it stands in.
        let first = r.on_status(&sample(Status::Running, TaskIdImpl::new(1, 1)), p, 1);
        assert_eq!(first.map(|i| i.status).as_deref(), Some("RUNNING"));
        // The node-wide state then rules.
        r.on_status(&sample(Status::Inactive, TaskIdImpl::default()), p, 2);
        // A task sample written before it, arriving after it, does not undo it.
        let late = r.on_status(&sample(Status::Idle, TaskIdImpl::new(1, 1)), p, 3);
        assert!(late.is_none(), "only last_seen moved");
        assert_eq!(r.snapshot()["HW_RESOURCES"].status, "INACTIVE");
        assert_eq!(r.snapshot()["HW_RESOURCES"].last_seen_ms, 3);
        assert!(
            !r.is_ready("HW_RESOURCES_NODE"),
            "a stopped node is not ready"
        );
        r.on_status(&sample(Status::Idle, TaskIdImpl::default()), p, 4);
        assert_eq!(r.snapshot()["HW_RESOURCES"].status, "IDLE");
        assert!(r.is_ready("HW_RESOURCES_NODE"));
    }

    #[test]
    fn a_restored_node_takes_the_state_of_its_first_sample() {
        let mut r = Registry::restored(vec![NodeInfo {
            node_name: "ML_MODEL_NODE".into(),
            key: node_key("ML_MODEL_NODE"),
            status: "IDLE".into(),
            error_description: String::new(),
            last_seen_ms: 1,
            alive: true,
        }]);
        let p = ParticipantId::from([8; 12]);
        r.on_status(
            &sample_of("ML_MODEL_NODE", Status::Running, TaskIdImpl::new(4, 1)),
            p,
            5,
        );
        assert_eq!(r.snapshot()["ML_MODEL"].status, "RUNNING");
    }
}
