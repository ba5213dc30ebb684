//! XCDR1 encoding, byte-identical to Fast DDS 2.9.
//!
//! A serialized payload is a 4-byte encapsulation header followed by the body. We always
//! write `00 01 00 00` (plain CDR, little-endian) and read plain CDR in either byte
//! order. XCDR2 and parameter-list encodings are refused with an error that says so
//! (Fast DDS 2.9 and the reference never send them). Alignment is relative to the start
//! of the body, as in Fast DDS.
//!
//! The body codec is `cdr-encoding`, the same one rustdds uses, so there is one CDR
//! implementation in the project. Its decoder checks every length against the bytes that
//! remain before copying, so a forged sequence length cannot make us allocate it.

use std::fmt;

use byteorder::{BigEndian, LittleEndian};
use cdr_encoding::{CdrDeserializer, CdrSerializer};
use serde::{de::DeserializeOwned, Serialize};

/// Size of the encapsulation header.
pub const HEADER_LEN: usize = 4;

/// The payload encodings we read. We write only [`Encapsulation::CdrLe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encapsulation {
    /// Plain CDR (XCDR1), big-endian: `00 00`.
    CdrBe,
    /// Plain CDR (XCDR1), little-endian: `00 01`.
    CdrLe,
}

impl Encapsulation {
    /// The two identifier bytes of the header.
    pub fn id(self) -> [u8; 2] {
        match self {
            Self::CdrBe => [0x00, 0x00],
            Self::CdrLe => [0x00, 0x01],
        }
    }

    /// Recognises a representation identifier; an error names any we do not read.
    pub fn from_id(id: [u8; 2]) -> Result<Self, DecodeError> {
        match id {
            [0x00, 0x00] => Ok(Self::CdrBe),
            [0x00, 0x01] => Ok(Self::CdrLe),
            other => Err(DecodeError::UnsupportedEncapsulation {
                id: other,
                name: representation_name(other),
            }),
        }
    }
}

/// The name of an RTPS representation identifier (DDS-XTypes 1.3, 7.6.3.1.2).
fn representation_name(id: [u8; 2]) -> &'static str {
    match u16::from_be_bytes(id) {
        0x0000 => "CDR_BE",
        0x0001 => "CDR_LE",
        0x0002 => "PL_CDR_BE",
        0x0003 => "PL_CDR_LE",
        0x0006 => "CDR2_BE (XCDR2)",
        0x0007 => "CDR2_LE (XCDR2)",
        0x0008 => "D_CDR2_BE (XCDR2)",
        0x0009 => "D_CDR2_LE (XCDR2)",
        0x000a => "PL_CDR2_BE (XCDR2)",
        0x000b => "PL_CDR2_LE (XCDR2)",
        0x0010 => "XML",
        0x0004 => "XML",
        _ => "unknown",
    }
}

/// Why a payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than the encapsulation header.
    #[error("payload of {len} bytes is shorter than the 4-byte encapsulation header")]
    MissingHeader {
        /// Payload length.
        len: usize,
    },
    /// An encapsulation other than plain CDR.
    #[error("unsupported encapsulation {:02x} {:02x} ({name}); only XCDR1 CDR_LE/CDR_BE is read", id[0], id[1])]
    UnsupportedEncapsulation {
        /// The representation identifier.
        id: [u8; 2],
        /// Its name.
        name: &'static str,
    },
    /// The body does not hold a valid value of the type.
    #[error("{type_name}: {reason}")]
    Body {
        /// The IDL type that was expected.
        type_name: &'static str,
        /// What was wrong (truncated, invalid UTF-8, bad enum value…).
        reason: String,
    },
}

/// Why a value could not be encoded (a string or sequence longer than 2^32-1 bytes).
#[derive(Debug, thiserror::Error)]
#[error("cannot encode {type_name}: {reason}")]
pub struct EncodeError {
    type_name: &'static str,
    reason: String,
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// Encodes the body only (no header), little-endian. rustdds adds the header itself.
pub fn encode_body<T: Serialize>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(64);
    encode_body_into(value, &mut out)?;
    Ok(out)
}

fn encode_body_into<T: Serialize>(value: &T, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let mut serializer = CdrSerializer::<_, LittleEndian>::new(out);
    value.serialize(&mut serializer).map_err(|e| EncodeError {
        type_name: short_type_name::<T>(),
        reason: e.to_string(),
    })
}

/// Encodes a complete payload: `00 01 00 00` then the little-endian body.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&Encapsulation::CdrLe.id());
    out.extend_from_slice(&[0, 0]);
    encode_body_into(value, &mut out)?;
    Ok(out)
}

/// Decodes a complete payload (header and body).
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, DecodeError> {
    if payload.len() < HEADER_LEN {
        return Err(DecodeError::MissingHeader { len: payload.len() });
    }
    let encapsulation = Encapsulation::from_id([payload[0], payload[1]])?;
    decode_body_as(encapsulation, &payload[HEADER_LEN..])
}

/// Decodes a body whose representation identifier arrived separately (as rustdds
/// gives it).
pub fn decode_body<T: DeserializeOwned>(id: [u8; 2], body: &[u8]) -> Result<T, DecodeError> {
    decode_body_as(Encapsulation::from_id(id)?, body)
}

