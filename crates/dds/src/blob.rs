//! Large model payloads: `MLModelImpl.raw_model` beside DDS.
//!
//! rustdds fragments samples into 256-byte pieces: a 1 MB sample takes about 9 ms one
//! way and samples of several megabytes can stall. So a model whose `raw_model` is larger
//! than [`BlobConfig::inline_max`] (64 KiB by default) is carried like this:
//!
//! 1. The writer moves the bytes into its participant's [`BlobStore`] (no copy) and
//!    serves them on a TCP port it opens on every interface.
//! 2. The DDS sample goes out with `raw_model` empty and a descriptor spliced into the
//!    front of its `extra_data` JSON object: `{"sustainml_rs_raw_model":{"id":…,
//!    "size":…,"endpoints":["10.0.0.2:40123",…],"layout":…},` followed by the original
//!    object's members. It is still valid JSON, so Fast DDS peers receive an ordinary
//!    MLModelImpl (with `model`/`model_path` set as usual, but no inline bytes).
//! 3. Our subscriber sees the descriptor, fetches the bytes from the first endpoint that
//!    has them, puts them back into `raw_model` and restores `extra_data` to the exact
//!    original bytes, before the sample is handed to the application. If no endpoint
//!    answers within [`BlobConfig::fetch_timeout`], the sample is dropped with a warning.
//!
//! A payload the writer sent before (the same bytes as one it still holds, among the
//! last [`REPEAT_LOOKBACK`] it sent) also carries its BLAKE3 `digest` in the
//! descriptor. A reader keeps such repeated payloads (at most
//! [`BlobConfig::reuse_bytes`]) and puts one it already holds back without a fetch:
//! ML_MODEL proposes the same few graphs task after task, and each reader used to
//! fetch every copy. A payload sent once costs nothing more than a comparison that
//! stops at the first differing byte; a repeated one is hashed once (about 0.4 ms per
//! MiB) and compared in full (about 0.05 ms per MiB). A fetched payload is not hashed
//! again: TCP and the size check guard it on the way. (A descriptor without a digest
//! is always fetched, as older writers' are.)
//!
//! The store keeps the latest payload per task and at most [`BlobConfig::cache_bytes`]
//! bytes, evicting the oldest, like a keep-last history. A payload is an `Arc`, so
//! serving it to several readers costs no copy. Small models, and models whose
//! `extra_data` is not a JSON object (there is nowhere to put the descriptor), go
//! inline as before.
//!
//! The descriptor names a transport by its endpoints, so a same-host fast path (shared
//! memory) can be added as another kind of endpoint without changing the wire format.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sustainml_types::{MLModelImpl, TaskIdImpl};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

/// The JSON member that carries the descriptor.
pub const DESCRIPTOR_KEY: &str = "sustainml_rs_raw_model";

/// How large payloads are carried.
#[derive(Debug, Clone)]
pub struct BlobConfig {
    /// Payloads up to this size go inline in the DDS sample.
    pub inline_max: usize,
    /// The most bytes the store keeps for readers.
    pub cache_bytes: usize,
    /// The largest payload a reader accepts.
    pub max_payload: usize,
    /// How long a reader tries to fetch one payload.
    pub fetch_timeout: Duration,
    /// The most bytes of fetched payloads a reader keeps to reuse by digest.
    pub reuse_bytes: usize,
}

/// How many of its latest payloads a writer compares a new one with.
pub const REPEAT_LOOKBACK: usize = 8;

impl Default for BlobConfig {
    fn default() -> Self {
        Self {
            inline_max: 64 * 1024,
            cache_bytes: 1 << 30,
            max_payload: 1 << 30,
            fetch_timeout: Duration::from_secs(30),
            reuse_bytes: 128 << 20,
        }
    }
}

/// Where a payload is and how to put the sample back together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Descriptor {
    id: Uuid,
    size: u64,
    endpoints: Vec<SocketAddr>,
    layout: Layout,
    /// BLAKE3 of the payload, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
}

