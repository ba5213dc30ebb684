//! How a SustainML process is asked to stop: the one wait every binary shares.

use std::future::Future;

/// Watches Ctrl-C (SIGINT) and, on Unix, SIGTERM (what `sustainml launch`, systemd and
/// container runtimes send) from the moment it is called, and returns a future that
/// completes when one arrives. Call it early, inside the runtime, before announcing
/// that the process is up: a signal that arrives between the call and the first poll
/// of the future is not lost, and does not end the process with the default action.
/// If the signals cannot be watched, only Ctrl-C ends the wait.
pub fn stop_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            match (term, int) {
                (Some(mut term), Some(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                (Some(mut term), None) => {
                    term.recv().await;
                }
                (None, Some(mut int)) => {
                    int.recv().await;
                }
                (None, None) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Returns when the process receives Ctrl-C or SIGTERM, watching from the first poll
/// (see [`stop_signal`] to watch from an earlier point).
pub async fn stop_requested() {
    stop_signal().await
}
