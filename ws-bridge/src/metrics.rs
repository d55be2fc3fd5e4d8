//! The bridge's counters, exposed at `/metrics` in the Prometheus text format (0.0.4) by
//! `prometheus-client`, with typed labels.
//!
//! A leaf: the label values are defined here, and the modules that count map their own reasons
//! onto them ([`crate::admission::Refused::metric`], [`crate::close::Close::metric_label`]).
//! The names, HELP texts and label sets are a contract with dashboards and alerts
//! (`tests/metrics_names.rs` holds them).

use std::fmt::Write as _;
use std::time::Duration;

use prometheus_client::encoding::{
    prometheus_text, EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder,
    MetricEncoder,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

/// Upper bounds (seconds) of the upstream connect latency histogram.
pub const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Why admission refused a session: `ws_bridge_admission_refused_total{reason=...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusalReason {
    /// `missing_token`.
    MissingToken,
    /// `bad_token`.
    BadToken,
    /// `expired_token`.
    ExpiredToken,
    /// `wrong_route`.
    WrongRoute,
    /// `client_id_mismatch`.
    ClientIdMismatch,
}

impl RefusalReason {
    /// Every reason: each is listed from the start, at 0.
    pub const ALL: [RefusalReason; 5] = [
        RefusalReason::MissingToken,
        RefusalReason::BadToken,
        RefusalReason::ExpiredToken,
        RefusalReason::WrongRoute,
        RefusalReason::ClientIdMismatch,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::MissingToken => "missing_token",
            RefusalReason::BadToken => "bad_token",
            RefusalReason::ExpiredToken => "expired_token",
            RefusalReason::WrongRoute => "wrong_route",
            RefusalReason::ClientIdMismatch => "client_id_mismatch",
        }
    }
}

/// How a session ended: `ws_bridge_session_end_total{reason=...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionEnd {
    /// `normal`: closed with 1000, e.g. the upstream closed.
    Normal,
    /// `idle_timeout`: no MQTT data for the idle time.
    IdleTimeout,
    /// `shutdown`: the bridge is shutting down (1001).
    Shutdown,
    /// `protocol_error`: a malformed packet or a WebSocket protocol violation (1002).
    ProtocolError,
    /// `text_frame`: the browser sent a text frame (1003).
    TextFrame,
    /// `too_large`: a packet over the size limit (1009).
    TooLarge,
    /// `internal`: an internal error or a broken upstream framing (1011).
    Internal,
    /// `upstream_unreachable`: resolve, connect or timeout (4502).
    UpstreamUnreachable,
    /// `ping_timeout`: the browser stopped answering pings (4000).
    PingTimeout,
    /// `route_unknown` (4001).
    RouteUnknown,
    /// `origin_not_allowed` (4003).
    OriginNotAllowed,
    /// `admission_refused` (4401).
    AdmissionRefused,
    /// `rate_limited` (4029).
    RateLimited,
    /// `tls_verification`: the broker's certificate was refused (4010..4015).
    TlsVerification,
    /// `tls_handshake`: the TLS handshake failed otherwise (4016), or the broker refused the
    /// route's client certificate (4017).
    TlsHandshake,
    /// `other`: any other close code.
    Other,
    /// `browser_closed`: the browser closed or went away.
    BrowserClosed,
    /// `handshake_timeout`: no complete request head in time (HTTP 408).
    HandshakeTimeout,
}

impl SessionEnd {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEnd::Normal => "normal",
            SessionEnd::IdleTimeout => "idle_timeout",
            SessionEnd::Shutdown => "shutdown",
            SessionEnd::ProtocolError => "protocol_error",
            SessionEnd::TextFrame => "text_frame",
            SessionEnd::TooLarge => "too_large",
            SessionEnd::Internal => "internal",
            SessionEnd::UpstreamUnreachable => "upstream_unreachable",
            SessionEnd::PingTimeout => "ping_timeout",
            SessionEnd::RouteUnknown => "route_unknown",
            SessionEnd::OriginNotAllowed => "origin_not_allowed",
            SessionEnd::AdmissionRefused => "admission_refused",
            SessionEnd::RateLimited => "rate_limited",
            SessionEnd::TlsVerification => "tls_verification",
            SessionEnd::TlsHandshake => "tls_handshake",
            SessionEnd::Other => "other",
            SessionEnd::BrowserClosed => "browser_closed",
            SessionEnd::HandshakeTimeout => "handshake_timeout",
        }
    }
}

