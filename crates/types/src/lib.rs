//! The SustainML wire contract, in Rust.
//!
//! This crate mirrors `idl/sustainml.idl` (the reference framework's `typesImpl.idl`):
//!
//! - [`data`]: one serde type per IDL struct, field for field, in IDL order;
//! - [`enums`]: the IDL enums, encoded as 32-bit enumerator indices;
//! - [`codec`]: XCDR1 little-endian encoding with the `00 01 00 00` encapsulation
//!   header, byte-identical to Fast DDS 2.9, and a decoder that rejects bad payloads
//!   with an error naming what is wrong;
//! - [`key`]: the `@key` of every type and its RTPS instance key hash;
//! - [`topics`]: the topic table (name ↔ type name);
//! - [`node`]: node names and the reference's `NodeID` values.
//!
//! It has no DDS dependency: `sustainml-dds` carries these types over rustdds, and tools
//! that only encode or decode (fixtures, `topic echo`) can use this crate alone.
#![warn(missing_docs)]

pub mod codec;
pub mod data;
pub mod enums;
pub mod extra_data;
pub mod key;
pub mod node;
pub mod samples;
pub mod topics;

pub use codec::{decode, decode_body, encode, encode_body, DecodeError, Encapsulation};
pub use data::{
    AppRequirementsImpl, CO2FootprintImpl, HWConstraintsImpl, HWResourceImpl, MLModelImpl,
    MLModelMetadataImpl, NodeControlImpl, NodeStatusImpl, RequestTypeImpl, ResponseTypeImpl,
    TaskIdImpl, UserInputImpl,
};
pub use enums::{CmdNode, CmdTask, ErrorCode, Status, TaskStatus};
pub use key::{KeyFields, KeyHash, NodeKey, ServiceKey, TaskData, WireType};
pub use node::{NodeId, NodeName};
pub use topics::{TopicInfo, TOPICS};
