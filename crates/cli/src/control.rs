//! `sustainml node control NODE stop|start|reset|terminate`: one command on
//! `/sustainml/control`, then the node's new state from `/sustainml/status`.
//!
//! The command goes out as the orchestrator sends its own (`qos::commands()`:
//! reliable, volatile), addressed to the node by its status name, from a source named
//! after this process (`sustainml-cli-<pid>`; a stopped node's status says who stopped
//! it). Before sending, the node must be live (its node-wide status heard) and its
//! control reader matched with our writer, since a volatile writer gives a reader
//! nothing written before the match (reliability then repairs a lost packet). The
//! answer is the first node-wide status (task_id {0,0}) of the node, heard after the
//! command went out, that fits the command: NODE_INACTIVE naming this source for
//! `stop`, anything but NODE_INACTIVE for `start`, NODE_TERMINATING for `terminate`,
//! whatever the node reports for `reset`.
//!
//! Exit codes: 0 the node reported its new state; 1 it is live but did not match or
//! report within `--wait`; 2 no such node heard within `--wait` (the nodes heard are
//! named).

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::json;
use sustainml_dds::{qos, EndpointKind, Participant, ParticipantId, Publisher, Subscriber};
use sustainml_types::topics::{CONTROL, STATUS};
use sustainml_types::{CmdNode, CmdTask, NodeControlImpl, NodeStatusImpl, Status, TaskIdImpl};
use tokio::time::Instant;

use crate::UsageError;

/// A node-wide command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Action {
    /// Stop taking tasks (NODE_INACTIVE until `start`).
    Stop,
    /// Take tasks again (NODE_IDLE, or NODE_RUNNING if busy).
    Start,
    /// Drop every pending task and cancel the running ones.
    Reset,
    /// Exit cleanly (NODE_TERMINATING).
    Terminate,
}

impl Action {
    fn command(self) -> CmdNode {
        match self {
            Self::Stop => CmdNode::Stop,
            Self::Start => CmdNode::Start,
            Self::Reset => CmdNode::Reset,
            Self::Terminate => CmdNode::Terminate,
        }
    }

    /// Whether `status` (node-wide, heard after the command went out) is the node's
    /// answer to it.
    fn answered_by(self, status: &NodeStatusImpl, source: &str) -> bool {
        match self {
            Self::Stop => {
                let by = format!("from {source}");
                status.node_status == Status::Inactive
                    && status
                        .error_description
                        .split("; ")
                        .any(|p| p.ends_with(&by))
            }
            Self::Start => status.node_status != Status::Inactive,
            Self::Reset => true,
            Self::Terminate => status.node_status == Status::Terminating,
        }
    }
}

/// The status names `name` may mean: as given, upper-cased with `-` and spaces as
/// `_`, and that with `_NODE` (`app-requirements` is `APP_REQUIREMENTS_NODE`).
fn candidates(name: &str) -> Vec<String> {
    let upper = name.trim().to_ascii_uppercase().replace(['-', ' '], "_");
    let mut all = vec![name.trim().to_owned(), upper.clone()];
    if !upper.ends_with("_NODE") {
        all.push(format!("{upper}_NODE"));
    }
    all
}

/// The target as heard on `/sustainml/status`.
struct Target {
    name: String,
    participant: ParticipantId,
}

/// Sends `action` to the node called `node` and prints its new state; all within
/// `wait`.
pub async fn run(
    participant: &Participant,
    node: &str,
    action: Action,
    wait: Duration,
    as_json: bool,
) -> Result<()> {
    let deadline = Instant::now() + wait;
    let domain = participant.domain();
    let mut statuses = participant
        .subscriber::<NodeStatusImpl>(STATUS)
        .context("subscribing to /sustainml/status")?;
    let control = participant
        .publisher_with_qos::<NodeControlImpl>(CONTROL, qos::commands())
        .context("opening the /sustainml/control writer")?;
    let target = find(&mut statuses, node, deadline, wait, domain).await?;
    wait_for_match(participant, &control, &target, deadline, wait).await?;
    let source = format!("sustainml-cli-{}", std::process::id());
    let command = NodeControlImpl {
        cmd_node: action.command(),
        cmd_task: CmdTask::NoCmd,
        target_node: target.name.clone(),
        source_node: source.clone(),
        task_id: TaskIdImpl::default(),
    };
    tokio::time::timeout_at(deadline, control.write(command))
        .await
        .map_err(|_| too_late(&target.name, "take the command", wait))?
        .context("writing on /sustainml/control")?;
    let answer = async {
        loop {
            let got = statuses.recv().await.context("reading /sustainml/status")?;
            let s = got.value;
            if s.node_name == target.name
                && s.task_id == TaskIdImpl::default()
                && action.answered_by(&s, &source)
            {
                return Ok::<_, anyhow::Error>(s);
            }
        }
    };
    let status = tokio::time::timeout_at(deadline, answer)
        .await
        .map_err(|_| too_late(&target.name, "report its new state", wait))??;
    // Leave as a reader (an SEDP dispose): the node's writers stop sending to us.
    statuses.close().await;
    print(&status, as_json);
    Ok(())
}

