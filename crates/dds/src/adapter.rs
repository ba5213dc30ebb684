//! Glue between our codec and rustdds.
//!
//! rustdds needs its own `Keyed` trait on the sample type and serializer adapters; the
//! orphan rule forbids implementing them on `sustainml-types`' structs, so samples travel
//! in two local wrappers:
//!
//! - [`Outgoing<T>`] on writers, encoded by [`sustainml_types::codec`];
//! - [`Incoming<T>`] on readers, which *never* fails to decode inside rustdds: a bad
//!   payload becomes `Incoming::Undecodable`, so that our reader sees it together with
//!   the writer's GUID and can warn about it precisely, then go on.
//!
//! Writers key instances by [`TaskKey`], whose key hash is the one `sustainml-types`
//! computes (checked against Fast DDS's in the golden tests); readers key them by a
//! bounded [`ReaderSlot`] so that their memory does not grow with every task id.

use std::marker::PhantomData;

use bytes::Bytes;
use rustdds::cdr_encoding_size::{CdrEncodingMaxSize, CdrEncodingSize};
use rustdds::dds::key::KeyHash as RtpsKeyHash;
use rustdds::{no_key, with_key, Key, Keyed, RepresentationIdentifier};
use serde::{Serialize, Serializer};
use sustainml_types::{codec, DecodeError, KeyFields, WireType};

/// A sample to write.
#[derive(Debug)]
pub(crate) struct Outgoing<T>(pub T);

/// A sample as read: decoded, or the reason it could not be.
#[derive(Debug)]
pub(crate) enum Incoming<T> {
    Value(T),
    Undecodable {
        len: usize,
        error: DecodeError,
        slot: ReaderSlot,
    },
}

/// A writer's instance key: the type's own key, hashed as Fast DDS hashes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct TaskKey<K>(pub K);

impl<K: Serialize> Serialize for TaskKey<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<K> CdrEncodingSize for TaskKey<K> {
    fn cdr_encoding_max_size() -> CdrEncodingMaxSize {
        CdrEncodingMaxSize::Unbounded
    }
}

impl<K: KeyFields> Key for TaskKey<K> {
    fn hash_key(&self, _force_md5: bool) -> RtpsKeyHash {
        rtps_hash(self.0.key_hash().0)
    }
}

/// A reader's instance key: one of a bounded set of slots instead of the task id.
///
/// rustdds keeps bookkeeping for every instance a reader has ever seen (its instance map
/// and key-hash map are never pruned), so a reader keyed by task id grows with every
/// task for as long as the process lives. Readers key by slot instead: a decoded sample
/// lands in one of [`VALUE_SLOTS`] slots chosen from its key hash; an undecodable one in
/// one of [`UNDECODABLE_SLOTS`] more, taken in turn. Reader history keeps
/// [`crate::qos::SLOT_DEPTH`] samples per slot, so tasks sharing a slot never hide one
/// another while the reader keeps up; the node joins inputs by the task id inside the
/// sample, never by the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ReaderSlot(u16);

/// Slots for decodable samples.
pub(crate) const VALUE_SLOTS: u16 = 1024;
/// Slots undecodable samples rotate through.
const UNDECODABLE_SLOTS: u16 = 64;

static NEXT_UNDECODABLE: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);

impl ReaderSlot {
    fn of<K: KeyFields>(key: &K) -> Self {
        // FNV-1a over the key hash: cheap, and spreads consecutive task ids.
        let hash = key.key_hash().0.iter().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
        });
        // The remainder is below VALUE_SLOTS, so it fits.
        Self((hash % u32::from(VALUE_SLOTS)) as u16)
    }

    fn undecodable() -> Self {
        let turn = NEXT_UNDECODABLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(VALUE_SLOTS + turn % UNDECODABLE_SLOTS)
    }
}

impl Serialize for ReaderSlot {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u16(self.0)
    }
}

impl CdrEncodingSize for ReaderSlot {
    fn cdr_encoding_max_size() -> CdrEncodingMaxSize {
        CdrEncodingMaxSize::Bytes(2)
    }
}

impl Key for ReaderSlot {
    fn hash_key(&self, _force_md5: bool) -> RtpsKeyHash {
        let mut hash = [0xfe; 16];
        hash[14..].copy_from_slice(&self.0.to_be_bytes());
        rtps_hash(hash)
    }
}

fn rtps_hash(bytes: [u8; 16]) -> RtpsKeyHash {
    // rustdds exposes no other constructor; 16 bytes always convert.
    RtpsKeyHash::from_pl_cdr_bytes(bytes.to_vec()).unwrap_or_else(|_| RtpsKeyHash::zero())
}

impl<T: WireType> Keyed for Outgoing<T> {
    type K = TaskKey<T::Key>;
    fn key(&self) -> Self::K {
        TaskKey(self.0.key())
    }
}

impl<T: WireType> Keyed for Incoming<T> {
    type K = ReaderSlot;
    fn key(&self) -> ReaderSlot {
        match self {
            Incoming::Value(v) => ReaderSlot::of(&v.key()),
            Incoming::Undecodable { slot, .. } => *slot,
        }
    }
}

/// Error type of the adapters (encoding only: decoding never fails).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct AdapterError(String);

/// Serializer/deserializer adapter for type `T`.
#[derive(Debug)]
pub(crate) struct WireAdapter<T>(PhantomData<T>);

