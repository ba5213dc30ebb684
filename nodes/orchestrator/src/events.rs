//! GET /events: the orchestrator's events as server-sent events.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use sustainml_orchestrator::Event;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use crate::AppState;

/// One SSE event: the name is the event's `event` tag (`task_started`, `output`,
/// `task_status`, `task_done`, `task_failed`, `node`, `iteration`,
/// `optimization_finished`), the data its JSON.
fn sse(event: &Event) -> SseEvent {
    let json = serde_json::to_value(event).unwrap_or_default();
    let name = json["event"].as_str().unwrap_or("event").to_owned();
    SseEvent::default().event(name).data(json.to_string())
}

/// GET /events: `connected` first, then every event; `lagged` (with how many were
/// missed) if this client fell behind. Keep-alive comments every 15 s; the stream
/// ends when the server shuts down.
pub async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = state.orch.subscribe();
    let hello = SseEvent::default()
        .event("connected")
        .data(r#"{"event":"connected"}"#);
    let first = futures::stream::once(async move { Ok(hello) });
    let rest = futures::stream::unfold((rx, state.shutdown), next);
    Sse::new(futures::StreamExt::chain(first, rest)).keep_alive(KeepAlive::default())
}

type Cursor = (broadcast::Receiver<Event>, watch::Receiver<bool>);

async fn next((mut rx, mut stop): Cursor) -> Option<(Result<SseEvent, Infallible>, Cursor)> {
    let item = tokio::select! {
        _ = stop.wait_for(|stopping| *stopping) => return None,
        r = rx.recv() => match r {
            Ok(e) => sse(&e),
            Err(RecvError::Lagged(n)) => SseEvent::default()
                .event("lagged")
                .data(format!(r#"{{"event":"lagged","missed":{n}}}"#)),
            Err(RecvError::Closed) => return None,
        },
    };
    Some((Ok(item), (rx, stop)))
}
