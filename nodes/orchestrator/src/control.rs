//! Commands to nodes: `POST /control` and `POST /tasks/{problem}/{iteration}/cancel`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use sustainml_orchestrator::types::{CmdNode, CmdTask, NodeId};

use crate::error::{ApiError, ApiResult};
use crate::input::{object, Fields};
use crate::AppState;

/// An IDL command name from field `name` (absent: the "no command" enumerator).
fn command<T: Copy + Default>(
    f: &Fields<'_>,
    name: &str,
    parse: fn(&str) -> Option<T>,
    names: &[&str],
) -> ApiResult<T> {
    match f.string(name)? {
        None => Ok(T::default()),
        Some(s) => parse(s.trim()).ok_or_else(|| {
            ApiError::bad_request(format!(
                "field `{name}`: unknown command {s:?} (one of {})",
                names.join(", ")
            ))
        }),
    }
}

/// `target_node` as the node's status name: a reference node's number, REST key or
/// name, or any other node's name as given.
fn target(f: &Fields<'_>) -> ApiResult<Option<String>> {
    if let Some(Value::Number(_)) = f.get("target_node") {
        return Ok(f.node_id("target_node")?.map(|n| n.node_name().to_owned()));
    }
    Ok(f.string("target_node")?.map(|s| {
        NodeId::ALL
            .into_iter()
            .find(|id| id.rest_key() == s || id.node_name() == s)
            .map_or(s, |id| id.node_name().to_owned())
    }))
}

/// POST /control `{target_node?, cmd_node?, cmd_task?, task_id?}`: sends a command on
/// `/sustainml/control` to one node, or to every node when `target_node` is absent.
/// Commands are the IDL names (`STOP_NODE`, `START_NODE`, `RESET_NODE`,
/// `TERMINATE_NODE`; `STOP_TASK`, `PREEMPT_TASK`, `RESET_TASK`, `TERMINATE_TASK`).
pub async fn control(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Value>> {
    let map = object(&body)?;
    let f = Fields(&map);
    if let Some(unknown) = map
        .keys()
        .find(|k| !["target_node", "cmd_node", "cmd_task", "task_id"].contains(&k.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "unknown field `{unknown}` (target_node, cmd_node, cmd_task, task_id)"
        )));
    }
    let cmd_node = command(&f, "cmd_node", CmdNode::from_idl_name, CmdNode::IDL_NAMES)?;
    let cmd_task = command(&f, "cmd_task", CmdTask::from_idl_name, CmdTask::IDL_NAMES)?;
    let task_id = f.task_id("task_id")?;
    if cmd_node == CmdNode::NoCmd && cmd_task == CmdTask::NoCmd {
        return Err(ApiError::bad_request(
            "nothing to send: give `cmd_node` or `cmd_task`",
        ));
    }
    if cmd_task != CmdTask::NoCmd && task_id.is_none() {
        return Err(ApiError::bad_request(format!(
            "field `task_id` is missing: {cmd_task} needs the task"
        )));
    }
    let target = target(&f)?;
    state
        .orch
        .send_control(
            target.as_deref(),
            cmd_node,
            cmd_task,
            task_id.unwrap_or_default(),
        )
        .await?;
    Ok(Json(json!({
        "message": format!(
            "sent to {}",
            target.as_deref().unwrap_or("every node")
        ),
        "command": {
            "target_node": target.unwrap_or_default(),
            "cmd_node": cmd_node.idl_name(),
            "cmd_task": cmd_task.idl_name(),
            "task_id": task_id.unwrap_or_default(),
        },
    })))
}

/// POST /tasks/{problem}/{iteration}/cancel: stops a running task on every node and
/// fails it with the reason "cancelled"; `cancelled` is false if it was not running.
pub async fn cancel(
    State(state): State<AppState>,
    Path((problem, iteration)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let id = crate::api::task_path(&problem, &iteration)?;
    let cancelled = state.orch.cancel_task(id).await?;
    let message = if cancelled {
        format!("task {id} cancelled")
    } else {
        format!("task {id} is not running: nothing to cancel")
    };
    Ok(Json(
        json!({ "message": message, "task_id": id, "cancelled": cancelled }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_status_names_and_commands_idl_names() {
        let map = object(br#"{"target_node":"ML_MODEL","cmd_node":"STOP_NODE"}"#).expect("json");
        let f = Fields(&map);
        assert_eq!(target(&f).expect("ok").as_deref(), Some("ML_MODEL_NODE"));
        let cmd = command(&f, "cmd_node", CmdNode::from_idl_name, CmdNode::IDL_NAMES);
        assert_eq!(cmd.expect("ok"), CmdNode::Stop);
        let map = object(br#"{"target_node":3,"cmd_task":"HALT"}"#).expect("json");
        let f = Fields(&map);
        assert_eq!(
            target(&f).expect("ok").as_deref(),
            Some("HW_RESOURCES_NODE")
        );
        let err = command(&f, "cmd_task", CmdTask::from_idl_name, CmdTask::IDL_NAMES)
            .expect_err("unknown");
        assert!(err.message.contains("`cmd_task`") && err.message.contains("STOP_TASK"));
        let map = object(br#"{"target_node":"MY_CUSTOM_NODE"}"#).expect("json");
        assert_eq!(
            target(&Fields(&map)).expect("ok").as_deref(),
            Some("MY_CUSTOM_NODE")
        );
    }
}
