//! How the bridge refuses and ends sessions: HTTP statuses before the upgrade, close frames after.
//!
//! The close codes, their classes, the retry rule and reason truncation are the contract shared
//! with the clients, so they are defined once in [`mqtt_core::wire::close`] and re-exported here;
//! this module adds only what is the bridge's own (the [`Close`] value and its metric labels).
//!
//! Before the upgrade (plain HTTP), refusals are HTTP statuses:
//!
//! | HTTP | when |
//! |---|---|
//! | 400 | malformed request, bad product id in a template route, missing `Sec-WebSocket-Key`, unsupported subprotocol |
//! | 401 | admission token missing, invalid, expired or for another route (see [`crate::admission`]) |
//! | 403 | `Origin` not in the route's allow-list |
//! | 404 | unknown route, unknown path, static file not found |
//! | 405 | method other than `GET` (or `HEAD` for static files) |
//! | 408 | request head not complete within the handshake timeout |
//! | 426 | a WebSocket path asked without `Upgrade: websocket`, or a version other than 13 |
//! | 429 | too many connections from this client address |
//! | 431 | request head larger than the cap |
//! | 503 | too many connections in total, or the bridge is shutting down |
//!
//! After the upgrade, failures are WebSocket close frames. The reason text (at most 123 bytes)
//! is meant to be shown to a person:
//!
//! | code | constant | reason starts with |
//! |---|---|---|
//! | 1000 | [`NORMAL`] | `"upstream closed"`, `"idle timeout"` (see [`IDLE_TIMEOUT`]) |
//! | 1001 | [`GOING_AWAY`] | `"going away"` (bridge shutting down) |
//! | 1002 | [`PROTOCOL_ERROR`] | `"malformed MQTT packet"`, WebSocket protocol violations |
//! | 1003 | [`UNSUPPORTED_DATA`] | `"text frames are not allowed"` |
//! | 1009 | [`MESSAGE_TOO_BIG`] | `"packet too large: N bytes (max M)"` in either direction |
//! | 1011 | [`INTERNAL_ERROR`] | `"internal error"`, or the upstream broke the MQTT framing |
//! | 4000 | [`PING_TIMEOUT`] | `"ping timeout"`: the browser stopped answering pings |
//! | 4001 | [`ROUTE_UNKNOWN`] | `"route unknown"` (normally refused with HTTP 404 first) |
//! | 4003 | [`ORIGIN_NOT_ALLOWED`] | `"origin not allowed"` (normally refused with HTTP 403 first) |
//! | 4010 | [`TLS_UNKNOWN_ISSUER`] | `"TLS verification failed: unknown issuer"` |
//! | 4011 | [`TLS_NAME_MISMATCH`] | `"TLS verification failed: certificate not valid for NAME"` |
//! | 4012 | [`TLS_EXPIRED`] | `"TLS verification failed: certificate expired"` |
//! | 4013 | [`TLS_NOT_YET_VALID`] | `"TLS verification failed: certificate not yet valid"` |
//! | 4014 | [`TLS_REVOKED`] | `"TLS verification failed: certificate revoked"` |
//! | 4015 | [`TLS_BAD_CERTIFICATE`] | `"TLS verification failed: ..."` (any other certificate problem) |
//! | 4016 | [`TLS_HANDSHAKE_FAILED`] | `"TLS handshake failed: ..."` (an alert from the broker, a protocol mismatch) |
//! | 4017 | [`TLS_CLIENT_CERT_REFUSED`] | `"TLS client certificate refused: ..."` (the broker refused the route's certificate, or wants one) |
//! | 4029 | [`RATE_LIMITED`] | `"rate limited: ..."`: too many CONNECTs from the address (see [`crate::rate_limit`]) |
//! | 4401 | [`ADMISSION_REFUSED`] | `"admission refused: ..."`: the CONNECT's client id is not the token's (see [`crate::admission`]) |
//! | 4502 | [`UPSTREAM_UNREACHABLE`] | `"upstream unreachable: ..."` (resolve, connect, timeout) |
//!
//! Why 4502 and not 1014 ("bad gateway"): tungstenite (0.30 and earlier), used by native
//! clients, treats a received 1014 as a protocol violation and reports 1002 instead.

pub use mqtt_core::wire::close::{
    truncate_reason, CloseClass, ADMISSION_REFUSED, GOING_AWAY,
    IDLE_TIMEOUT_REASON as IDLE_TIMEOUT, INTERNAL_ERROR, MAX_REASON_BYTES, MESSAGE_TOO_BIG, NORMAL,
    ORIGIN_NOT_ALLOWED, PING_TIMEOUT, PROTOCOL_ERROR, RATE_LIMITED, ROUTE_UNKNOWN,
    TLS_BAD_CERTIFICATE, TLS_CLIENT_CERT_REFUSED, TLS_EXPIRED, TLS_HANDSHAKE_FAILED,
    TLS_NAME_MISMATCH, TLS_NOT_YET_VALID, TLS_REVOKED, TLS_UNKNOWN_ISSUER, UNSUPPORTED_DATA,
    UPSTREAM_UNREACHABLE,
};

use crate::metrics::SessionEnd;

/// A close code and the reason shown to the person using the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    /// One of the constants of this module.
    pub code: u16,
    /// Human-readable reason, truncated to [`MAX_REASON_BYTES`] when sent.
    pub reason: String,
}

impl Close {
    /// Builds a close code with its reason.
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        Close {
            code,
            reason: reason.into(),
        }
    }

    /// How `ws_bridge_session_end_total{reason=...}` counts it.
    pub fn metric_label(&self) -> SessionEnd {
        match self.code {
            NORMAL if self.reason == IDLE_TIMEOUT => SessionEnd::IdleTimeout,
            NORMAL => SessionEnd::Normal,
            GOING_AWAY => SessionEnd::Shutdown,
            PROTOCOL_ERROR => SessionEnd::ProtocolError,
            UNSUPPORTED_DATA => SessionEnd::TextFrame,
            MESSAGE_TOO_BIG => SessionEnd::TooLarge,
            INTERNAL_ERROR => SessionEnd::Internal,
            UPSTREAM_UNREACHABLE => SessionEnd::UpstreamUnreachable,
            PING_TIMEOUT => SessionEnd::PingTimeout,
            ROUTE_UNKNOWN => SessionEnd::RouteUnknown,
            ORIGIN_NOT_ALLOWED => SessionEnd::OriginNotAllowed,
            ADMISSION_REFUSED => SessionEnd::AdmissionRefused,
            RATE_LIMITED => SessionEnd::RateLimited,
            TLS_UNKNOWN_ISSUER..=TLS_BAD_CERTIFICATE => SessionEnd::TlsVerification,
            TLS_HANDSHAKE_FAILED | TLS_CLIENT_CERT_REFUSED => SessionEnd::TlsHandshake,
            _ => SessionEnd::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_labels_tell_idle_from_upstream_close() {
        assert_eq!(
            Close::new(NORMAL, IDLE_TIMEOUT).metric_label(),
            SessionEnd::IdleTimeout
        );
        assert_eq!(
            Close::new(NORMAL, "upstream closed").metric_label(),
            SessionEnd::Normal
        );
        assert_eq!(
            Close::new(TLS_REVOKED, "x").metric_label(),
            SessionEnd::TlsVerification
        );
        assert_eq!(Close::new(4999, "x").metric_label(), SessionEnd::Other);
    }
}
