//! Errors as HTTP answers: a status code and `{"error": "..."}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use sustainml_orchestrator::Error;

/// A failed request: the status code and a message naming what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong (for bad input: which field, and why).
    pub message: String,
}

impl ApiError {
    /// 400: the request is malformed; `message` names the field.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// 404: no such task, problem or node.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let status = match &e {
            Error::UnknownProblem(_) | Error::UnknownTask(_) => StatusCode::NOT_FOUND,
            Error::ConfigTimeout { .. } | Error::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Error::Config { .. } | Error::Dds(_) => StatusCode::BAD_GATEWAY,
            Error::IdsExhausted(_) => StatusCode::CONFLICT,
            Error::Runtime(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self {
            status,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, "{}", self.message);
        }
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