fn too_late(node: &str, what: &str, wait: Duration) -> anyhow::Error {
    anyhow::anyhow!(
        "{node} is live but did not {what} within {} s",
        wait.as_secs_f64()
    )
}

/// Listens until the node's node-wide status is heard; a usage error naming the
/// nodes heard if it is not by the deadline.
async fn find(
    statuses: &mut Subscriber<NodeStatusImpl>,
    node: &str,
    deadline: Instant,
    wait: Duration,
    domain: u16,
) -> Result<Target> {
    let wanted = candidates(node);
    let mut heard = BTreeSet::new();
    while let Ok(got) = tokio::time::timeout_at(deadline, statuses.recv()).await {
        let got = got.context("reading /sustainml/status")?;
        let s = &got.value;
        if wanted.contains(&s.node_name) && s.task_id == TaskIdImpl::default() {
            return Ok(Target {
                name: s.node_name.clone(),
                participant: got.writer.participant(),
            });
        }
        heard.insert(s.node_name.clone());
    }
    let secs = wait.as_secs_f64();
    let live = if heard.is_empty() {
        "no node status heard at all".to_owned()
    } else {
        format!("live nodes: {}", Vec::from_iter(heard).join(", "))
    };
    Err(UsageError(format!(
        "no node `{node}` heard on DDS domain {domain} within {secs} s; {live}"
    ))
    .into())
}

/// Waits until the node's control reader is matched with `control`: discovery knows
/// it, and the writer has matched every control reader it can (volatile ones; a
/// reader asking for transient-local never matches a command writer).
async fn wait_for_match(
    participant: &Participant,
    control: &Publisher<NodeControlImpl>,
    target: &Target,
    deadline: Instant,
    wait: Duration,
) -> Result<()> {
    let mut poll = tokio::time::interval(Duration::from_millis(10));
    loop {
        let readers: Vec<_> = participant
            .discovered_endpoints()
            .into_iter()
            .filter(|e| e.kind == EndpointKind::Reader && e.topic == CONTROL.name)
            .collect();
        let of_target = readers.iter().find(|e| e.participant == target.participant);
        if let Some(reader) = of_target {
            if reader.durable {
                bail!(
                    "{}'s control reader asks for transient-local durability and cannot receive commands",
                    target.name
                );
            }
            let matchable = readers.iter().filter(|e| !e.durable).count();
            if control.matched_readers() >= matchable {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(too_late(
                &target.name,
                "match its control reader with this command writer",
                wait,
            ));
        }
        poll.tick().await;
    }
}

fn print(status: &NodeStatusImpl, as_json: bool) {
    if as_json {
        println!(
            "{}",
            json!({
                "node": status.node_name,
                "status": status.node_status.to_string(),
                "description": status.error_description,
            })
        );
    } else if status.error_description.is_empty() {
        println!("{}: {}", status.node_name, status.node_status);
    } else {
        println!(
            "{}: {} ({})",
            status.node_name, status.node_status, status.error_description
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_kinds_name_the_status_name() {
        let c = candidates("app-requirements");
        assert!(c.contains(&"APP_REQUIREMENTS_NODE".to_owned()), "{c:?}");
        let c = candidates("APP_REQUIREMENTS_NODE");
        assert_eq!(
            c.iter().filter(|n| *n == "APP_REQUIREMENTS_NODE").count(),
            2
        );
        assert!(!c.contains(&"APP_REQUIREMENTS_NODE_NODE".to_owned()));
    }

    #[test]
    fn each_action_knows_its_answer() {
        let mut s = NodeStatusImpl {
            node_status: Status::Inactive,
            error_description: "stopped by STOP_NODE from sustainml-cli-7".into(),
            ..Default::default()
        };
        assert!(Action::Stop.answered_by(&s, "sustainml-cli-7"));
        assert!(!Action::Stop.answered_by(&s, "sustainml-cli-8"));
        assert!(!Action::Stop.answered_by(&s, "li-7"));
        assert!(!Action::Start.answered_by(&s, "sustainml-cli-7"));
        s.node_status = Status::Idle;
        assert!(Action::Start.answered_by(&s, "x"));
        assert!(!Action::Terminate.answered_by(&s, "x"));
    }
}
