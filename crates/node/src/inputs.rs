//! Typed input sets: the tuple of samples one task's callback receives.

use std::any::Any;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use sustainml_dds::{Error, Participant};
use sustainml_types::topics::TopicInfo;
use sustainml_types::{
    AppRequirementsImpl, CO2FootprintImpl, HWConstraintsImpl, HWResourceImpl, MLModelImpl,
    MLModelMetadataImpl, TaskData, TaskIdImpl, UserInputImpl, WireType,
};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// One input sample, type-erased on its way to the join (runtime internals).
#[doc(hidden)]
#[derive(Debug)]
pub struct Arrival {
    pub(crate) slot: usize,
    pub(crate) task_id: TaskIdImpl,
    pub(crate) sample: Box<dyn Any + Send>,
}

/// Readers started for an input set (runtime internals).
#[doc(hidden)]
#[derive(Debug)]
pub struct Readers {
    pub(crate) tasks: Vec<JoinHandle<()>>,
    pub(crate) dropped: Vec<Arc<AtomicU64>>,
}

/// A tuple of input types, one per input topic, in callback order: `(UserInputImpl,)`,
/// `(MLModelImpl, AppRequirementsImpl, HWConstraintsImpl)`…, or [`AnyInputs`] for
/// inputs chosen at run time.
pub trait InputSet: Sized + Send + 'static {
    /// The DDS type names, in order; `None` for a set typed at run time, which takes
    /// any topics of the task data types ([`AnySample::TYPE_NAMES`]).
    fn type_names() -> Option<Vec<&'static str>>;

    #[doc(hidden)]
    fn spawn_readers(
        participant: &Participant,
        topics: &[TopicInfo],
        tx: mpsc::Sender<Arrival>,
    ) -> Result<Readers, Error>;

    #[doc(hidden)]
    fn from_slots(slots: Vec<Box<dyn Any + Send>>) -> Option<Self>;
}

fn spawn_reader<T: TaskData>(
    participant: &Participant,
    topic: TopicInfo,
    slot: usize,
    tx: mpsc::Sender<Arrival>,
    readers: &mut Readers,
    wrap: fn(T) -> Box<dyn Any + Send>,
) -> Result<(), Error> {
    let mut subscriber = participant.subscriber::<T>(topic)?;
    readers.dropped.push(subscriber.dropped_counter());
    readers.tasks.push(tokio::spawn(async move {
        while let Ok(received) = subscriber.recv().await {
            let arrival = Arrival {
                slot,
                task_id: received.value.task_id(),
                sample: wrap(received.value),
            };
            if tx.send(arrival).await.is_err() {
                break;
            }
        }
    }));
    Ok(())
}

fn boxed<T: Send + 'static>(value: T) -> Box<dyn Any + Send> {
    Box::new(value)
}

macro_rules! input_set {
    ($($T:ident $i:tt),+) => {
        impl<$($T: TaskData),+> InputSet for ($($T,)+) {
            fn type_names() -> Option<Vec<&'static str>> {
                Some(vec![$($T::TYPE_NAME),+])
            }

            fn spawn_readers(
                participant: &Participant,
                topics: &[TopicInfo],
                tx: mpsc::Sender<Arrival>,
            ) -> Result<Readers, Error> {
                let mut readers = Readers { tasks: Vec::new(), dropped: Vec::new() };
                $( spawn_reader::<$T>(participant, topics[$i], $i, tx.clone(), &mut readers, boxed)?; )+
                Ok(readers)
            }

            fn from_slots(slots: Vec<Box<dyn Any + Send>>) -> Option<Self> {
                let mut slots = slots.into_iter();
                Some(($( *slots.next()?.downcast::<$T>().ok()?, )+))
            }
        }
    };
}

input_set!(A 0);
input_set!(A 0, B 1);
input_set!(A 0, B 1, C 2);
input_set!(A 0, B 1, C 2, D 3);
input_set!(A 0, B 1, C 2, D 3, E 4);
input_set!(A 0, B 1, C 2, D 3, E 4, F 5);