impl EncodeLabelValue for RefusalReason {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

impl EncodeLabelValue for SessionEnd {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// The labels of `ws_bridge_admission_refused_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RefusalLabels {
    /// Why.
    pub reason: RefusalReason,
}

/// The labels of `ws_bridge_session_end_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct SessionEndLabels {
    /// How.
    pub reason: SessionEnd,
}

/// A family listed (HELP and TYPE) even before its first sample, as `/metrics` always did:
/// prometheus-client leaves empty families out.
#[derive(Debug, Clone, Default)]
struct Listed<F>(F);

impl<F: EncodeMetric> EncodeMetric for Listed<F> {
    fn encode(&self, encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        self.0.encode(encoder)
    }

    fn metric_type(&self) -> MetricType {
        self.0.metric_type()
    }

    fn is_empty(&self) -> bool {
        false
    }
}

/// The bridge's counters. Cheap to update from any task (each is an atomic).
#[derive(Debug)]
pub struct Metrics {
    /// Sessions (upgraded WebSockets) open now.
    pub sessions_open: Gauge,
    /// Sessions opened since start.
    pub sessions_total: Counter,
    /// TCP connections open now (handshakes included).
    pub connections_open: Gauge,
    /// Connections refused by a cap.
    pub connections_refused: Counter,
    /// HTTP requests refused before the upgrade.
    pub http_refusals: Counter,
    /// Bytes relayed browser -> broker.
    pub bytes_up: Counter,
    /// Bytes relayed broker -> browser.
    pub bytes_down: Counter,
    /// Bytes held now in the bridge's relay buffers (all sessions).
    pub buffered_bytes: Gauge,
    /// Upgrades admitted with a valid admission token.
    pub admission_accepted: Counter,
    /// Sessions closed by the per-address CONNECT rate limit.
    pub connects_rate_limited: Counter,
    /// Browser data frames larger than one piece, relayed in bounded pieces.
    pub large_frames_up: Counter,
    /// Broker packets larger than one message, streamed to browsers in bounded pieces.
    pub large_packets_down: Counter,
    admission_refused: Family<RefusalLabels, Counter>,
    session_end: Family<SessionEndLabels, Counter>,
    upstream_connect: Histogram,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut m = Metrics {
            sessions_open: Gauge::default(),
            sessions_total: Counter::default(),
            connections_open: Gauge::default(),
            connections_refused: Counter::default(),
            http_refusals: Counter::default(),
            bytes_up: Counter::default(),
            bytes_down: Counter::default(),
            buffered_bytes: Gauge::default(),
            admission_accepted: Counter::default(),
            connects_rate_limited: Counter::default(),
            large_frames_up: Counter::default(),
            large_packets_down: Counter::default(),
            admission_refused: Family::default(),
            session_end: Family::default(),
            upstream_connect: Histogram::new(LATENCY_BUCKETS),
            registry: Registry::default(),
        };
        for reason in RefusalReason::ALL {
            let _ = m.admission_refused.get_or_create(&RefusalLabels { reason });
        }
        m.register();
        m
    }
}

