//! Counters exposed as Prometheus text at `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Duration;

use crate::admission::Refused;

/// Upper bounds (seconds) of the upstream connect latency histogram.
pub const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The bridge's counters. Cheap to update from any task.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Sessions (upgraded WebSockets) open now.
    pub sessions_open: AtomicI64,
    /// Sessions opened since start.
    pub sessions_total: AtomicU64,
    /// TCP connections open now (handshakes included).
    pub connections_open: AtomicI64,
    /// Connections refused by a cap.
    pub connections_refused: AtomicU64,
    /// HTTP requests refused before the upgrade.
    pub http_refusals: AtomicU64,
    /// Bytes relayed browser -> broker.
    pub bytes_up: AtomicU64,
    /// Bytes relayed broker -> browser.
    pub bytes_down: AtomicU64,
    /// Bytes held now in the bridge's relay buffers (all sessions).
    pub buffered_bytes: AtomicI64,
    /// Upgrades admitted with a valid admission token.
    pub admission_accepted: AtomicU64,
    /// Sessions closed by the per-address CONNECT rate limit.
    pub connects_rate_limited: AtomicU64,
    admission_refused: [AtomicU64; Refused::ALL.len()],
    /// Browser data frames larger than one piece, relayed in bounded pieces.
    pub large_frames_up: AtomicU64,
    /// Broker packets larger than one message, streamed to browsers in bounded pieces.
    pub large_packets_down: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    failures: Mutex<Vec<(&'static str, u64)>>,
}

impl Metrics {
    /// Records a session ended by a failure or a closing reason (see `close::Close::metric_label`).
    pub fn failure(&self, label: &'static str) {
        if let Ok(mut f) = self.failures.lock() {
            match f.iter_mut().find(|(l, _)| *l == label) {
                Some((_, n)) => *n += 1,
                None => f.push((label, 1)),
            }
        }
    }

    /// Number of failures recorded under `label`.
    pub fn failures_of(&self, label: &str) -> u64 {
        self.failures
            .lock()
            .ok()
            .and_then(|f| f.iter().find(|(l, _)| *l == label).map(|(_, n)| *n))
            .unwrap_or(0)
    }

    /// Records a session refused by admission.
    pub fn admission_refused(&self, reason: Refused) {
        if let Some(c) = Refused::ALL
            .iter()
            .position(|r| *r == reason)
            .and_then(|i| self.admission_refused.get(i))
        {
            c.fetch_add(1, Relaxed);
        }
    }

    /// Sessions refused by admission for `reason`.
    pub fn admission_refusals(&self, reason: Refused) -> u64 {
        Refused::ALL
            .iter()
            .position(|r| *r == reason)
            .and_then(|i| self.admission_refused.get(i))
            .map_or(0, |c| c.load(Relaxed))
    }

