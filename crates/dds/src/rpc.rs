//! The configuration service: request/reply over `sustainml/request` and
//! `sustainml/response` (RequestTypeImpl / ResponseTypeImpl), as the reference's
//! RequestReplier did, with the weaknesses left out.
//!
//! - Every request has a timeout; a request to a node nobody serves fails at the
//!   timeout with [`RpcError::NoService`] instead of hanging.
//! - Responses are matched on (`node_id`, `transaction_id`). Transaction ids start at a
//!   random value per requester, so two requesters (an orchestrator and a CLI, say)
//!   do not answer each other's calls.
//! - A request waits until a configuration reader is matched before it is written, and
//!   is disposed once it is answered or times out; the request writer keeps only the
//!   last sample for late joiners. A node that starts later is not replayed a backlog.
//! - The replier answers only requests for its own node id, and each request once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sustainml_types::topics::{REQUEST, RESPONSE};
use sustainml_types::{ErrorCode, RequestTypeImpl, ResponseTypeImpl, ServiceKey};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::error::Error;
use crate::participant::Participant;
use crate::pubsub::{Publisher, Subscriber, WriterId};
use crate::qos;

/// Why a configuration request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// No node serving configuration requests was found.
    #[error("no configuration service found for node {node_id} within {timeout:?}")]
    NoService {
        /// The node addressed.
        node_id: i32,
        /// How long we looked.
        timeout: Duration,
    },
    /// The request went out but no answer came back in time.
    #[error("node {node_id} did not answer transaction {transaction_id} within {timeout:?}")]
    Timeout {
        /// The node addressed.
        node_id: i32,
        /// The transaction.
        transaction_id: i32,
        /// How long we waited.
        timeout: Duration,
    },
    /// The DDS layer failed.
    #[error(transparent)]
    Dds(#[from] Error),
}

type Pending = Arc<Mutex<HashMap<ServiceKey, oneshot::Sender<ResponseTypeImpl>>>>;

/// Sends configuration requests and waits for their responses.
#[derive(Debug)]
pub struct Requester {
    requests: Publisher<RequestTypeImpl>,
    pending: Pending,
    next_transaction: AtomicI32,
    reader: JoinHandle<()>,
}

impl Drop for Requester {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

fn initial_transaction_id() -> i32 {
    // A random start in 1..=2^30 leaves room to count up without wrapping.
    let random = uuid::Uuid::new_v4().as_u128() as u32;
    (random & 0x3fff_ffff) as i32 + 1
}

impl Requester {
    /// Creates the request writer and response reader. Must be called inside a tokio
    /// runtime (a task reads responses).
    pub fn new(participant: &Participant) -> Result<Self, Error> {
        let requests = participant.publisher_with_qos(REQUEST, qos::writer_with_depth(1))?;
        let mut responses: Subscriber<ResponseTypeImpl> = participant.subscriber(RESPONSE)?;
        let pending: Pending = Arc::default();
        let dispatch = Arc::clone(&pending);
        let reader = tokio::spawn(async move {
            while let Ok(r) = responses.recv().await {
                let response = r.value;
                let key = ServiceKey {
                    node_id: response.node_id,
                    transaction_id: response.transaction_id,
                };
                let waiter = dispatch
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&key);
                match waiter {
                    Some(tx) => {
                        let _ = tx.send(response);
                    }
                    None => tracing::trace!(?key, "response to no pending request of ours"),
                }
            }
        });
        Ok(Self {
            requests,
            pending,
            next_transaction: AtomicI32::new(initial_transaction_id()),
            reader,
        })
    }

    fn transaction_id(&self) -> i32 {
        loop {
            let id = self.next_transaction.fetch_add(1, Ordering::Relaxed);
            if id > 0 {
                return id;
            }
            // Wrapped after 2^31 requests: start again from 1.
            let _ = self.next_transaction.compare_exchange(
                id + 1,
                1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
    }

    /// Sends `configuration` to node `node_id` and waits up to `timeout` for the answer.
    /// The node's `success` and `err_code` come back as the node sent them.
    pub async fn request(
        &self,
        node_id: i32,
        configuration: impl Into<String>,
        timeout: Duration,
    ) -> Result<ResponseTypeImpl, RpcError> {
        let key = ServiceKey {
            node_id,
            transaction_id: self.transaction_id(),
        };
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, tx);
        let started = Instant::now();
        let outcome = self
            .exchange(key, configuration.into(), rx, started, timeout)
            .await;
        let idle = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.remove(&key);
            pending.is_empty()
        };
        if idle && outcome.is_ok() {
            // Every request was answered, so its reader took it: dropping the requester
            // need not linger for it (see `Publisher::settled`).
            self.requests.settled();
        }
        if let Err(e) = self.requests.dispose(&key) {
            tracing::debug!("could not dispose request {key:?}: {e}");
        }
        outcome
    }

