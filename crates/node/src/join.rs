//! Join by task id: collects the inputs of each task until all have arrived.
//!
//! - Inputs arrive in any order, for any number of tasks in flight.
//! - A duplicate (same task, same input) is ignored, also after the task completed:
//!   recently completed task ids are remembered so a late duplicate does not open a
//!   new partial task.
//! - A task still incomplete after the timeout is evicted and reported with the inputs
//!   it was missing; beyond `max_pending` partial tasks the oldest is evicted early.
//!   An evicted task is remembered like a completed one, so its late inputs do not
//!   open it again. Memory is bounded by `max_pending` and the remembered window.

use std::any::Any;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use sustainml_types::TaskIdImpl;

/// What happened to an arrival.
#[derive(Debug)]
pub(crate) enum Joined {
    /// The task is complete: its inputs in slot order.
    Complete(Vec<Box<dyn Any + Send>>),
    /// Stored; the task still misses inputs.
    Pending,
    /// Already had this input (or the task already ran): ignored.
    Duplicate,
}

/// A task evicted before all its inputs arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Evicted {
    pub task_id: TaskIdImpl,
    /// Slots that never arrived.
    pub missing: Vec<usize>,
    /// Why: timeout or too many pending tasks.
    pub reason: &'static str,
}

#[derive(Debug)]
struct Partial {
    slots: Vec<Option<Box<dyn Any + Send>>>,
    since: Instant,
}

#[derive(Debug)]
pub(crate) struct Joiner {
    inputs: usize,
    timeout: Duration,
    max_pending: usize,
    pending: HashMap<TaskIdImpl, Partial>,
    order: VecDeque<(Instant, TaskIdImpl)>,
    done: HashSet<TaskIdImpl>,
    done_order: VecDeque<TaskIdImpl>,
    done_window: usize,
}

impl Joiner {
    pub fn new(inputs: usize, timeout: Duration, max_pending: usize) -> Self {
        Self {
            inputs,
            timeout,
            max_pending: max_pending.max(1),
            pending: HashMap::new(),
            order: VecDeque::new(),
            done: HashSet::new(),
            done_order: VecDeque::new(),
            done_window: max_pending.max(1024),
        }
    }

    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Adds one input; `now` is the arrival time.
    pub fn insert(
        &mut self,
        task_id: TaskIdImpl,
        slot: usize,
        sample: Box<dyn Any + Send>,
        now: Instant,
        evicted: &mut Vec<Evicted>,
    ) -> Joined {
        if slot >= self.inputs || self.done.contains(&task_id) {
            return Joined::Duplicate;
        }
        if !self.pending.contains_key(&task_id) {
            while self.pending.len() >= self.max_pending {
                match self.evict_oldest("too many incomplete tasks") {
                    Some(e) => evicted.push(e),
                    None => break,
                }
            }
            self.pending.insert(
                task_id,
                Partial {
                    slots: (0..self.inputs).map(|_| None).collect(),
                    since: now,
                },
            );
            self.order.push_back((now, task_id));
        }
        let Some(partial) = self.pending.get_mut(&task_id) else {
            return Joined::Duplicate;
        };
        if partial.slots[slot].is_some() {
            return Joined::Duplicate;
        }
        partial.slots[slot] = Some(sample);
        if partial.slots.iter().any(Option::is_none) {
            return Joined::Pending;
        }
        let Some(partial) = self.pending.remove(&task_id) else {
            return Joined::Duplicate;
        };
        self.remember_done(task_id);
        Joined::Complete(partial.slots.into_iter().flatten().collect())
    }

    /// Remembers a task as ended, so that no later input of it opens it again
    /// (TERMINATE_TASK), within the same window as completed tasks.
    pub fn remember(&mut self, task_id: TaskIdImpl) {
        self.remember_done(task_id);
    }

    fn remember_done(&mut self, task_id: TaskIdImpl) {
        if self.done.insert(task_id) {
            self.done_order.push_back(task_id);
            if self.done_order.len() > self.done_window {
                if let Some(old) = self.done_order.pop_front() {
                    self.done.remove(&old);
                }
            }
        }
    }

    /// Drops a task's partial inputs; false if it had none.
    pub fn remove_pending(&mut self, task_id: TaskIdImpl) -> bool {
        self.pending.remove(&task_id).is_some()
    }

    /// Forgets a task entirely, so that it can run again (RESET_TASK).
    pub fn forget(&mut self, task_id: TaskIdImpl) -> bool {
        let was_done = self.done.remove(&task_id);
        was_done | self.remove_pending(task_id)
    }

    /// Drops every pending task (RESET_NODE); returns their ids, oldest first. They
    /// are not remembered: their inputs, sent again, join again.
    pub fn clear(&mut self) -> Vec<TaskIdImpl> {
        let mut held: Vec<(Instant, TaskIdImpl)> = self
            .pending
            .drain()
            .map(|(task_id, p)| (p.since, task_id))
            .collect();
        held.sort_by_key(|(since, _)| *since);
        self.order.clear();
        held.into_iter().map(|(_, task_id)| task_id).collect()
    }