/// How the original `extra_data` relates to the spliced one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Layout {
    /// `extra_data` was empty.
    Empty,
    /// It was an object with no members; no comma follows the descriptor.
    Object,
    /// It was an object with members; a comma follows the descriptor.
    ObjectComma,
}

const PREFIX: &str = "{\"sustainml_rs_raw_model\":";

#[derive(Debug, Default)]
struct Entries {
    by_id: HashMap<Uuid, Held>,
    by_task: HashMap<TaskIdImpl, Uuid>,
    order: VecDeque<Uuid>,
    bytes: usize,
}

/// A payload the writer serves: its task, its bytes (shared by repeats), and its digest
/// once it was sent more than once.
#[derive(Debug)]
struct Held {
    task: TaskIdImpl,
    bytes: Arc<Vec<u8>>,
    digest: Option<blake3::Hash>,
}

/// Payloads this participant fetched, by digest, oldest first.
#[derive(Debug, Default)]
struct Fetched {
    by_digest: HashMap<blake3::Hash, Arc<Vec<u8>>>,
    order: VecDeque<blake3::Hash>,
    bytes: usize,
}

impl Fetched {
    fn keep(&mut self, digest: blake3::Hash, bytes: Arc<Vec<u8>>, limit: usize) {
        if bytes.len() > limit || self.by_digest.contains_key(&digest) {
            return;
        }
        self.bytes += bytes.len();
        self.by_digest.insert(digest, bytes);
        self.order.push_back(digest);
        while self.bytes > limit {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(b) = self.by_digest.remove(&oldest) {
                self.bytes -= b.len();
            }
        }
    }
}

/// Payloads this participant serves, and the server that serves them.
#[derive(Debug)]
pub struct BlobStore {
    config: BlobConfig,
    entries: Mutex<Entries>,
    fetched: Mutex<Fetched>,
    server: tokio::sync::OnceCell<Vec<SocketAddr>>,
}