fn decode_body_as<T: DeserializeOwned>(
    encapsulation: Encapsulation,
    body: &[u8],
) -> Result<T, DecodeError> {
    // Bytes after the value are ignored: XCDR1 appendable types may grow at the end,
    // and writers may pad the payload.
    let result = match encapsulation {
        Encapsulation::CdrLe => T::deserialize(&mut CdrDeserializer::<LittleEndian>::new(body)),
        Encapsulation::CdrBe => T::deserialize(&mut CdrDeserializer::<BigEndian>::new(body)),
    };
    result.map_err(|e| DecodeError::Body {
        type_name: short_type_name::<T>(),
        reason: describe(&e),
    })
}

fn describe(e: &cdr_encoding::Error) -> String {
    match e {
        cdr_encoding::Error::Eof => "truncated: the payload ends inside a field".to_owned(),
        cdr_encoding::Error::BadUTF8(u) => format!("a string is not valid UTF-8 ({u})"),
        other => other.to_string(),
    }
}

/// A payload rendered as lowercase hex, for logs and fixtures.
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{MLModelImpl, TaskIdImpl, UserInputImpl};

    fn sample() -> UserInputImpl {
        UserInputImpl {
            modality: "images".into(),
            inputs: vec!["image".into()],
            extra_data: b"{}".to_vec(),
            task_id: TaskIdImpl::new(3, 1),
            ..Default::default()
        }
    }

    #[test]
    fn round_trip_writes_cdr_le_header() {
        let bytes = encode(&sample()).expect("encode");
        assert_eq!(&bytes[..4], &[0, 1, 0, 0]);
        assert_eq!(decode::<UserInputImpl>(&bytes).expect("decode"), sample());
    }

    #[test]
    fn truncated_payload_is_an_error_naming_the_type() {
        let bytes = encode(&sample()).expect("encode");
        for cut in [5, 12, bytes.len() - 1] {
            let err = decode::<UserInputImpl>(&bytes[..cut]).expect_err("truncated");
            let text = err.to_string();
            assert!(text.starts_with("UserInputImpl: truncated"), "{text}");
        }
    }

    #[test]
    fn missing_header_is_an_error() {
        let err = decode::<TaskIdImpl>(&[0, 1]).expect_err("short");
        assert_eq!(err, DecodeError::MissingHeader { len: 2 });
    }

    #[test]
    fn xcdr2_and_unknown_encapsulations_are_refused_by_name() {
        let mut bytes = encode(&sample()).expect("encode");
        bytes[1] = 0x07;
        let text = decode::<UserInputImpl>(&bytes)
            .expect_err("xcdr2")
            .to_string();
        assert!(text.contains("CDR2_LE (XCDR2)"), "{text}");
        bytes[1] = 0x03;
        let text = decode::<UserInputImpl>(&bytes).expect_err("pl").to_string();
        assert!(text.contains("PL_CDR_LE"), "{text}");
        bytes[0] = 0x7f;
        let text = decode::<UserInputImpl>(&bytes)
            .expect_err("unknown")
            .to_string();
        assert!(text.contains("7f 03 (unknown)"), "{text}");
    }

    #[test]
    fn absurd_sequence_length_fails_without_allocating_it() {
        // raw_model is the third field: after two empty strings (4+1 bytes, padded).
        let mut bytes = encode(&MLModelImpl::default()).expect("encode");
        // model_path "" = len 1 + NUL, pad 3, model "" = len 1 + NUL, pad 3, raw_model len.
        let at = HEADER_LEN + 16;
        bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = decode::<MLModelImpl>(&bytes).expect_err("absurd length");
        assert!(err.to_string().contains("truncated"), "{err}");
        // The same for a sequence of strings: element count u32::MAX.
        let mut bytes = encode(&sample()).expect("encode");
        let at = HEADER_LEN + 3 * 8; // three strings: "images" (4+7 → 12), "" (8), "" (8)
        let at = at + 4; // "images" takes 12 bytes, not 8
        bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = decode::<UserInputImpl>(&bytes).expect_err("absurd count");
        assert!(err.to_string().contains("UserInputImpl"), "{err}");
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut bytes = encode(&sample()).expect("encode");
        // "images" starts after the 4-byte length.
        bytes[HEADER_LEN + 4] = 0xff;
        let err = decode::<UserInputImpl>(&bytes).expect_err("utf8");
        assert!(err.to_string().contains("not valid UTF-8"), "{err}");
    }

    #[test]
    fn bad_enum_value_is_an_error_naming_the_enum() {
        let status = crate::data::NodeStatusImpl::default();
        let mut bytes = encode(&status).expect("encode");
        bytes[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&9u32.to_le_bytes());
        let err = decode::<crate::data::NodeStatusImpl>(&bytes).expect_err("enum");
        assert!(
            err.to_string()
                .contains("Status has no enumerator with value 9"),
            "{err}"
        );
    }

    #[test]
    fn big_endian_payloads_are_read() {
        let id = TaskIdImpl::new(7, 3);
        let be = [0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 3];
        assert_eq!(decode::<TaskIdImpl>(&be).expect("be"), id);
    }
}
