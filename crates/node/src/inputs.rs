//! Typed input sets: the tuple of samples one task's callback receives.

use std::any::Any;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use sustainml_dds::{Error, Participant};
use sustainml_types::topics::TopicInfo;
use sustainml_types::{TaskData, TaskIdImpl};
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
/// `(MLModelImpl, AppRequirementsImpl, HWConstraintsImpl)`…
pub trait InputSet: Sized + Send + 'static {
    /// How many inputs.
    const LEN: usize;

    /// The DDS type names, in order.
    fn type_names() -> Vec<&'static str>;

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
) -> Result<(), Error> {
    let mut subscriber = participant.subscriber::<T>(topic)?;
    readers.dropped.push(subscriber.dropped_counter());
    readers.tasks.push(tokio::spawn(async move {
        while let Ok(received) = subscriber.recv().await {
            let arrival = Arrival {
                slot,
                task_id: received.value.task_id(),
                sample: Box::new(received.value),
            };
            if tx.send(arrival).await.is_err() {
                break;
            }
        }
    }));
    Ok(())
}

macro_rules! input_set {
    ($len:literal; $($T:ident $i:tt),+) => {
        impl<$($T: TaskData),+> InputSet for ($($T,)+) {
            const LEN: usize = $len;

            fn type_names() -> Vec<&'static str> {
                vec![$($T::TYPE_NAME),+]
            }

            fn spawn_readers(
                participant: &Participant,
                topics: &[TopicInfo],
                tx: mpsc::Sender<Arrival>,
            ) -> Result<Readers, Error> {
                let mut readers = Readers { tasks: Vec::new(), dropped: Vec::new() };
                $( spawn_reader::<$T>(participant, topics[$i], $i, tx.clone(), &mut readers)?; )+
                Ok(readers)
            }

            fn from_slots(slots: Vec<Box<dyn Any + Send>>) -> Option<Self> {
                let mut slots = slots.into_iter();
                Some(($( *slots.next()?.downcast::<$T>().ok()?, )+))
            }
        }
    };
}

input_set!(1; A 0);
input_set!(2; A 0, B 1);
input_set!(3; A 0, B 1, C 2);
input_set!(4; A 0, B 1, C 2, D 3);
input_set!(5; A 0, B 1, C 2, D 3, E 4);
input_set!(6; A 0, B 1, C 2, D 3, E 4, F 5);
