//! What a device reports about a model: latency, memory, power and energy, and how each
//! figure was obtained.

use serde::Serialize;

/// Latency, memory, power and energy of one model on one device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    /// The device's name.
    pub device: String,
    /// The file the model came from, or the label given with its bytes.
    pub model: String,
    /// Timed inferences (warm-up runs excluded); for an estimate, the runs asked for.
    pub runs: usize,
    /// Median latency of one inference, milliseconds.
    pub latency_ms_p50: f64,
    /// 90th percentile latency of one inference, milliseconds (the median for an
    /// estimate, which has no spread).
    pub latency_ms_p90: f64,
    /// Mean latency of one inference, milliseconds.
    pub latency_ms_mean: f64,
    /// Memory the model needs: weights plus peak activations (from the graph), bytes.
    pub memory_bytes: u64,
    /// Average power while the model runs, watts.
    pub power_w: f64,
    /// Power while the device idles between inferences, watts (what
    /// [`crate::simulate`] charges for the rest of an input period).
    pub idle_power_w: f64,
    /// Energy of one inference, joules.
    pub energy_j_per_inference: f64,
    /// True when the figures are computed from a device table rather than measured.
    pub estimated: bool,
    /// How each figure was obtained, as `figure: how` clauses joined by `; `.
    pub method: String,
}

/// Median, 90th percentile (nearest rank) and mean of latencies given in seconds,
/// returned in milliseconds.
pub(crate) fn latency_stats_ms(seconds: &[f64]) -> (f64, f64, f64) {
    if seconds.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let mut sorted = seconds.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    let median = if sorted.len() % 2 == 0 {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    };
    let rank = ((sorted.len() as f64 * 0.9).ceil() as usize).clamp(1, sorted.len());
    let p90 = sorted[rank - 1];
    let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
    (median * 1e3, p90 * 1e3, mean * 1e3)
}

#[cfg(test)]
mod tests {
    use super::latency_stats_ms;

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(latency_stats_ms(&[0.003, 0.001, 0.002]), (2.0, 3.0, 2.0));
        let (p50, _, mean) = latency_stats_ms(&[0.001, 0.002, 0.003, 0.010]);
        assert!((p50 - 2.5).abs() < 1e-9 && (mean - 4.0).abs() < 1e-9);
        assert_eq!(latency_stats_ms(&[]), (0.0, 0.0, 0.0));
        let tenths: Vec<f64> = (1..=10).map(|i| f64::from(i) / 1e3).collect();
        let (p50, p90, _) = latency_stats_ms(&tenths);
        assert!((p50 - 5.5).abs() < 1e-9 && (p90 - 9.0).abs() < 1e-9);
    }
}
