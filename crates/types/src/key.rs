//! The `@key` of every type and its RTPS instance key hash.
//!
//! The key hash is the big-endian CDR encoding of the key fields in IDL order, padded
//! with zeros to 16 bytes when the key can never exceed 16 bytes (task ids, service
//! ids), and the MD5 digest of that encoding otherwise (keys holding a string: node
//! status and control). Fast DDS and Cyclone writers do not send the hash inline, so a
//! reader computes it from the payload with [`KeyFields::key_hash`].

use std::fmt;
use std::hash::Hash;

use byteorder::BigEndian;
use cdr_encoding::CdrSerializer;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::data::*;

/// An RTPS instance key hash (16 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct KeyHash(pub [u8; 16]);

impl fmt::Display for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({self})")
    }
}

/// The key fields of a type, as a value.
pub trait KeyFields:
    Serialize + DeserializeOwned + Clone + Ord + Hash + fmt::Debug + Send + Sync + 'static
{
    /// The most bytes the key's CDR encoding can take, `None` if unbounded.
    const MAX_CDR_SIZE: Option<usize>;

    /// The key's big-endian CDR encoding (what the key hash is computed from).
    fn cdr_be(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        // Serializing integers and strings into a Vec cannot fail.
        let _ = self.serialize(&mut CdrSerializer::<_, BigEndian>::new(&mut out));
        out
    }

    /// The RTPS instance key hash.
    fn key_hash(&self) -> KeyHash {
        let bytes = self.cdr_be();
        match Self::MAX_CDR_SIZE {
            Some(max) if max <= 16 => {
                let mut hash = [0u8; 16];
                hash[..bytes.len()].copy_from_slice(&bytes);
                KeyHash(hash)
            }
            _ => KeyHash(md5::compute(&bytes).0),
        }
    }
}

impl KeyFields for TaskIdImpl {
    const MAX_CDR_SIZE: Option<usize> = Some(8);
}

/// Key of [`NodeStatusImpl`] and [`NodeControlImpl`]: a node name, then a task id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeKey {
    /// `node_name` (status) or `source_node` (control).
    pub node: String,
    /// The task.
    pub task_id: TaskIdImpl,
}

impl KeyFields for NodeKey {
    const MAX_CDR_SIZE: Option<usize> = None;
}

/// Key of [`RequestTypeImpl`] and [`ResponseTypeImpl`].
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct ServiceKey {
    /// The node addressed.
    pub node_id: i32,
    /// The requester's transaction.
    pub transaction_id: i32,
}

impl KeyFields for ServiceKey {
    const MAX_CDR_SIZE: Option<usize> = Some(8);
}

/// A type published on a SustainML topic.
pub trait WireType:
    Serialize + DeserializeOwned + Clone + PartialEq + fmt::Debug + Send + Sync + 'static
{
    /// The DDS type name (the IDL struct name, no module).
    const TYPE_NAME: &'static str;
    /// The IDL names of the `@key` fields, in order.
    const KEY_FIELDS: &'static [&'static str];
    /// The key value.
    type Key: KeyFields;
    /// This sample's key.
    fn key(&self) -> Self::Key;
}

/// A type that carries a task id (every type but the configuration service's).
pub trait TaskData: WireType {
    /// The task this sample belongs to.
    fn task_id(&self) -> TaskIdImpl;
    /// Sets the task this sample belongs to.
    fn set_task_id(&mut self, task_id: TaskIdImpl);
}

macro_rules! task_keyed {
    ($($ty:ident),+) => {$(
        impl WireType for $ty {
            const TYPE_NAME: &'static str = stringify!($ty);
            const KEY_FIELDS: &'static [&'static str] = &["task_id"];
            type Key = TaskIdImpl;
            fn key(&self) -> TaskIdImpl {
                self.task_id
            }
        }
        impl TaskData for $ty {
            fn task_id(&self) -> TaskIdImpl {
                self.task_id
            }
            fn set_task_id(&mut self, task_id: TaskIdImpl) {
                self.task_id = task_id;
            }
        }
    )+};
}

task_keyed!(
    UserInputImpl,
    MLModelMetadataImpl,
    AppRequirementsImpl,
    HWConstraintsImpl,
    MLModelImpl,
    HWResourceImpl,
    CO2FootprintImpl
);

macro_rules! node_keyed {
    ($ty:ident, $name_field:ident) => {
        impl WireType for $ty {
            const TYPE_NAME: &'static str = stringify!($ty);
            const KEY_FIELDS: &'static [&'static str] = &[stringify!($name_field), "task_id"];
            type Key = NodeKey;
            fn key(&self) -> NodeKey {
                NodeKey {
                    node: self.$name_field.clone(),
                    task_id: self.task_id,
                }
            }
        }
        impl TaskData for $ty {
            fn task_id(&self) -> TaskIdImpl {
                self.task_id
            }
            fn set_task_id(&mut self, task_id: TaskIdImpl) {
                self.task_id = task_id;
            }
        }
    };
}

node_keyed!(NodeStatusImpl, node_name);
node_keyed!(NodeControlImpl, source_node);

macro_rules! service_keyed {
    ($($ty:ident),+) => {$(
        impl WireType for $ty {
            const TYPE_NAME: &'static str = stringify!($ty);
            const KEY_FIELDS: &'static [&'static str] = &["node_id", "transaction_id"];
            type Key = ServiceKey;
            fn key(&self) -> ServiceKey {
                ServiceKey {
                    node_id: self.node_id,
                    transaction_id: self.transaction_id,
                }
            }
        }
    )+};
}

service_keyed!(RequestTypeImpl, ResponseTypeImpl);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_key_hash_is_big_endian_and_zero_padded() {
        let hash = TaskIdImpl::new(1, 2).key_hash();
        assert_eq!(hash.to_string(), "00000001000000020000000000000000");
    }

    #[test]
    fn string_keys_are_hashed_with_md5() {
        let key = NodeKey {
            node: "ML_MODEL_NODE".into(),
            task_id: TaskIdImpl::new(7, 3),
        };
        // len 14 ("ML_MODEL_NODE" + NUL), 2 bytes padding, then two u32.
        let be = key.cdr_be();
        assert_eq!(be.len(), 4 + 14 + 2 + 8);
        assert_eq!(key.key_hash().0, md5::compute(&be).0);
    }
}