/// Every representation identifier rustdds knows, so that rustdds hands us every
/// payload and our codec decides (and explains) what it cannot read.
const ALL_ENCODINGS: &[RepresentationIdentifier] = &[
    RepresentationIdentifier::CDR_BE,
    RepresentationIdentifier::CDR_LE,
    RepresentationIdentifier::PL_CDR_BE,
    RepresentationIdentifier::PL_CDR_LE,
    RepresentationIdentifier::CDR2_BE,
    RepresentationIdentifier::CDR2_LE,
    RepresentationIdentifier::PL_CDR2_BE,
    RepresentationIdentifier::PL_CDR2_LE,
    RepresentationIdentifier::D_CDR_BE,
    RepresentationIdentifier::D_CDR_LE,
    RepresentationIdentifier::XML,
    RepresentationIdentifier::XCDR2_BE,
    RepresentationIdentifier::XCDR2_LE,
    RepresentationIdentifier::D_CDR2_BE,
    RepresentationIdentifier::D_CDR2_LE,
    RepresentationIdentifier::PL_XCDR2_BE,
    RepresentationIdentifier::PL_XCDR2_LE,
];

impl<T: WireType> no_key::SerializerAdapter<Outgoing<T>> for WireAdapter<T> {
    type Error = AdapterError;

    fn output_encoding() -> RepresentationIdentifier {
        RepresentationIdentifier::CDR_LE
    }

    fn to_bytes(value: &Outgoing<T>) -> Result<Bytes, AdapterError> {
        codec::encode_body(&value.0)
            .map(Bytes::from)
            .map_err(|e| AdapterError(e.to_string()))
    }
}

impl<T: WireType> with_key::SerializerAdapter<Outgoing<T>> for WireAdapter<T> {
    fn key_to_bytes(key: &TaskKey<T::Key>) -> Result<Bytes, AdapterError> {
        codec::encode_body(&key.0)
            .map(Bytes::from)
            .map_err(|e| AdapterError(e.to_string()))
    }
}

/// The decoder: our codec, infallible at rustdds's level.
#[derive(Debug)]
pub(crate) struct WireDecoder<T>(PhantomData<T>);

impl<T> Clone for WireDecoder<T> {
    fn clone(&self) -> Self {
        Self(PhantomData)
    }
}

impl<'de, T: WireType> no_key::Decode<'de, Incoming<T>> for WireDecoder<T> {
    type Error = AdapterError;

    fn decode_bytes(
        self,
        input: &'de [u8],
        encoding: RepresentationIdentifier,
    ) -> Result<Incoming<T>, AdapterError> {
        Ok(match codec::decode_body::<T>(encoding.to_bytes(), input) {
            Ok(v) => Incoming::Value(v),
            Err(error) => Incoming::Undecodable {
                len: input.len(),
                error,
                slot: ReaderSlot::undecodable(),
            },
        })
    }
}

impl<'de, T: WireType> with_key::Decode<'de, Incoming<T>, ReaderSlot> for WireDecoder<T> {
    fn decode_key_bytes(
        self,
        input: &'de [u8],
        encoding: RepresentationIdentifier,
    ) -> Result<ReaderSlot, AdapterError> {
        codec::decode_body::<T::Key>(encoding.to_bytes(), input)
            .map(|key| ReaderSlot::of(&key))
            .map_err(|e| AdapterError(e.to_string()))
    }
}

impl<T: WireType> no_key::DeserializerAdapter<Incoming<T>> for WireAdapter<T> {
    type Error = AdapterError;
    type Decoded = Incoming<T>;

    fn supported_encodings() -> &'static [RepresentationIdentifier] {
        ALL_ENCODINGS
    }

    fn transform_decoded(decoded: Incoming<T>) -> Incoming<T> {
        decoded
    }
}

impl<T: WireType> with_key::DeserializerAdapter<Incoming<T>> for WireAdapter<T> {
    type DecodedKey = ReaderSlot;

    fn transform_decoded_key(key: ReaderSlot) -> ReaderSlot {
        key
    }
}

impl<T: WireType> no_key::DefaultDecoder<Incoming<T>> for WireAdapter<T> {
    type Decoder = WireDecoder<T>;
    const DECODER: WireDecoder<T> = WireDecoder(PhantomData);
}

impl<T: WireType> with_key::DefaultDecoder<Incoming<T>> for WireAdapter<T> {
    type Decoder = WireDecoder<T>;
    const DECODER: WireDecoder<T> = WireDecoder(PhantomData);
}

/// A payload written as given, for tools that must send what a broken or foreign
/// writer would (tests of bad input, fuzzing).
#[derive(Debug)]
pub(crate) struct RawSample {
    pub body: Vec<u8>,
    pub instance: u64,
}

impl Keyed for RawSample {
    type K = u64;
    fn key(&self) -> u64 {
        self.instance
    }
}

/// Writes [`RawSample`]s with representation identifier `ID`.
#[derive(Debug)]
pub(crate) struct RawAdapter<const ID: u16>;

impl<const ID: u16> no_key::SerializerAdapter<RawSample> for RawAdapter<ID> {
    type Error = AdapterError;

    fn output_encoding() -> RepresentationIdentifier {
        RepresentationIdentifier::from_bytes(&ID.to_be_bytes())
            .unwrap_or(RepresentationIdentifier::CDR_LE)
    }

    fn to_bytes(value: &RawSample) -> Result<Bytes, AdapterError> {
        Ok(Bytes::from(value.body.clone()))
    }
}

impl<const ID: u16> with_key::SerializerAdapter<RawSample> for RawAdapter<ID> {
    fn key_to_bytes(key: &u64) -> Result<Bytes, AdapterError> {
        Ok(Bytes::copy_from_slice(&key.to_le_bytes()))
    }
}
