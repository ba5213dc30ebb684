//! The IDL enums.
//!
//! On the wire an enum is its enumerator's index as an unsigned 32-bit integer, the first
//! enumerator being 0 and the default. Decoding an index the IDL does not define is an
//! error that names the enum and the value.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Declares an IDL enum: the Rust variants, their IDL enumerator names, and the
/// encoding as a 32-bit index.
macro_rules! idl_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $idl:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every enumerator, in IDL order (index = wire value).
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The IDL enumerator names, in IDL order.
            pub const IDL_NAMES: &'static [&'static str] = &[$($idl),+];
            /// The IDL name of this enum.
            pub const IDL_TYPE: &'static str = stringify!($name);

            /// The enumerator's IDL name, e.g. `NODE_IDLE`.
            pub fn idl_name(self) -> &'static str {
                Self::IDL_NAMES[self as usize]
            }

            /// The wire value (the enumerator's index).
            pub fn index(self) -> u32 {
                self as u32
            }

            /// The enumerator with this wire value, if the IDL defines one.
            pub fn from_index(index: u32) -> Option<Self> {
                Self::ALL.get(usize::try_from(index).ok()?).copied()
            }

            /// The enumerator with this IDL name, if any.
            pub fn from_idl_name(name: &str) -> Option<Self> {
                Self::IDL_NAMES.iter().position(|n| *n == name).map(|i| Self::ALL[i])
            }
        }

        impl Default for $name {
            /// The first enumerator, as in the IDL.
            fn default() -> Self {
                Self::ALL[0]
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.idl_name())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                // A newtype carrying the IDL type name: CDR writes the bare u32, and
                // schema tools can still tell which enum the field holds.
                serializer.serialize_newtype_struct(Self::IDL_TYPE, &self.index())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let index = u32::deserialize(deserializer)?;
                Self::from_index(index).ok_or_else(|| {
                    de::Error::custom(format_args!(
                        "{} has no enumerator with value {} (it has {})",
                        Self::IDL_TYPE,
                        index,
                        Self::ALL.len()
                    ))
                })
            }
        }
    };
}

idl_enum! {
    /// A node's state, as published on `/sustainml/status`.
    Status {
        /// The node is gone (set by observers, e.g. the orchestrator, on participant loss).
        Inactive = "NODE_INACTIVE",
        /// The node's last task failed.
        Error = "NODE_ERROR",
        /// Ready for tasks.
        Idle = "NODE_IDLE",
        /// Starting up.
        Initializing = "NODE_INITIALIZING",
        /// Running a task.
        Running = "NODE_RUNNING",
        /// Shutting down.
        Terminating = "NODE_TERMINATING",
    }
}

idl_enum! {
    /// The state of one task in a node.
    TaskStatus {
        /// Waiting for inputs.
        Waiting = "TASK_WAITING",
        /// The task failed.
        Error = "TASK_ERROR",
        /// The callback is running.
        Running = "TASK_RUNNING",
        /// The output was published.
        Succeeded = "TASK_SUCCEEDED",
    }
}

idl_enum! {
    /// Error code of a status or a configuration response.
    ErrorCode {
        /// No error.
        NoError = "NO_ERROR",
        /// Something failed; the accompanying text says what.
        InternalError = "INTERNAL_ERROR",
    }
}

idl_enum! {
    /// A command to a whole node.
    CmdNode {
        /// No node command.
        NoCmd = "NO_CMD_NODE",
        /// Resume taking tasks.
        Start = "START_NODE",
        /// Stop taking tasks.
        Stop = "STOP_NODE",
        /// Drop pending tasks.
        Reset = "RESET_NODE",
        /// Exit cleanly.
        Terminate = "TERMINATE_NODE",
    }
}

idl_enum! {
    /// A command to one task.
    CmdTask {
        /// No task command.
        NoCmd = "NO_CMD_TASK",
        /// Stop the task.
        Stop = "STOP_TASK",
        /// Forget the task's inputs.
        Reset = "RESET_TASK",
        /// Cancel the running callback.
        Preempt = "PREEMPT_TASK",
        /// Terminate the task.
        Terminate = "TERMINATE_TASK",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_indices_round_trip() {
        assert_eq!(Status::Idle.index(), 2);
        assert_eq!(Status::from_index(5), Some(Status::Terminating));
        assert_eq!(Status::from_index(6), None);
        assert_eq!(
            CmdTask::from_idl_name("PREEMPT_TASK"),
            Some(CmdTask::Preempt)
        );
        assert_eq!(ErrorCode::default(), ErrorCode::NoError);
        assert_eq!(TaskStatus::Succeeded.to_string(), "TASK_SUCCEEDED");
    }
}
