//! A small blocking client of the orchestrator's REST API (`sustainml-orchestrator`),
//! used by the `task` commands.
//!
//! It uses `ureq` 2 (blocking, no TLS: the API listens on loopback over plain HTTP),
//! which suits a command that makes a handful of calls and then exits. Failures are
//! sorted by whose fault they are:
//!
//! - the orchestrator cannot be reached: [`Unreachable`] (exit 1), one line naming
//!   the URL and how to start it;
//! - HTTP 4xx: the API's `{"error": …}` message as a [`UsageError`] (exit 2);
//! - HTTP 5xx or a body that is not JSON: a runtime failure (exit 1).

use std::fmt;
use std::io::Read;
use std::time::Duration;

use anyhow::{anyhow, Result};
use serde_json::Value;

use crate::UsageError;

/// The orchestrator's URL when neither `--orchestrator` nor the environment give one.
pub const DEFAULT_URL: &str = "http://127.0.0.1:5001";

/// The environment variable with the orchestrator's URL.
pub const URL_ENV: &str = "SUSTAINML_ORCHESTRATOR";

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a plain call may take (the API never waits on nodes).
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the event stream may stay silent (the server sends a keep-alive every
/// 15 s); after that the stream is given up and the caller polls.
const EVENT_SILENCE: Duration = Duration::from_secs(60);

/// The orchestrator could not be reached at all: exit 1 with one line.
#[derive(Debug)]
pub struct Unreachable {
    url: String,
    reason: String,
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot reach the orchestrator at {} ({}); is it running? (sustainml launch launch/local.toml)",
            self.url, self.reason
        )
    }
}

impl std::error::Error for Unreachable {}

/// The REST API at one base URL.
#[derive(Debug)]
pub struct Api {
    base: String,
    agent: ureq::Agent,
}

impl Api {
    /// The API at `url`, else `$SUSTAINML_ORCHESTRATOR`, else [`DEFAULT_URL`]. Only
    /// `http://` URLs are accepted (the API has no TLS).
    pub fn new(url: Option<String>) -> Result<Self> {
        let url = url
            .or_else(|| std::env::var(URL_ENV).ok().filter(|u| !u.trim().is_empty()))
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        let base = url.trim().trim_end_matches('/').to_owned();
        let host = base.strip_prefix("http://").unwrap_or_default();
        if host.is_empty() || host.starts_with('/') {
            return Err(UsageError(format!(
                "bad orchestrator URL {url:?}: expected http://HOST:PORT, e.g. {DEFAULT_URL}"
            ))
            .into());
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(CONNECT_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .build();
        Ok(Self { base, agent })
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// `GET path` → the JSON body.
    pub fn get(&self, path: &str) -> Result<Value> {
        let answer = self.agent.get(&self.full(path)).call();
        self.json(path, answer)
    }

    /// `POST path` with a JSON body → the JSON body.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let answer = self
            .agent
            .post(&self.full(path))
            .set("Content-Type", "application/json")
            .send_string(&body.to_string());
        self.json(path, answer)
    }

    /// `GET /events`: the server-sent event stream, as a reader of its raw text.
    pub fn events(&self) -> Result<Box<dyn Read + Send + Sync + 'static>> {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(CONNECT_TIMEOUT)
            .timeout_read(EVENT_SILENCE)
            .build();
        let answer = agent
            .get(&self.full("/events"))
            .set("Accept", "text/event-stream")
            .call();
        match answer {
            Ok(r) => Ok(r.into_reader()),
            Err(e) => Err(self.failure("/events", e)),
        }
    }

    fn full(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn json(&self, path: &str, answer: Result<ureq::Response, ureq::Error>) -> Result<Value> {
        let response = answer.map_err(|e| self.failure(path, e))?;
        response.into_json().map_err(|e| {
            anyhow!(
                "{} answered {path} with a body that is not JSON: {e}",
                self.base
            )
        })
    }

    /// Turns a failed call into the error the user should see.
    fn failure(&self, path: &str, e: ureq::Error) -> anyhow::Error {
        match e {
            ureq::Error::Status(code, response) => {
                let text = response.into_string().unwrap_or_default();
                let message = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| text.trim().to_owned());
                if (400..500).contains(&code) {
                    UsageError(message).into()
                } else {
                    anyhow!("the orchestrator failed on {path} (HTTP {code}): {message}")
                }
            }
            ureq::Error::Transport(t) => Unreachable {
                url: self.base.clone(),
                reason: deepest_cause(&t),
            }
            .into(),
        }
    }
}

/// The innermost cause of a transport error ("Connection refused (os error 111)"),
/// which says more than ureq's own wrapping.
fn deepest_cause(t: &ureq::Transport) -> String {
    let mut cause: &dyn std::error::Error = t;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    if text.is_empty() {
        t.kind().to_string()
    } else {
        text.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_trimmed() {
        let api = Api::new(Some("http://127.0.0.1:9/".into())).expect("valid");
        assert_eq!(api.url(), "http://127.0.0.1:9");
        for bad in ["https://x", "127.0.0.1:5001", "http://", "ftp://h"] {
            let e = Api::new(Some(bad.into())).expect_err(bad);
            assert!(e.downcast_ref::<UsageError>().is_some(), "{bad}");
        }
    }

    #[test]
    fn a_closed_port_is_unreachable() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let api = Api::new(Some(url.clone())).expect("valid");
        let e = api.get("/tasks").expect_err("nothing listens");
        let u = e.downcast_ref::<Unreachable>().expect("unreachable");
        assert!(u.to_string().contains(&url), "{u}");
    }
}