impl Metrics {
    /// Registers every metric under its name. prometheus-client adds `_total` to counters
    /// and a final `.` to HELP texts.
    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "ws_bridge_sessions_open",
            "WebSocket sessions open now",
            self.sessions_open.clone(),
        );
        r.register(
            "ws_bridge_sessions",
            "WebSocket sessions opened since start",
            self.sessions_total.clone(),
        );
        r.register(
            "ws_bridge_connections_open",
            "TCP connections open now, handshakes included",
            self.connections_open.clone(),
        );
        r.register(
            "ws_bridge_connections_refused",
            "Connections refused by a connection cap",
            self.connections_refused.clone(),
        );
        r.register(
            "ws_bridge_http_refusals",
            "HTTP requests refused before the WebSocket upgrade",
            self.http_refusals.clone(),
        );
        r.register(
            "ws_bridge_bytes_up",
            "Bytes relayed from browsers to brokers",
            self.bytes_up.clone(),
        );
        r.register(
            "ws_bridge_bytes_down",
            "Bytes relayed from brokers to browsers",
            self.bytes_down.clone(),
        );
        r.register(
            "ws_bridge_buffered_bytes",
            "Bytes held in relay buffers now, all sessions",
            self.buffered_bytes.clone(),
        );
        r.register(
            "ws_bridge_large_frames_up",
            "Browser WebSocket data frames larger than max_batch, relayed in pieces",
            self.large_frames_up.clone(),
        );
        r.register(
            "ws_bridge_large_packets_down",
            "Broker MQTT packets larger than max_batch, streamed to browsers in pieces",
            self.large_packets_down.clone(),
        );
        r.register(
            "ws_bridge_admission_accepted",
            "Upgrades admitted with a valid admission token",
            self.admission_accepted.clone(),
        );
        r.register(
            "ws_bridge_connects_rate_limited",
            "Sessions closed (4029) by the per-address CONNECT rate limit",
            self.connects_rate_limited.clone(),
        );
        r.register(
            "ws_bridge_admission_refused",
            "Sessions refused by a route's admission, by reason",
            self.admission_refused.clone(),
        );
        r.register(
            "ws_bridge_session_end",
            "Sessions ended, by reason",
            Listed(self.session_end.clone()),
        );
        r.register(
            "ws_bridge_upstream_connect_seconds",
            "Upstream TCP+TLS connect latency",
            self.upstream_connect.clone(),
        );
    }

    /// Records a session ended by a failure or a closing reason.
    pub fn failure(&self, reason: SessionEnd) {
        self.session_end
            .get_or_create(&SessionEndLabels { reason })
            .inc();
    }

    /// Sessions ended for `reason`.
    pub fn failures_of(&self, reason: SessionEnd) -> u64 {
        self.session_end
            .get(&SessionEndLabels { reason })
            .map_or(0, |c| c.get())
    }

    /// Records a session refused by admission.
    pub fn admission_refused(&self, reason: RefusalReason) {
        self.admission_refused
            .get_or_create(&RefusalLabels { reason })
            .inc();
    }

    /// Sessions refused by admission for `reason`.
    pub fn admission_refusals(&self, reason: RefusalReason) -> u64 {
        self.admission_refused
            .get(&RefusalLabels { reason })
            .map_or(0, |c| c.get())
    }

    /// Records one successful upstream connect (TCP + TLS).
    pub fn connect_latency(&self, d: Duration) {
        self.upstream_connect.observe(d.as_secs_f64());
    }

    /// The Prometheus text exposition (format 0.0.4, [`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut text = String::with_capacity(4096);
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.failure(SessionEnd::TooLarge);
        m.failure(SessionEnd::TooLarge);
        m.connect_latency(Duration::from_millis(20));
        let t = m.render();
        assert!(
            t.contains("ws_bridge_session_end_total{reason=\"too_large\"} 2"),
            "{t}"
        );
        assert!(t.contains("ws_bridge_upstream_connect_seconds_bucket{le=\"0.025\"} 1"));
        assert!(t.contains("ws_bridge_upstream_connect_seconds_bucket{le=\"0.01\"} 0"));
        assert!(t.contains("ws_bridge_upstream_connect_seconds_count 1"));
        assert_eq!(m.failures_of(SessionEnd::TooLarge), 2);
        assert_eq!(m.failures_of(SessionEnd::Normal), 0);
        m.admission_refused(RefusalReason::WrongRoute);
        let t = m.render();
        assert!(t.contains("ws_bridge_admission_refused_total{reason=\"wrong_route\"} 1"));
        assert!(t.contains("ws_bridge_admission_refused_total{reason=\"missing_token\"} 0"));
        assert!(t.contains("ws_bridge_connects_rate_limited_total 0"));
        assert!(
            t.contains("# TYPE ws_bridge_sessions_total counter\n"),
            "{t}"
        );
        assert!(!t.contains("# EOF"));
        let fresh = Metrics::default().render();
        assert!(
            fresh.contains("# TYPE ws_bridge_session_end_total counter\n"),
            "listed before its first sample: {fresh}"
        );
    }
}
