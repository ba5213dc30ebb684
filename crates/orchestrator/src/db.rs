//! The store's own thread: every database call runs there, in order, so no tokio
//! worker ever blocks on SQLite, and a query queued after a write sees it.
//!
//! Group commit: the thread takes every job queued at once (up to [`BATCH`]) and runs
//! them in one transaction, so a burst of outputs and statuses costs one write of the
//! pages they touch instead of one per row. A caller waiting on [`Db::call`] gets its
//! answer only after that commit, so what it was told is stored is on disk (in the
//! write-ahead log); if the commit fails, every caller in the batch gets the error
//! and every queued write is reported lost in the log.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::error::StoreError;
use crate::store::Store;

/// The most jobs one transaction takes.
const BATCH: usize = 512;

/// What to do once the job's transaction ended (given the commit's outcome).
type Reply = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

type Job = Box<dyn FnOnce(&mut Store) -> Option<Reply> + Send>;

/// Runs one batch: `first` and whatever else is queued, in one transaction.
fn run_batch(store: &mut Store, first: Job, rx: &mpsc::Receiver<Job>) {
    let mut replies = Vec::new();
    let in_tx = match store.begin() {
        Ok(()) => true,
        Err(e) => {
            // Without a transaction each job still runs, committed on its own.
            tracing::warn!("task store: {e}; running the queued work unbatched");
            false
        }
    };
    let mut next = Some(first);
    let mut jobs = 0usize;
    while let Some(job) = next.take() {
        replies.extend(job(store));
        jobs += 1;
        if jobs < BATCH {
            next = rx.try_recv().ok();
        }
    }
    let outcome = if in_tx { store.commit() } else { Ok(()) };
    if let Err(e) = &outcome {
        tracing::error!("task store: {jobs} queued change(s) lost: {e}");
    }
    for reply in replies {
        reply(outcome.as_ref().map(|_| ()));
    }
}

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
                    run_batch(&mut store, job, &rx);
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
            let result = f(s);
            Some(Box::new(move |commit: Result<(), &StoreError>| {
                let _ = done.send(match commit {
                    Ok(()) => result,
                    Err(e) => Err(e.clone()),
                });
            }) as Reply)
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
            None
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

#[cfg(test)]
mod tests {
    // Protects group commit: writes queued in a burst are all stored, a call queued
    // after them sees them, and they are on disk once the store is closed.
    use super::*;
    use sustainml_types::{TaskIdImpl, UserInputImpl};

    #[tokio::test]
    async fn a_burst_of_queued_writes_is_seen_by_the_next_call_and_survives_a_reopen() {
        let dir = std::env::temp_dir().join(format!(
            "sustainml-db-batch-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let db = Db::start(Store::open(&dir).expect("open")).expect("start");
        for p in 1..=2000u32 {
            let input = UserInputImpl {
                task_id: TaskIdImpl::new(p, 1),
                ..Default::default()
            };
            db.send("recording a task", move |s| s.insert_task(&input, 1));
        }
        let seen = db.call(|s| s.tasks()).await.expect("tasks");
        assert_eq!(seen.len(), 2000);
        db.close().await;
        let store = Store::open(&dir).expect("reopen");
        assert_eq!(store.max_problem_id().expect("max"), 2000);
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }
}