    async fn exchange(
        &self,
        key: ServiceKey,
        configuration: String,
        rx: oneshot::Receiver<ResponseTypeImpl>,
        started: Instant,
        timeout: Duration,
    ) -> Result<ResponseTypeImpl, RpcError> {
        if self.requests.wait_for_readers(1, timeout).await.is_err() {
            return Err(RpcError::NoService {
                node_id: key.node_id,
                timeout,
            });
        }
        let request = RequestTypeImpl {
            node_id: key.node_id,
            transaction_id: key.transaction_id,
            configuration,
        };
        self.requests.write(request).await?;
        let remaining = timeout.saturating_sub(started.elapsed());
        match tokio::time::timeout(remaining, rx).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(_)) => Err(RpcError::Dds(Error::Closed)),
            Err(_) => Err(RpcError::Timeout {
                node_id: key.node_id,
                transaction_id: key.transaction_id,
                timeout,
            }),
        }
    }
}

/// A configuration request addressed to this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// This node's id.
    pub node_id: i32,
    /// The requester's transaction.
    pub transaction_id: i32,
    /// The request text.
    pub configuration: String,
    /// Who asked.
    pub writer: WriterId,
}

/// How many answered requests the replier remembers to ignore duplicates.
const REMEMBERED: usize = 4096;

/// Receives the configuration requests for one node id and answers them.
#[derive(Debug)]
pub struct Replier {
    node_id: i32,
    requests: Subscriber<RequestTypeImpl>,
    responses: Arc<Publisher<ResponseTypeImpl>>,
    seen: HashSet<(WriterId, i32)>,
    order: VecDeque<(WriterId, i32)>,
}

impl Replier {
    /// Serves requests whose `node_id` is `node_id`.
    pub fn new(participant: &Participant, node_id: i32) -> Result<Self, Error> {
        Ok(Self {
            node_id,
            requests: participant.subscriber(REQUEST)?,
            responses: Arc::new(participant.publisher(RESPONSE)?),
            seen: HashSet::new(),
            order: VecDeque::new(),
        })
    }

    /// The next request for this node; requests for other nodes and repeats of a
    /// request already returned are skipped.
    pub async fn next(&mut self) -> Result<Request, Error> {
        loop {
            let r = self.requests.recv().await?;
            if r.value.node_id != self.node_id {
                tracing::trace!(node_id = r.value.node_id, "request for another node");
                continue;
            }
            let id = (r.writer.clone(), r.value.transaction_id);
            if !self.seen.insert(id.clone()) {
                continue;
            }
            self.order.push_back(id);
            if self.order.len() > REMEMBERED {
                if let Some(old) = self.order.pop_front() {
                    self.seen.remove(&old);
                }
            }
            return Ok(Request {
                node_id: r.value.node_id,
                transaction_id: r.value.transaction_id,
                configuration: r.value.configuration,
                writer: r.writer,
            });
        }
    }

    /// A handle that answers requests (it can move to another task).
    pub fn responder(&self) -> Responder {
        Responder(Arc::clone(&self.responses))
    }

    /// Malformed requests dropped so far.
    pub fn dropped(&self) -> u64 {
        self.requests.dropped()
    }
}

/// Answers configuration requests; cheap to clone.
#[derive(Debug, Clone)]
pub struct Responder(Arc<Publisher<ResponseTypeImpl>>);

impl Responder {
    /// Answers `request`.
    pub async fn reply(
        &self,
        request: &Request,
        success: bool,
        err_code: ErrorCode,
        configuration: impl Into<String>,
    ) -> Result<(), Error> {
        self.0
            .write(ResponseTypeImpl {
                node_id: request.node_id,
                transaction_id: request.transaction_id,
                success,
                err_code,
                configuration: configuration.into(),
            })
            .await
    }

    /// Waits until every matched requester acknowledged the responses sent so far.
    pub async fn wait_for_acknowledgments(&self, timeout: Duration) -> Result<bool, Error> {
        self.0.wait_for_acknowledgments(timeout).await
    }
}