    fn evict_oldest(&mut self, reason: &'static str) -> Option<Evicted> {
        while let Some((since, task_id)) = self.order.pop_front() {
            match self.pending.get(&task_id) {
                Some(p) if p.since == since => {
                    let p = self.pending.remove(&task_id)?;
                    self.remember_done(task_id);
                    return Some(Evicted {
                        task_id,
                        missing: missing_slots(&p),
                        reason,
                    });
                }
                _ => continue, // completed or replaced since
            }
        }
        None
    }

    /// Evicts every task older than the timeout.
    pub fn evict_expired(&mut self, now: Instant) -> Vec<Evicted> {
        let mut out = Vec::new();
        while let Some(&(since, task_id)) = self.order.front() {
            if now.duration_since(since) < self.timeout {
                break;
            }
            self.order.pop_front();
            if let Some(p) = self.pending.get(&task_id) {
                if p.since == since {
                    if let Some(p) = self.pending.remove(&task_id) {
                        self.remember_done(task_id);
                        out.push(Evicted {
                            task_id,
                            missing: missing_slots(&p),
                            reason: "timed out waiting for inputs",
                        });
                    }
                }
            }
        }
        out
    }
}

fn missing_slots(p: &Partial) -> Vec<usize> {
    p.slots
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: u32) -> TaskIdImpl {
        TaskIdImpl::new(p, 1)
    }

    fn put(j: &mut Joiner, task: u32, slot: usize, now: Instant) -> Joined {
        let mut ev = Vec::new();
        j.insert(t(task), slot, Box::new(slot), now, &mut ev)
    }

    #[test]
    fn completes_in_any_order_and_in_slot_order() {
        let mut j = Joiner::new(3, Duration::from_secs(10), 100);
        let now = Instant::now();
        assert!(matches!(put(&mut j, 1, 2, now), Joined::Pending));
        assert!(matches!(put(&mut j, 2, 0, now), Joined::Pending));
        assert!(matches!(put(&mut j, 1, 0, now), Joined::Pending));
        match put(&mut j, 1, 1, now) {
            Joined::Complete(slots) => {
                let order: Vec<usize> = slots
                    .into_iter()
                    .map(|s| *s.downcast::<usize>().expect("usize"))
                    .collect();
                assert_eq!(order, vec![0, 1, 2]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(j.pending(), 1);
    }

    #[test]
    fn duplicates_are_ignored_before_and_after_completion() {
        let mut j = Joiner::new(2, Duration::from_secs(10), 100);
        let now = Instant::now();
        assert!(matches!(put(&mut j, 1, 0, now), Joined::Pending));
        assert!(matches!(put(&mut j, 1, 0, now), Joined::Duplicate));
        assert!(matches!(put(&mut j, 1, 1, now), Joined::Complete(_)));
        assert!(matches!(put(&mut j, 1, 1, now), Joined::Duplicate));
        assert_eq!(j.pending(), 0);
        assert!(j.forget(t(1)));
        assert!(matches!(put(&mut j, 1, 1, now), Joined::Pending));
    }

    #[test]
    fn expired_tasks_are_evicted_with_their_missing_inputs() {
        let mut j = Joiner::new(3, Duration::from_secs(5), 100);
        let start = Instant::now();
        put(&mut j, 1, 1, start);
        put(&mut j, 2, 0, start + Duration::from_secs(3));
        let ev = j.evict_expired(start + Duration::from_secs(6));
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].task_id, t(1));
        assert_eq!(ev[0].missing, vec![0, 2]);
        assert_eq!(j.pending(), 1);
        // A late input of the evicted task does not open it again.
        assert!(matches!(
            put(&mut j, 1, 0, start + Duration::from_secs(7)),
            Joined::Duplicate
        ));
    }

    /// RESET_NODE learns which tasks it dropped, oldest first, and they may join again.
    #[test]
    fn clear_returns_the_dropped_tasks_and_forgets_them() {
        let mut j = Joiner::new(2, Duration::from_secs(10), 100);
        let start = Instant::now();
        put(&mut j, 3, 0, start);
        put(&mut j, 1, 1, start + Duration::from_millis(1));
        put(&mut j, 2, 0, start + Duration::from_millis(2));
        assert_eq!(j.clear(), vec![t(3), t(1), t(2)]);
        assert_eq!(j.pending(), 0);
        assert!(j.clear().is_empty());
        assert!(matches!(put(&mut j, 1, 1, start), Joined::Pending));
    }

    #[test]
    fn pending_tasks_are_bounded() {
        let mut j = Joiner::new(2, Duration::from_secs(600), 10);
        let now = Instant::now();
        let mut evicted = Vec::new();
        for p in 1..=100_000 {
            j.insert(t(p), 0, Box::new(0usize), now, &mut evicted);
        }
        assert_eq!(j.pending(), 10);
        assert_eq!(evicted.len(), 100_000 - 10);
        assert_eq!(evicted[0].reason, "too many incomplete tasks");
        assert!(j.order.len() <= 10);
    }
}
