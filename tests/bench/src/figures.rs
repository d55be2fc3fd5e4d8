//! What the relay scenarios measured: per-run figures or failures, and their medians and
//! spread over the alternating rounds.

use std::time::Duration;

/// Concurrent sessions of the throughput cases.
pub(crate) const SESSIONS: [usize; 3] = [1, 10, 100];
/// Payload bytes of the throughput cases.
pub(crate) const SIZES: [usize; 3] = [64, 1024, 16 * 1024];

/// One successful throughput run.
#[derive(Debug, Clone)]
pub(crate) struct Figures {
    pub messages_per_s: f64,
    pub mbytes_per_s: f64,
    /// The relay process's CPU (its children included) per round-tripped message, µs; `None`
    /// for paths without a relay process of ours to watch (direct TLS).
    pub relay_us: Option<f64>,
    /// mosquitto's CPU per round-tripped message, µs.
    pub broker_us: Option<f64>,
}

/// Median, smallest and largest of some runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// `None` when there are no values: a missing figure is never a zero.
    pub(crate) fn of(mut values: Vec<f64>) -> Option<Spread> {
        values.retain(|v| v.is_finite());
        values.sort_by(f64::total_cmp);
        let (min, max) = (*values.first()?, *values.last()?);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        Some(Spread { median, min, max })
    }
}

/// All rounds of one (path, sessions, payload) case.
#[derive(Debug)]
pub(crate) struct ThroughputRow {
    pub path: &'static str,
    pub sessions: usize,
    pub size: usize,
    /// One entry per round, in order: figures, or why the run has none.
    pub runs: Vec<Result<Figures, String>>,
}

impl ThroughputRow {
    pub(crate) fn new(path: &'static str, sessions: usize, size: usize) -> Self {
        ThroughputRow {
            path,
            sessions,
            size,
            runs: Vec::new(),
        }
    }

    fn spread(&self, f: impl Fn(&Figures) -> Option<f64>) -> Option<Spread> {
        Spread::of(self.runs.iter().flatten().filter_map(f).collect())
    }

    pub(crate) fn messages(&self) -> Option<Spread> {
        self.spread(|f| Some(f.messages_per_s))
    }

    pub(crate) fn megabytes(&self) -> Option<Spread> {
        self.spread(|f| Some(f.mbytes_per_s))
    }

    pub(crate) fn relay_cpu(&self) -> Option<Spread> {
        self.spread(|f| f.relay_us)
    }

    pub(crate) fn broker_cpu(&self) -> Option<Spread> {
        self.spread(|f| f.broker_us)
    }

    /// The failed runs' reasons.
    pub(crate) fn failures(&self) -> Vec<&str> {
        self.runs
            .iter()
            .filter_map(|r| r.as_ref().err().map(String::as_str))
            .collect()
    }
}

/// `a / b` per round where both runs succeeded (paired: same round, adjacent in time).
pub(crate) fn paired_ratios(
    a: &ThroughputRow,
    b: &ThroughputRow,
    f: impl Fn(&Figures) -> Option<f64>,
) -> Option<Spread> {
    Spread::of(
        a.runs
            .iter()
            .zip(&b.runs)
            .filter_map(|(x, y)| {
                let (x, y) = (f(x.as_ref().ok()?)?, f(y.as_ref().ok()?)?);
                (y > 0.0).then(|| x / y)
            })
            .collect(),
    )
}

/// All rounds of the latency scenario on one path.
#[derive(Debug)]
pub(crate) struct LatencyRow {
    pub path: &'static str,
    /// One entry per round: sorted samples, or why the run has none.
    pub runs: Vec<Result<Vec<Duration>, String>>,
}

/// Percentile `p` of sorted samples, µs.
pub(crate) fn percentile_us(samples: &[Duration], p: f64) -> Option<f64> {
    let last = samples.len().checked_sub(1)?;
    let index = ((last as f64) * p).round() as usize;
    Some(samples.get(index.min(last))?.as_secs_f64() * 1e6)
}

impl LatencyRow {
    /// Percentile `p` of each successful round, as median and spread.
    pub(crate) fn percentile(&self, p: f64) -> Option<Spread> {
        Spread::of(
            self.runs
                .iter()
                .flatten()
                .filter_map(|s| percentile_us(s, p))
                .collect(),
        )
    }

    pub(crate) fn samples(&self) -> usize {
        self.runs.iter().flatten().map(Vec::len).sum()
    }

    pub(crate) fn failures(&self) -> Vec<&str> {
        self.runs
            .iter()
            .filter_map(|r| r.as_ref().err().map(String::as_str))
            .collect()
    }
}

/// `a - b` of percentile `p` per round where both succeeded, µs.
pub(crate) fn paired_latency_difference(a: &LatencyRow, b: &LatencyRow, p: f64) -> Option<Spread> {
    Spread::of(
        a.runs
            .iter()
            .zip(&b.runs)
            .filter_map(|(x, y)| {
                Some(percentile_us(x.as_ref().ok()?, p)? - percentile_us(y.as_ref().ok()?, p)?)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(m: f64) -> Result<Figures, String> {
        Ok(Figures {
            messages_per_s: m,
            mbytes_per_s: m / 1000.0,
            relay_us: Some(m / 100.0),
            broker_us: None,
        })
    }

    #[test]
    fn a_failed_run_is_no_figure() {
        let mut row = ThroughputRow::new("websockify", 1, 64);
        row.runs = vec![run(100.0), Err("nothing came back".into()), run(300.0)];
        let s = row.messages().expect("two runs");
        assert_eq!((s.median, s.min, s.max), (200.0, 100.0, 300.0));
        assert_eq!(row.failures(), vec!["nothing came back"]);
        assert!(row.broker_cpu().is_none());
        let mut none = ThroughputRow::new("websockify", 1, 64);
        none.runs = vec![Err("x".into())];
        assert!(none.messages().is_none());
    }

    #[test]
    fn ratios_pair_rounds() {
        let mut a = ThroughputRow::new("ws-bridge", 10, 1024);
        let mut b = ThroughputRow::new("direct TLS", 10, 1024);
        a.runs = vec![run(90.0), run(80.0), run(50.0)];
        b.runs = vec![run(100.0), Err("x".into()), run(100.0)];
        let r = paired_ratios(&a, &b, |f| Some(f.messages_per_s)).expect("two pairs");
        assert_eq!((r.min, r.max, r.median), (0.5, 0.9, 0.7));
    }
}