    /// Records one successful upstream connect (TCP + TLS).
    pub fn connect_latency(&self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
            if s <= *b {
                if let Some(c) = self.latency_buckets.get(i) {
                    c.fetch_add(1, Relaxed);
                }
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_us
            .fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::with_capacity(2048);
        let mut g = |name: &str, kind: &str, help: &str, v: String| {
            let _ = write!(
                s,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
            );
        };
        g(
            "ws_bridge_sessions_open",
            "gauge",
            "WebSocket sessions open now.",
            self.sessions_open.load(Relaxed).to_string(),
        );
        g(
            "ws_bridge_sessions_total",
            "counter",
            "WebSocket sessions opened since start.",
            self.sessions_total.load(Relaxed).to_string(),
        );
        g(
            "ws_bridge_connections_open",
            "gauge",
            "TCP connections open now, handshakes included.",
            self.connections_open.load(Relaxed).to_string(),
        );
        g(
            "ws_bridge_connections_refused_total",
            "counter",
            "Connections refused by a connection cap.",
            self.connections_refused.load(Relaxed).to_string(),
        );
        g(
            "ws_bridge_http_refusals_total",
            "counter",
            "HTTP requests refused before the WebSocket upgrade.",
            self.http_refusals.load(Relaxed).to_string(),
        );
        g(
            "ws_bridge_bytes_up_total",
            "counter",
            "Bytes relayed from browsers to brokers.",
            self.bytes_up.load(Relaxed).to_string(),
        );
        g(
            "ws_bridge_bytes_down_total",
            "counter",
            "Bytes relayed from brokers to browsers.",
            self.bytes_down.load(Relaxed).to_string(),
        );
        g(
            "ws_bridge_buffered_bytes",
            "gauge",
            "Bytes held in relay buffers now, all sessions.",
            self.buffered_bytes.load(Relaxed).to_string(),
        );
        g(
            "ws_bridge_large_frames_up_total",
            "counter",
            "Browser WebSocket data frames larger than max_batch, relayed in pieces.",
            self.large_frames_up.load(Relaxed).to_string(),
        );
        g(
            "ws_bridge_large_packets_down_total",
            "counter",
            "Broker MQTT packets larger than max_batch, streamed to browsers in pieces.",
            self.large_packets_down.load(Relaxed).to_string(),
        );
        g(
            "ws_bridge_admission_accepted_total",
            "counter",
            "Upgrades admitted with a valid admission token.",
            self.admission_accepted.load(Relaxed).to_string(),
        );
        g(
            "ws_bridge_connects_rate_limited_total",
            "counter",
            "Sessions closed (4029) by the per-address CONNECT rate limit.",
            self.connects_rate_limited.load(Relaxed).to_string(),
        );
        let _ = write!(
            s,
            "# HELP ws_bridge_admission_refused_total Sessions refused by a route's admission, by reason.\n# TYPE ws_bridge_admission_refused_total counter\n"
        );
        for r in Refused::ALL {
            let _ = writeln!(
                s,
                "ws_bridge_admission_refused_total{{reason=\"{}\"}} {}",
                r.label(),
                self.admission_refusals(r)
            );
        }
        let _ = write!(
            s,
            "# HELP ws_bridge_session_end_total Sessions ended, by reason.\n# TYPE ws_bridge_session_end_total counter\n"
        );
        if let Ok(f) = self.failures.lock() {
            for (label, n) in f.iter() {
                let _ = writeln!(s, "ws_bridge_session_end_total{{reason=\"{label}\"}} {n}");
            }
        }
        let _ = write!(
            s,
            "# HELP ws_bridge_upstream_connect_seconds Upstream TCP+TLS connect latency.\n# TYPE ws_bridge_upstream_connect_seconds histogram\n"
        );
        for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
            let n = self.latency_buckets.get(i).map_or(0, |c| c.load(Relaxed));
            let _ = writeln!(
                s,
                "ws_bridge_upstream_connect_seconds_bucket{{le=\"{b}\"}} {n}"
            );
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(
            s,
            "ws_bridge_upstream_connect_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            s,
            "ws_bridge_upstream_connect_seconds_sum {}",
            self.latency_sum_us.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(s, "ws_bridge_upstream_connect_seconds_count {count}");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.failure("too_large");
        m.failure("too_large");
        m.connect_latency(Duration::from_millis(20));
        let t = m.render();
        assert!(t.contains("ws_bridge_session_end_total{reason=\"too_large\"} 2"));
        assert!(t.contains("ws_bridge_upstream_connect_seconds_bucket{le=\"0.025\"} 1"));
        assert!(t.contains("ws_bridge_upstream_connect_seconds_bucket{le=\"0.01\"} 0"));
        assert!(t.contains("ws_bridge_upstream_connect_seconds_count 1"));
        assert_eq!(m.failures_of("too_large"), 2);
        m.admission_refused(Refused::WrongRoute);
        let t = m.render();
        assert!(t.contains("ws_bridge_admission_refused_total{reason=\"wrong_route\"} 1"));
        assert!(t.contains("ws_bridge_admission_refused_total{reason=\"missing_token\"} 0"));
        assert!(t.contains("ws_bridge_connects_rate_limited_total 0"));
    }
}