impl BlobStore {
    pub(crate) fn new(config: BlobConfig) -> Arc<Self> {
        Arc::new(Self {
            config,
            entries: Mutex::new(Entries::default()),
            fetched: Mutex::new(Fetched::default()),
            server: tokio::sync::OnceCell::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds `bytes` for `task`; returns its id and, when the same bytes were sent
    /// lately, their digest (the repeat shares the earlier copy).
    fn insert(&self, task: TaskIdImpl, bytes: Vec<u8>) -> (Uuid, Option<blake3::Hash>) {
        let id = Uuid::new_v4();
        let mut e = self.lock();
        let repeat = e
            .order
            .iter()
            .rev()
            .take(REPEAT_LOOKBACK)
            .find(|i| e.by_id.get(*i).is_some_and(|h| *h.bytes == bytes))
            .copied();
        let held = match repeat.and_then(|r| e.by_id.get_mut(&r)) {
            Some(earlier) => {
                let digest = *earlier
                    .digest
                    .get_or_insert_with(|| blake3::hash(&earlier.bytes));
                Held {
                    task,
                    bytes: Arc::clone(&earlier.bytes),
                    digest: Some(digest),
                }
            }
            None => Held {
                task,
                bytes: Arc::new(bytes),
                digest: None,
            },
        };
        let digest = held.digest;
        if let Some(old) = e.by_task.insert(task, id) {
            if let Some(h) = e.by_id.remove(&old) {
                e.bytes -= h.bytes.len();
            }
        }
        e.bytes += held.bytes.len();
        e.by_id.insert(id, held);
        e.order.push_back(id);
        while e.bytes > self.config.cache_bytes && e.order.len() > 1 {
            let Some(oldest) = e.order.pop_front() else {
                break;
            };
            if let Some(h) = e.by_id.remove(&oldest) {
                e.bytes -= h.bytes.len();
                if e.by_task.get(&h.task) == Some(&oldest) {
                    e.by_task.remove(&h.task);
                }
            }
        }
        let Entries { order, by_id, .. } = &mut *e;
        order.retain(|i| by_id.contains_key(i));
        (id, digest)
    }

    fn get(&self, id: &Uuid) -> Option<Arc<Vec<u8>>> {
        self.lock().by_id.get(id).map(|h| Arc::clone(&h.bytes))
    }

    fn fetched(&self) -> std::sync::MutexGuard<'_, Fetched> {
        self.fetched.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A payload fetched earlier with this digest and size.
    fn reuse(&self, digest: &blake3::Hash, size: u64) -> Option<Arc<Vec<u8>>> {
        self.fetched()
            .by_digest
            .get(digest)
            .filter(|b| b.len() as u64 == size)
            .map(Arc::clone)
    }

    /// Starts the server on first use; returns the endpoints to advertise.
    async fn endpoints(self: &Arc<Self>) -> Result<Vec<SocketAddr>, String> {
        let store = Arc::clone(self);
        self.server
            .get_or_try_init(|| async move {
                let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0))
                    .await
                    .map_err(|e| format!("cannot open the payload server: {e}"))?;
                let port = listener
                    .local_addr()
                    .map_err(|e| format!("payload server address: {e}"))?
                    .port();
                let weak = Arc::downgrade(&store);
                tokio::spawn(async move {
                    while let Ok((conn, _)) = listener.accept().await {
                        let Some(store) = weak.upgrade() else { break };
                        tokio::spawn(async move {
                            if let Err(e) = serve(&store, conn).await {
                                tracing::debug!("payload request failed: {e}");
                            }
                        });
                    }
                });
                Ok(advertised_addresses(port))
            })
            .await
            .cloned()
    }
}

/// Every IPv4 address of this host, non-loopback first (they work from other hosts),
/// loopback last.
fn advertised_addresses(port: u16) -> Vec<SocketAddr> {
    let mut addrs: Vec<IpAddr> = if_addrs::get_if_addrs()
        .map(|ifs| {
            ifs.into_iter()
                .map(|i| i.ip())
                .filter(IpAddr::is_ipv4)
                .collect()
        })
        .unwrap_or_default();
    addrs.sort_by_key(IpAddr::is_loopback);
    addrs.dedup();
    if addrs.is_empty() {
        addrs.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    addrs
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect()
}

// Protocol: the client sends the 16-byte id; the server answers one status byte
// (0 = found, 1 = unknown), then for 0 the length (u64 LE) and the bytes.
async fn serve(store: &BlobStore, mut conn: TcpStream) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let mut id = [0u8; 16];
    conn.read_exact(&mut id).await?;
    match store.get(&Uuid::from_bytes(id)) {
        Some(bytes) => {
            let mut head = [0u8; 9];
            head[1..].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
            conn.write_all(&head).await?;
            conn.write_all(&bytes).await?;
        }
        None => conn.write_all(&[1]).await?,
    }
    conn.shutdown().await
}

async fn fetch_from(addr: SocketAddr, d: &Descriptor, max: usize) -> Result<Vec<u8>, String> {
    let mut conn = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    conn.set_nodelay(true).map_err(|e| format!("{addr}: {e}"))?;
    conn.write_all(d.id.as_bytes())
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let mut status = [0u8; 1];
    conn.read_exact(&mut status)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    if status[0] != 0 {
        return Err(format!("{addr}: payload {} is no longer held there", d.id));
    }
    let mut len = [0u8; 8];
    conn.read_exact(&mut len)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let len = u64::from_le_bytes(len);
    if len != d.size {
        return Err(format!(
            "{addr}: served {len} bytes, the descriptor says {}",
            d.size
        ));
    }
    let len = usize::try_from(len)
        .ok()
        .filter(|l| *l <= max)
        .ok_or_else(|| format!("payload of {len} bytes is larger than the {max}-byte limit"))?;
    let mut bytes = vec![0u8; len];
    conn.read_exact(&mut bytes)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    Ok(bytes)
}

/// Splices `descriptor` into `extra`; `None` if `extra` is not empty and not a JSON
/// object.
fn splice(extra: &[u8], descriptor: &Descriptor) -> Option<Vec<u8>> {
    let first = extra.iter().position(|b| !b.is_ascii_whitespace());
    let layout = match first {
        None if extra.is_empty() => Layout::Empty,
        None => return None,
        Some(i) if extra[i] == b'{' && i == 0 => {
            let after = extra[1..].iter().find(|b| !b.is_ascii_whitespace());
            if after == Some(&b'}') {
                Layout::Object
            } else {
                Layout::ObjectComma
            }
        }
        Some(_) => return None,
    };
    let descriptor = Descriptor {
        layout,
        ..descriptor.clone()
    };
    let json = serde_json::to_vec(&descriptor).ok()?;
    let mut out = Vec::with_capacity(PREFIX.len() + json.len() + extra.len() + 2);
    out.extend_from_slice(PREFIX.as_bytes());
    out.extend_from_slice(&json);
    match layout {
        Layout::Empty => out.push(b'}'),
        Layout::Object => out.extend_from_slice(&extra[1..]),
        Layout::ObjectComma => {
            out.push(b',');
            out.extend_from_slice(&extra[1..]);
        }
    }
    Some(out)
}

/// Finds a descriptor at the front of `extra`; returns it and the original bytes.
fn unsplice(extra: &[u8]) -> Option<Result<(Descriptor, Vec<u8>), String>> {
    let rest = extra.strip_prefix(PREFIX.as_bytes())?;
    let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<Descriptor>();
    let descriptor = match stream.next() {
        Some(Ok(d)) => d,
        Some(Err(e)) => return Some(Err(format!("bad {DESCRIPTOR_KEY} descriptor: {e}"))),
        None => return Some(Err(format!("empty {DESCRIPTOR_KEY} descriptor"))),
    };
    let tail = &rest[stream.byte_offset()..];
    let original = match descriptor.layout {
        Layout::Empty => Vec::new(),
        Layout::Object => [b"{".as_slice(), tail].concat(),
        Layout::ObjectComma => match tail.strip_prefix(b",") {
            Some(t) => [b"{".as_slice(), t].concat(),
            None => {
                return Some(Err(format!(
                    "{DESCRIPTOR_KEY}: no comma after the descriptor"
                )))
            }
        },
    };
    Some(Ok((descriptor, original)))
}

/// Moves a large `raw_model` into the store and leaves a descriptor in its place.
pub(crate) async fn detach(store: &Arc<BlobStore>, model: &mut MLModelImpl) -> Result<(), String> {
    if model.raw_model.len() <= store.config.inline_max {
        return Ok(());
    }
    let placeholder = Descriptor {
        id: Uuid::nil(),
        size: model.raw_model.len() as u64,
        endpoints: Vec::new(),
        layout: Layout::Empty,
        digest: None,
    };
    if splice(&model.extra_data, &placeholder).is_none() {
        tracing::warn!(
            task = %model.task_id,
            bytes = model.raw_model.len(),
            "extra_data is not a JSON object: sending raw_model inline (slow for large models)"
        );
        return Ok(());
    }
    let endpoints = store.endpoints().await?;
    let bytes = std::mem::take(&mut model.raw_model);
    let (id, digest) = store.insert(model.task_id, bytes);
    let descriptor = Descriptor {
        id,
        endpoints,
        digest: digest.map(|d| d.to_hex().to_string()),
        ..placeholder
    };
    if let Some(extra) = splice(&model.extra_data, &descriptor) {
        model.extra_data = extra;
    }
    Ok(())
}

/// Fetches the payload a descriptor points to and restores the model; a model without
/// a descriptor is left as it is.
pub(crate) async fn attach(store: &BlobStore, model: &mut MLModelImpl) -> Result<(), String> {
    let Some(found) = unsplice(&model.extra_data) else {
        return Ok(());
    };
    let (descriptor, original) = found?;
    let digest = descriptor
        .digest
        .as_deref()
        .map(blake3::Hash::from_hex)
        .transpose()
        .map_err(|e| format!("bad digest in the {DESCRIPTOR_KEY} descriptor: {e}"))?;
    if let Some(held) = digest.and_then(|d| store.reuse(&d, descriptor.size)) {
        model.raw_model = held.as_ref().clone();
        model.extra_data = original;
        return Ok(());
    }
    let max = store.config.max_payload;
    let fetch = async {
        let mut errors = Vec::new();
        for addr in &descriptor.endpoints {
            match fetch_from(*addr, &descriptor, max).await {
                Ok(bytes) => return Ok(bytes),
                Err(e) => errors.push(e),
            }
        }
        Err(if errors.is_empty() {
            "the descriptor lists no endpoint".to_owned()
        } else {
            errors.join("; ")
        })
    };
    let bytes = tokio::time::timeout(store.config.fetch_timeout, fetch)
        .await
        .map_err(|_| {
            format!(
                "no endpoint delivered it within {:?}",
                store.config.fetch_timeout
            )
        })??;
    model.raw_model = match digest {
        // A repeated payload: kept for the next repeat, and a copy for this sample.
        Some(digest) => {
            let held = Arc::new(bytes);
            store
                .fetched()
                .keep(digest, Arc::clone(&held), store.config.reuse_bytes);
            Arc::try_unwrap(held).unwrap_or_else(|a| a.as_ref().clone())
        }
        None => bytes,
    };
    model.extra_data = original;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptor() -> Descriptor {
        Descriptor {
            id: Uuid::from_u128(7),
            size: 100,
            endpoints: vec!["127.0.0.1:9".parse().expect("addr")],
            layout: Layout::Empty,
            digest: None,
        }
    }

    #[test]
    fn splicing_keeps_valid_json_and_restores_exact_bytes() {
        for original in [
            &b""[..],
            b"{}",
            b"{ }",
            br#"{"a":1,"b":[2]}"#,
            b"{\n \"x\": true}\n",
        ] {
            let spliced = splice(original, &descriptor()).expect("object");
            let json: serde_json::Value = serde_json::from_slice(&spliced).expect("valid JSON");
            assert!(json.get(DESCRIPTOR_KEY).is_some());
            let (d, back) = unsplice(&spliced).expect("found").expect("parsed");
            assert_eq!(d.id, descriptor().id);
            assert_eq!(back, original, "{}", String::from_utf8_lossy(original));
        }
    }

    #[test]
    fn non_objects_are_not_spliced() {
        for original in [&b"[1,2]"[..], b"not json", b" {}", b"  "] {
            assert!(splice(original, &descriptor()).is_none());
        }
        assert!(unsplice(br#"{"a":1}"#).is_none());
    }

    #[test]
    fn a_broken_descriptor_is_an_error() {
        let text = format!("{PREFIX}{{\"id\":3}}}}");
        let err = unsplice(text.as_bytes())
            .expect("found")
            .expect_err("broken");
        assert!(err.contains(DESCRIPTOR_KEY), "{err}");
    }

    #[test]
    fn store_keeps_latest_per_task_and_respects_its_byte_limit() {
        let store = BlobStore::new(BlobConfig {
            cache_bytes: 250,
            ..BlobConfig::default()
        });
        let t1 = TaskIdImpl::new(1, 1);
        let (a, _) = store.insert(t1, vec![0; 100]);
        let (b, _) = store.insert(t1, vec![1; 100]);
        assert!(
            store.get(&a).is_none(),
            "replaced by the newer payload of the same task"
        );
        let (c, _) = store.insert(TaskIdImpl::new(2, 1), vec![2; 100]);
        let (d, _) = store.insert(TaskIdImpl::new(3, 1), vec![3; 100]);
        assert!(
            store.get(&b).is_none(),
            "oldest evicted over the byte limit"
        );
        assert!(store.get(&c).is_some() && store.get(&d).is_some());
    }

    fn big_model(task: u32, fill: u8) -> MLModelImpl {
        MLModelImpl {
            model: "m".into(),
            raw_model: (0..100_000u32).map(|i| (i as u8) ^ fill).collect(),
            extra_data: br#"{"k":1}"#.to_vec(),
            task_id: TaskIdImpl::new(task, 1),
            ..Default::default()
        }
    }

    fn digest_of(model: &MLModelImpl) -> Option<String> {
        unsplice(&model.extra_data)
            .expect("found")
            .expect("parsed")
            .0
            .digest
    }

    #[tokio::test]
    async fn a_repeated_payload_is_put_back_from_the_readers_copy_without_a_fetch() {
        let writer = BlobStore::new(BlobConfig::default());
        let reader = BlobStore::new(BlobConfig::default());
        // Sent once: no digest, fetched, nothing kept.
        let mut first = big_model(1, 0);
        detach(&writer, &mut first).await.expect("detach");
        assert!(first.raw_model.is_empty());
        assert_eq!(digest_of(&first), None, "a payload sent once has no digest");
        attach(&reader, &mut first).await.expect("fetched");
        assert_eq!(first, big_model(1, 0));
        assert!(reader.fetched().by_digest.is_empty());
        // Sent again: a digest, fetched once more, and kept.
        let mut second = big_model(2, 0);
        detach(&writer, &mut second).await.expect("detach");
        let digest = digest_of(&second).expect("a repeat has a digest");
        assert_eq!(
            digest,
            blake3::hash(&big_model(2, 0).raw_model).to_hex().as_str()
        );
        attach(&reader, &mut second).await.expect("fetched");
        assert_eq!(second, big_model(2, 0));
        // A third time, from a writer that no longer serves it: the reader's copy.
        let mut third = big_model(3, 0);
        detach(&writer, &mut third).await.expect("detach");
        writer.lock().by_id.clear();
        attach(&reader, &mut third).await.expect("reused");
        assert_eq!(third, big_model(3, 0));
        // Other bytes are not in the reader's hands: fetched, and gone from the writer.
        let mut other = big_model(4, 9);
        detach(&writer, &mut other).await.expect("detach");
        writer.lock().by_id.clear();
        let err = attach(&reader, &mut other).await.expect_err("not held");
        assert!(err.contains("no longer held"), "{err}");
    }

    #[test]
    fn repeats_share_one_copy_and_differing_bytes_get_no_digest() {
        let store = BlobStore::new(BlobConfig::default());
        let t = |p| TaskIdImpl::new(p, 1);
        let (a, none) = store.insert(t(1), vec![5; 1000]);
        assert_eq!(none, None);
        let mut almost = vec![5; 1000];
        almost[999] = 6;
        assert_eq!(store.insert(t(2), almost).1, None, "one byte differs");
        let (b, some) = store.insert(t(3), vec![5; 1000]);
        assert_eq!(some, Some(blake3::hash(&[5; 1000])));
        let (x, y) = (store.get(&a).expect("a"), store.get(&b).expect("b"));
        assert!(Arc::ptr_eq(&x, &y), "the repeat shares the earlier copy");
    }

    #[tokio::test]
    async fn a_descriptor_with_a_malformed_digest_is_an_error_naming_it() {
        let reader = BlobStore::new(BlobConfig::default());
        let d = Descriptor {
            digest: Some("not hex".into()),
            ..descriptor()
        };
        let mut model = MLModelImpl {
            extra_data: splice(b"{}", &d).expect("splice"),
            ..Default::default()
        };
        let err = attach(&reader, &mut model).await.expect_err("malformed");
        assert!(
            err.contains("bad digest") && err.contains(DESCRIPTOR_KEY),
            "{err}"
        );
    }

    #[test]
    fn fetched_payloads_keep_to_their_byte_limit() {
        let mut f = Fetched::default();
        let h = |n: u8| blake3::hash(&[n]);
        f.keep(h(1), Arc::new(vec![1; 100]), 250);
        f.keep(h(2), Arc::new(vec![2; 100]), 250);
        f.keep(h(3), Arc::new(vec![3; 100]), 250);
        f.keep(h(4), Arc::new(vec![4; 300]), 250);
        assert!(!f.by_digest.contains_key(&h(1)), "oldest evicted");
        assert!(f.by_digest.contains_key(&h(2)) && f.by_digest.contains_key(&h(3)));
        assert!(!f.by_digest.contains_key(&h(4)), "larger than the limit");
        assert_eq!(f.bytes, 200);
    }
}
