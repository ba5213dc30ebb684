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
//! Instance keys are [`InstanceKey`], whose key hash is the one `sustainml-types`
//! computes (checked against Fast DDS's in the golden tests).

use std::marker::PhantomData;

use bytes::Bytes;
use rustdds::cdr_encoding_size::{CdrEncodingMaxSize, CdrEncodingSize};
use rustdds::dds::key::KeyHash as RtpsKeyHash;
use rustdds::{no_key, with_key, Key, Keyed, RepresentationIdentifier};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
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
        slot: u8,
    },
}

/// A key: the type's key, or one of [`UNDECODABLE_SLOTS`] instances that undecodable
/// samples rotate through. Readers keep one sample per instance, so rotating keeps a
/// burst of bad samples from hiding one another (each gets its warning), while the
/// number of instances they can create stays bounded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum InstanceKey<K> {
    Key(K),
    Undecodable(u8),
}

/// How many instances undecodable samples rotate through.
const UNDECODABLE_SLOTS: u8 = 64;

static NEXT_UNDECODABLE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

impl<T: WireType> Keyed for Outgoing<T> {
    type K = InstanceKey<T::Key>;
    fn key(&self) -> Self::K {
        InstanceKey::Key(self.0.key())
    }
}

impl<T: WireType> Keyed for Incoming<T> {
    type K = InstanceKey<T::Key>;
    fn key(&self) -> Self::K {
        match self {
            Incoming::Value(v) => InstanceKey::Key(v.key()),
            Incoming::Undecodable { slot, .. } => InstanceKey::Undecodable(*slot),
        }
    }
}

impl<K: Serialize> Serialize for InstanceKey<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            InstanceKey::Key(k) => k.serialize(serializer),
            InstanceKey::Undecodable(_) => serializer.serialize_unit(),
        }
    }
}

impl<'de, K: Deserialize<'de>> Deserialize<'de> for InstanceKey<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        K::deserialize(deserializer).map(InstanceKey::Key)
    }
}

impl<K> CdrEncodingSize for InstanceKey<K> {
    fn cdr_encoding_max_size() -> CdrEncodingMaxSize {
        CdrEncodingMaxSize::Unbounded
    }
}

impl<K: KeyFields> Key for InstanceKey<K> {
    fn hash_key(&self, _force_md5: bool) -> RtpsKeyHash {
        let bytes = match self {
            InstanceKey::Key(k) => k.key_hash().0,
            InstanceKey::Undecodable(slot) => {
                let mut hash = [0xff; 16];
                hash[15] = *slot;
                hash
            }
        };
        // rustdds exposes no other constructor; 16 bytes always convert.
        RtpsKeyHash::from_pl_cdr_bytes(bytes.to_vec()).unwrap_or_else(|_| RtpsKeyHash::zero())
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
    fn key_to_bytes(key: &InstanceKey<T::Key>) -> Result<Bytes, AdapterError> {
        codec::encode_body(key)
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
                slot: NEXT_UNDECODABLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    % UNDECODABLE_SLOTS,
            },
        })
    }
}

impl<'de, T: WireType> with_key::Decode<'de, Incoming<T>, InstanceKey<T::Key>> for WireDecoder<T> {
    fn decode_key_bytes(
        self,
        input: &'de [u8],
        encoding: RepresentationIdentifier,
    ) -> Result<InstanceKey<T::Key>, AdapterError> {
        codec::decode_body::<T::Key>(encoding.to_bytes(), input)
            .map(InstanceKey::Key)
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
    type DecodedKey = InstanceKey<T::Key>;

    fn transform_decoded_key(key: InstanceKey<T::Key>) -> InstanceKey<T::Key> {
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
