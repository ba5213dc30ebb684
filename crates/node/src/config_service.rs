//! The configuration service: answers `sustainml/request` for this node's id with
//! the configuration callback's JSON, each request on its own blocking thread.

use std::sync::Arc;
use std::time::Duration;

use sustainml_dds::{Participant, Replier};
use sustainml_types::ErrorCode;

use crate::options::NodeError;

/// The configuration callback: request text in, JSON text (or an error message) out.
pub(crate) type ConfigFn = Arc<dyn Fn(&str) -> Result<String, String> + Send + Sync>;

pub(crate) fn spawn_config_service(
    participant: &Participant,
    node_id: i32,
    name: Arc<str>,
    config: Option<ConfigFn>,
    timeout: Duration,
) -> Result<tokio::task::JoinHandle<()>, NodeError> {
    let mut replier = Replier::new(participant, node_id)?;
    let responder = replier.responder();
    Ok(tokio::spawn(async move {
        while let Ok(request) = replier.next().await {
            let responder = responder.clone();
            let config = config.clone();
            let name = Arc::clone(&name);
            tokio::spawn(async move {
                let text = request.configuration.clone();
                let answer = match config {
                    None => Err(format!("{name} has no configuration handler")),
                    Some(f) => {
                        let work = tokio::task::spawn_blocking(move || f(&text));
                        match tokio::time::timeout(timeout, work).await {
                            Ok(Ok(r)) => r,
                            Ok(Err(e)) => Err(format!("configuration callback panicked: {e}")),
                            Err(_) => Err(format!(
                                "configuration callback took longer than {timeout:?}"
                            )),
                        }
                    }
                };
                let (success, code, body) = match answer {
                    Ok(json) => match serde_json::from_str::<serde_json::Value>(&json) {
                        Ok(_) => (true, ErrorCode::NoError, json),
                        Err(e) => (
                            false,
                            ErrorCode::InternalError,
                            serde_json::json!({"error": format!("configuration callback returned invalid JSON: {e}")}).to_string(),
                        ),
                    },
                    Err(message) => (
                        false,
                        ErrorCode::InternalError,
                        serde_json::json!({ "error": message }).to_string(),
                    ),
                };
                if !success {
                    tracing::warn!(
                        transaction = request.transaction_id,
                        "configuration request failed: {body}"
                    );
                }
                if let Err(e) = responder.reply(&request, success, code, body).await {
                    tracing::warn!("cannot answer configuration request: {e}");
                }
            });
        }
    }))
}