macro_rules! any_sample {
    ($($(#[$m:meta])* $variant:ident($T:ident)),+ $(,)?) => {
        /// One input of a node whose inputs are chosen at run time ([`AnyInputs`]): a
        /// sample of one of the task data types.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum AnySample {
            $( $(#[$m])* $variant($T), )+
        }

        impl AnySample {
            /// The DDS type names a run-time input can carry.
            pub const TYPE_NAMES: &'static [&'static str] = &[$($T::TYPE_NAME),+];

            /// The sample's DDS type name.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( AnySample::$variant(_) => $T::TYPE_NAME, )+
                }
            }

            /// The task the sample belongs to.
            pub fn task_id(&self) -> TaskIdImpl {
                match self {
                    $( AnySample::$variant(v) => v.task_id(), )+
                }
            }
        }

        $(
            impl From<$T> for AnySample {
                fn from(value: $T) -> Self {
                    AnySample::$variant(value)
                }
            }
        )+

        fn spawn_any_reader(
            participant: &Participant,
            topic: TopicInfo,
            slot: usize,
            tx: mpsc::Sender<Arrival>,
            readers: &mut Readers,
        ) -> Result<(), Error> {
            match topic.type_name {
                $( name if name == $T::TYPE_NAME => spawn_reader::<$T>(
                    participant, topic, slot, tx, readers, |v| boxed(AnySample::$variant(v)),
                ), )+
                other => Err(Error::Create {
                    what: format!("a reader on {}", topic.name),
                    reason: format!(
                        "{other} is not a task data type (one of {})",
                        AnySample::TYPE_NAMES.join(", ")
                    ),
                }),
            }
        }
    };
}

any_sample! {
    /// A problem.
    UserInput(UserInputImpl),
    /// APP_REQUIREMENTS's output.
    AppRequirements(AppRequirementsImpl),
    /// HW_CONSTRAINTS's output.
    HwConstraints(HWConstraintsImpl),
    /// ML_MODEL_METADATA's output.
    MlModelMetadata(MLModelMetadataImpl),
    /// ML_MODEL's output, or its baseline.
    MlModel(MLModelImpl),
    /// HW_RESOURCES's output, or its baseline.
    HwResource(HWResourceImpl),
    /// CARBON_FOOTPRINT's output, or its baseline.
    Co2Footprint(CO2FootprintImpl),
}

/// Inputs chosen at run time: one sample per input topic, in the order the topics
/// were given to [`generic`](crate::generic). For node definitions that only know
/// their topics when they run (a Python node, a node configured from a file).
#[derive(Debug, Clone, PartialEq)]
pub struct AnyInputs(pub Vec<AnySample>);

impl InputSet for AnyInputs {
    fn type_names() -> Option<Vec<&'static str>> {
        None
    }

    fn spawn_readers(
        participant: &Participant,
        topics: &[TopicInfo],
        tx: mpsc::Sender<Arrival>,
    ) -> Result<Readers, Error> {
        let mut readers = Readers {
            tasks: Vec::new(),
            dropped: Vec::new(),
        };
        for (slot, topic) in topics.iter().enumerate() {
            spawn_any_reader(participant, *topic, slot, tx.clone(), &mut readers)?;
        }
        Ok(readers)
    }

    fn from_slots(slots: Vec<Box<dyn Any + Send>>) -> Option<Self> {
        slots
            .into_iter()
            .map(|slot| slot.downcast::<AnySample>().ok().map(|s| *s))
            .collect::<Option<Vec<_>>>()
            .map(AnyInputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Joined run-time inputs reach the callback in topic order, each as its own type.
    #[test]
    fn any_inputs_keep_their_order_and_types() {
        let problem = UserInputImpl {
            problem_short_description: "classify".into(),
            ..UserInputImpl::default()
        };
        let slots: Vec<Box<dyn Any + Send>> = vec![
            boxed(AnySample::from(MLModelImpl::default())),
            boxed(AnySample::from(problem.clone())),
        ];
        let AnyInputs(samples) = AnyInputs::from_slots(slots).expect("two samples");
        assert_eq!(samples[0].type_name(), "MLModelImpl");
        assert_eq!(samples[1], AnySample::UserInput(problem));
        assert!(AnyInputs::from_slots(vec![boxed(UserInputImpl::default())]).is_none());
    }
}
