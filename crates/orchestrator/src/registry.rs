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
        let info = NodeInfo {
            node_name: s.node_name.clone(),
            key: node_key(&s.node_name),
            status: status_text(s.node_status).to_owned(),
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

    /// Whether `name` is known and alive.
    pub fn is_alive(&self, name: &str) -> bool {
        self.nodes.get(name).is_some_and(|n| n.alive)
    }
}
