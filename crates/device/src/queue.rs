//! A bounded queue between threads with deadlines, closing and discarding: what the
//! streams and accelerators put between the caller, the input callback and the worker.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Why a push or pop did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueError {
    /// The deadline passed first.
    Timeout,
    /// The queue is closed (and, for a pop, empty).
    Closed,
}

#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

/// A first-in first-out queue of at most `capacity` items.
#[derive(Debug)]
pub(crate) struct Queue<T> {
    state: Mutex<State<T>>,
    not_empty: Condvar,
    not_full: Condvar,
    capacity: usize,
}

impl<T> Queue<T> {
    pub(crate) fn new(capacity: usize) -> Queue<T> {
        Queue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity),
                closed: false,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity: capacity.max(1),
        }
    }

    /// The lock, even if a thread panicked while holding it (the queue stays consistent:
    /// every change is one `VecDeque` call).
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits on `cond` until `deadline` (forever without one); false when it passed.
    fn wait<'a>(
        &self,
        cond: &Condvar,
        guard: MutexGuard<'a, State<T>>,
        deadline: Option<Instant>,
    ) -> (MutexGuard<'a, State<T>>, bool) {
        match deadline {
            None => (cond.wait(guard).unwrap_or_else(|p| p.into_inner()), true),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return (guard, false);
                }
                let (guard, _) = cond
                    .wait_timeout(guard, left)
                    .unwrap_or_else(|p| p.into_inner());
                (guard, true)
            }
        }
    }

    /// Appends `item`, waiting for room until `deadline`.
    pub(crate) fn push(&self, item: T, deadline: Option<Instant>) -> Result<(), QueueError> {
        let mut state = self.lock();
        loop {
            if state.closed {
                return Err(QueueError::Closed);
            }
            if state.items.len() < self.capacity {
                state.items.push_back(item);
                self.not_empty.notify_one();
                return Ok(());
            }
            let (next, in_time) = self.wait(&self.not_full, state, deadline);
            state = next;
            if !in_time {
                return Err(QueueError::Timeout);
            }
        }
    }

    /// Takes the oldest item, waiting until `deadline`; `Closed` once closed and empty.
    pub(crate) fn pop(&self, deadline: Option<Instant>) -> Result<T, QueueError> {
        let mut state = self.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                self.not_full.notify_one();
                return Ok(item);
            }
            if state.closed {
                return Err(QueueError::Closed);
            }
            let (next, in_time) = self.wait(&self.not_empty, state, deadline);
            state = next;
            if !in_time {
                return Err(QueueError::Timeout);
            }
        }
    }

    /// No more pushes; pops drain what is left, then see `Closed`.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }

    /// Discards every queued item and returns how many there were.
    pub(crate) fn clear(&self) -> usize {
        let mut state = self.lock();
        let n = state.items.len();
        state.items.clear();
        self.not_full.notify_all();
        n
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn bounded_fifo_with_deadlines_close_and_clear() {
        let q = Queue::new(2);
        let soon = || Some(Instant::now() + Duration::from_millis(20));
        assert_eq!(q.push(1, soon()), Ok(()));
        assert_eq!(q.push(2, soon()), Ok(()));
        assert_eq!(q.push(3, soon()), Err(QueueError::Timeout));
        assert_eq!(q.pop(soon()), Ok(1));
        assert_eq!(q.clear(), 1);
        assert_eq!(q.pop(soon()), Err(QueueError::Timeout));
        q.push(4, None).expect("room");
        q.close();
        assert_eq!(q.push(5, None), Err(QueueError::Closed));
        assert_eq!(q.pop(None), Ok(4));
        assert_eq!(q.pop(None), Err(QueueError::Closed));
    }
}
