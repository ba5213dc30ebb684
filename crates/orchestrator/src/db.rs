//! The store's own thread: every database call runs there, in order, so no tokio
//! worker ever blocks on SQLite, and a query queued after a write sees it.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::error::StoreError;
use crate::store::Store;

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// A handle on the store's thread. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub(crate) struct Db {
    tx: std::sync::Mutex<Option<mpsc::Sender<Job>>>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Db {
    /// Moves `store` to its own thread.
    pub fn start(mut store: Store) -> Result<Self, StoreError> {
        let (tx, rx) = mpsc::channel::<Job>();
        let path = store.path().to_owned();
        let thread = std::thread::Builder::new()
            .name("sustainml-store".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job(&mut store);
                }
            })
            .map_err(|e| StoreError::Open {
                path,
                reason: format!("cannot start the store thread: {e}"),
            })?;
        Ok(Self {
            tx: std::sync::Mutex::new(Some(tx)),
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    fn sender(&self) -> Option<mpsc::Sender<Job>> {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs `f` on the store and returns its result.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (done, result) = oneshot::channel();
        let tx = self.sender().ok_or(StoreError::Closed)?;
        tx.send(Box::new(move |s| {
            let _ = done.send(f(s));
        }))
        .map_err(|_| StoreError::Closed)?;
        result.await.map_err(|_| StoreError::Closed)?
    }

    /// Queues `f` without waiting; a failure is logged with `what`.
    pub fn send(
        &self,
        what: &'static str,
        f: impl FnOnce(&mut Store) -> Result<(), StoreError> + Send + 'static,
    ) {
        let Some(tx) = self.sender() else {
            tracing::warn!("task store closed: {what} not recorded");
            return;
        };
        let job: Job = Box::new(move |s| {
            if let Err(e) = f(s) {
                tracing::error!("{what}: {e}");
            }
        });
        if tx.send(job).is_err() {
            tracing::warn!("task store closed: {what} not recorded");
        }
    }

    /// Finishes the queued work and closes the database (releasing its lock).
    pub async fn close(&self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}
