//! The configuration service: answers `sustainml/request` for this node's id with
//! the configuration callback's JSON, each request on its own blocking thread.

use std::sync::Arc;
use std::time::Duration;

use sustainml_dds::{Participant, Replier};
use sustainml_types::ErrorCode;

use crate::options::NodeError;

/// A configuration request addressed to this node, as its callback sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigRequest<'a> {
    /// The request text (the reference's `configuration` field; JSON by convention).
    pub configuration: &'a str,
    /// The node id the request was addressed to.
    pub node_id: i32,
    /// The requester's transaction id (the reply carries the same).
    pub transaction_id: i32,
}

impl<'a> ConfigRequest<'a> {
    /// A request as the service builds it (also for tests of a callback).
    pub fn new(configuration: &'a str, node_id: i32, transaction_id: i32) -> Self {
        Self {
            configuration,
            node_id,
            transaction_id,
        }
    }
}

/// Why a configuration request failed. The requester gets `success = false`, this
/// error code, and `{"error": message}` as the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    code: ErrorCode,
    message: String,
}

impl ConfigError {
    /// A failure with code INTERNAL_ERROR (the reference's only error code).
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_code(ErrorCode::InternalError, message)
    }

    /// A failure with the given code; NO_ERROR is sent as INTERNAL_ERROR, since the
    /// request failed whatever the code says.
    pub fn with_code(code: ErrorCode, message: impl Into<String>) -> Self {
        let code = match code {
            ErrorCode::NoError => ErrorCode::InternalError,
            other => other,
        };
        Self {
            code,
            message: message.into(),
        }
    }

    /// The error code sent to the requester.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// What failed.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<String> for ConfigError {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for ConfigError {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

/// The configuration callback: the request in, JSON text (or why it failed) out.
pub(crate) type ConfigFn =
    Arc<dyn Fn(ConfigRequest<'_>) -> Result<String, ConfigError> + Send + Sync>;

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
                let (transaction_id, for_node) = (request.transaction_id, request.node_id);
                let answer = match config {
                    None => Err(ConfigError::new(format!(
                        "{name} has no configuration handler"
                    ))),
                    Some(f) => {
                        let work = tokio::task::spawn_blocking(move || {
                            f(ConfigRequest::new(&text, for_node, transaction_id))
                        });
                        match tokio::time::timeout(timeout, work).await {
                            Ok(Ok(r)) => r,
                            Ok(Err(e)) => Err(ConfigError::new(format!(
                                "configuration callback panicked: {e}"
                            ))),
                            Err(_) => Err(ConfigError::new(format!(
                                "configuration callback took longer than {timeout:?}"
                            ))),
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
                    Err(failure) => (
                        false,
                        failure.code(),
                        serde_json::json!({ "error": failure.message() }).to_string(),
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
