//! `sustainml topic hz TOPIC`: how often samples arrive on a topic, as `ros2 topic hz`
//! prints it: every second the average rate and the min, max and standard deviation
//! of the intervals between the last `--window` samples.
//!
//! The reader is volatile (`qos::commands()`), so the history that transient-local
//! writers replay to a new reader does not count as a burst.

use std::collections::VecDeque;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use sustainml_dds::{qos, Participant};
use sustainml_types::topics::TopicInfo;
use sustainml_types::WireType;
use tokio::time::Instant;

/// The arrival times of the last samples.
#[derive(Debug)]
pub struct Window {
    size: usize,
    arrivals: VecDeque<Instant>,
}

/// Rate and intervals over a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Samples per second.
    pub hz: f64,
    /// Shortest interval, in seconds.
    pub min: f64,
    /// Longest interval, in seconds.
    pub max: f64,
    /// Standard deviation of the intervals, in seconds.
    pub std_dev: f64,
    /// Intervals measured.
    pub intervals: usize,
}

impl Window {
    /// A window of the last `size` intervals (at least 1).
    pub fn new(size: usize) -> Self {
        let size = size.max(1);
        Self {
            size,
            arrivals: VecDeque::with_capacity(size + 1),
        }
    }

    /// Counts a sample that arrived at `at`.
    pub fn push(&mut self, at: Instant) {
        if self.arrivals.len() > self.size {
            self.arrivals.pop_front();
        }
        self.arrivals.push_back(at);
    }

    /// The rate over the window; none before two samples.
    pub fn rate(&self) -> Option<Rate> {
        let intervals: Vec<f64> = self
            .arrivals
            .iter()
            .zip(self.arrivals.iter().skip(1))
            .map(|(a, b)| b.duration_since(*a).as_secs_f64())
            .collect();
        if intervals.is_empty() {
            return None;
        }
        let n = intervals.len() as f64;
        let mean = intervals.iter().sum::<f64>() / n;
        let variance = intervals.iter().map(|i| (i - mean).powi(2)).sum::<f64>() / n;
        Some(Rate {
            hz: if mean > 0.0 {
                1.0 / mean
            } else {
                f64::INFINITY
            },
            min: intervals.iter().copied().fold(f64::INFINITY, f64::min),
            max: intervals.iter().copied().fold(0.0, f64::max),
            std_dev: variance.sqrt(),
            intervals: intervals.len(),
        })
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "average rate: {:.3} Hz  min: {:.4} s  max: {:.4} s  std dev: {:.5} s  window: {}",
            self.hz, self.min, self.max, self.std_dev, self.intervals
        )
    }
}

/// Prints the rate of `topic` every second until `duration` or Ctrl-C. No sample at
/// all within `duration` is an error.
pub async fn hz(
    participant: &Participant,
    topic: TopicInfo,
    window: usize,
    duration: Option<Duration>,
) -> Result<()> {
    sustainml_types::with_topic_type!(
        topic,
        T => hz_typed::<T>(participant, topic, window, duration).await,
        other => bail!("no Rust type for DDS type {other}")
    )
}

async fn hz_typed<T: WireType>(
    participant: &Participant,
    topic: TopicInfo,
    size: usize,
    duration: Option<Duration>,
) -> Result<()> {
    let mut sub = participant
        .subscriber_with_qos::<T>(topic, qos::commands())
        .with_context(|| format!("subscribing to {}", topic.name))?;
    let start = Instant::now();
    let end = duration.map(|d| start + d);
    let mut window = Window::new(size);
    let mut total = 0u64;
    let mut new = 0u64;
    let mut ticks =
        tokio::time::interval_at(start + Duration::from_secs(1), Duration::from_secs(1));
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let until_end = async {
            match end {
                Some(end) => tokio::time::sleep_until(end).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            got = sub.recv() => {
                got.with_context(|| format!("reading {}", topic.name))?;
                window.push(Instant::now());
                total += 1;
                new += 1;
            }
            _ = ticks.tick() => {
                match window.rate() {
                    Some(rate) if new > 0 => println!("{rate}"),
                    _ if total > 0 => println!("no new samples"),
                    _ => {}
                }
                new = 0;
            }
            () = until_end => break,
            _ = &mut ctrl_c => break,
        }
    }
    sub.close().await;
    if duration.is_none() {
        return Ok(());
    }
    if total == 0 {
        bail!(
            "no sample on {} within {} s",
            topic.name,
            duration.unwrap_or_default().as_secs_f64()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_over_the_last_intervals() {
        let t0 = Instant::now();
        let mut w = Window::new(2);
        assert_eq!(w.rate(), None);
        for ms in [0, 100, 300, 400] {
            w.push(t0 + Duration::from_millis(ms));
        }
        // The window keeps the last 2 intervals: 200 ms and 100 ms.
        let r = w.rate().expect("rate");
        assert_eq!(r.intervals, 2);
        assert!((r.hz - 1.0 / 0.15).abs() < 1e-6, "{r}");
        assert!(
            (r.min - 0.1).abs() < 1e-9 && (r.max - 0.2).abs() < 1e-9,
            "{r}"
        );
        assert!((r.std_dev - 0.05).abs() < 1e-9, "{r}");
        assert!(r.to_string().starts_with("average rate: 6.667 Hz"), "{r}");
    }
}
