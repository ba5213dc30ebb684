//! How a SustainML process is asked to stop: the one wait every binary shares.

/// Returns when the process receives Ctrl-C (SIGINT) or, on Unix, SIGTERM (what
/// `sustainml launch`, systemd and container runtimes send). If SIGTERM cannot be
/// watched, only Ctrl-C ends the wait.
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
