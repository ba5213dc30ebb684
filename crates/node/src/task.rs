//! What a callback sees of its task, and how it reports failure.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sustainml_types::TaskIdImpl;
use tokio_util::sync::CancellationToken;

/// A failed task: the message goes into the task's status (`TASK_ERROR`,
/// `error_description`) and the output is not published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError(pub String);

impl TaskError {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TaskError {}

impl From<String> for TaskError {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for TaskError {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// The task a callback runs for: its id, a place for a status message, and whether it
/// was asked to stop (STOP_TASK / PREEMPT_TASK / shutdown). Cancellation is
/// cooperative: a long callback checks [`is_cancelled`](Self::is_cancelled) or awaits
/// [`cancelled`](Self::cancelled).
#[derive(Debug, Clone)]
pub struct TaskContext {
    task_id: TaskIdImpl,
    node: Arc<str>,
    message: String,
    cancel: CancellationToken,
}

impl TaskContext {
    pub(crate) fn new(task_id: TaskIdImpl, node: Arc<str>, cancel: CancellationToken) -> Self {
        Self {
            task_id,
            node,
            message: String::new(),
            cancel,
        }
    }

    /// The task.
    pub fn task_id(&self) -> TaskIdImpl {
        self.task_id
    }

    /// The node's name.
    pub fn node_name(&self) -> &str {
        &self.node
    }

    /// Sets the text published in the task's status (`error_description`) when it
    /// succeeds: a note for people, e.g. "estimated, device not present".
    pub fn set_message(&mut self, message: impl Into<String>) {
        self.message = message.into();
    }

    /// The status message set so far.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the task was asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when the task is asked to stop.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }
}

/// The result of one task.
pub type TaskResult<O> = Result<O, TaskError>;

type SyncFn<I, O> = dyn Fn(I, &mut TaskContext, &mut O) -> Result<(), TaskError> + Send + Sync;
type AsyncFn<I, O> = dyn Fn(I, TaskContext) -> Pin<Box<dyn Future<Output = (TaskContext, TaskResult<O>)> + Send>>
    + Send
    + Sync;

/// A task callback, sync or async.
pub(crate) enum Callback<I, O> {
    Sync(Arc<SyncFn<I, O>>),
    Async(Arc<AsyncFn<I, O>>),
}

impl<I, O> Clone for Callback<I, O> {
    fn clone(&self) -> Self {
        match self {
            Callback::Sync(f) => Callback::Sync(Arc::clone(f)),
            Callback::Async(f) => Callback::Async(Arc::clone(f)),
        }
    }
}

impl<I, O> fmt::Debug for Callback<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Callback::Sync(_) => "Callback::Sync",
            Callback::Async(_) => "Callback::Async",
        })
    }
}

impl<I: Send + 'static, O: Default + Send + 'static> Callback<I, O> {
    pub(crate) fn sync<F>(f: F) -> Self
    where
        F: Fn(I, &mut TaskContext, &mut O) -> Result<(), TaskError> + Send + Sync + 'static,
    {
        Callback::Sync(Arc::new(f))
    }

    pub(crate) fn asynchronous<F, Fut>(f: F) -> Self
    where
        F: Fn(I, TaskContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = TaskResult<O>> + Send + 'static,
    {
        let f = Arc::new(f);
        Callback::Async(Arc::new(move |inputs, ctx: TaskContext| {
            let f = Arc::clone(&f);
            let keep = ctx.clone();
            Box::pin(async move {
                let result = f(inputs, ctx).await;
                (keep, result)
            })
        }))
    }

    /// Runs the callback on its own task; a panic becomes a task error.
    pub(crate) async fn run(&self, inputs: I, mut ctx: TaskContext) -> (String, TaskResult<O>) {
        match self {
            Callback::Sync(f) => {
                let f = Arc::clone(f);
                let joined = tokio::task::spawn_blocking(move || {
                    let mut out = O::default();
                    let r = f(inputs, &mut ctx, &mut out);
                    (ctx.message, r.map(|()| out))
                })
                .await;
                joined.unwrap_or_else(|e| (String::new(), Err(panic_error(e))))
            }
            Callback::Async(f) => {
                let fut = f(inputs, ctx);
                match tokio::spawn(fut).await {
                    Ok((ctx, r)) => (ctx.message, r),
                    Err(e) => (String::new(), Err(panic_error(e))),
                }
            }
        }
    }
}

fn panic_error(e: tokio::task::JoinError) -> TaskError {
    if e.is_panic() {
        let payload = e.into_panic();
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-text panic payload".to_owned());
        TaskError(format!("callback panicked: {text}"))
    } else {
        TaskError("callback was cancelled".to_owned())
    }
}
