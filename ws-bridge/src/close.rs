//! WebSocket close codes and HTTP statuses the bridge uses, one constant per failure class.
//!
//! The browser client maps these to typed errors, so they are part of the bridge's public
//! contract: never renumber a constant, only add new ones.
//!
//! Before the upgrade (plain HTTP), refusals are HTTP statuses:
//!
//! | HTTP | when |
//! |---|---|
//! | 400 | malformed request, bad product id in a template route, missing `Sec-WebSocket-Key`, unsupported subprotocol |
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
//! | 4016 | [`TLS_HANDSHAKE_FAILED`] | `"TLS handshake failed: ..."` (alert from the broker, e.g. client certificate refused) |
//! | 4502 | [`UPSTREAM_UNREACHABLE`] | `"upstream unreachable: ..."` (resolve, connect, timeout) |
//!
//! Why 4502 and not 1014 ("bad gateway"): tungstenite (0.30 and earlier), used by native
//! clients, treats a received 1014 as a protocol violation and reports 1002 instead.

/// Normal closure: the upstream closed the connection, or the session was idle too long.
pub const NORMAL: u16 = 1000;
/// The bridge is shutting down (reason `"going away"`).
pub const GOING_AWAY: u16 = 1001;
/// The browser violated the WebSocket protocol or sent a malformed MQTT fixed header.
pub const PROTOCOL_ERROR: u16 = 1002;
/// The browser sent a text frame; MQTT over WebSockets uses binary frames only.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// An MQTT packet (either direction) or a WebSocket message exceeded the configured maximum.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// Unexpected failure inside the bridge, or the upstream broke the MQTT framing.
pub const INTERNAL_ERROR: u16 = 1011;
/// The upstream could not be reached: name resolution, TCP connect or connect timeout
/// (mirrors HTTP 502; 1014 is avoided because tungstenite clients reject it).
pub const UPSTREAM_UNREACHABLE: u16 = 4502;
/// Idle sessions are closed with [`NORMAL`] and this reason.
pub const IDLE_TIMEOUT: &str = "idle timeout";
/// The browser did not answer WebSocket pings in time.
pub const PING_TIMEOUT: u16 = 4000;
/// The route is unknown (normally refused with HTTP 404 before the upgrade).
pub const ROUTE_UNKNOWN: u16 = 4001;
/// The Origin is not allowed (normally refused with HTTP 403 before the upgrade).
pub const ORIGIN_NOT_ALLOWED: u16 = 4003;
/// TLS verification of the upstream failed: the certificate's issuer is not trusted by the route's CA.
pub const TLS_UNKNOWN_ISSUER: u16 = 4010;
/// TLS verification of the upstream failed: the certificate is not valid for the route's SNI name.
pub const TLS_NAME_MISMATCH: u16 = 4011;
/// TLS verification of the upstream failed: the certificate has expired.
pub const TLS_EXPIRED: u16 = 4012;
/// TLS verification of the upstream failed: the certificate is not valid yet.
pub const TLS_NOT_YET_VALID: u16 = 4013;
/// TLS verification of the upstream failed: the certificate is revoked.
pub const TLS_REVOKED: u16 = 4014;
/// TLS verification of the upstream failed for another certificate reason (bad signature, purpose...).
pub const TLS_BAD_CERTIFICATE: u16 = 4015;
/// The TLS handshake with the upstream failed for a reason other than certificate verification
/// (an alert from the broker, e.g. it refused or required a client certificate; protocol mismatch).
pub const TLS_HANDSHAKE_FAILED: u16 = 4016;

/// Longest close reason the WebSocket protocol allows (125-byte control payload minus the code).
pub const MAX_REASON_BYTES: usize = 123;

/// Truncates `reason` to at most [`MAX_REASON_BYTES`] bytes on a character boundary.
pub fn truncate_reason(reason: &str) -> &str {
    if reason.len() <= MAX_REASON_BYTES {
        return reason;
    }
    let mut end = MAX_REASON_BYTES;
    while end > 0 && !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason.get(..end).unwrap_or("")
}

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

    /// A short, stable label for metrics (`failures_total{reason=...}`).
    pub fn metric_label(&self) -> &'static str {
        match self.code {
            NORMAL if self.reason == IDLE_TIMEOUT => "idle_timeout",
            NORMAL => "normal",
            GOING_AWAY => "shutdown",
            PROTOCOL_ERROR => "protocol_error",
            UNSUPPORTED_DATA => "text_frame",
            MESSAGE_TOO_BIG => "too_large",
            INTERNAL_ERROR => "internal",
            UPSTREAM_UNREACHABLE => "upstream_unreachable",
            PING_TIMEOUT => "ping_timeout",
            ROUTE_UNKNOWN => "route_unknown",
            ORIGIN_NOT_ALLOWED => "origin_not_allowed",
            TLS_UNKNOWN_ISSUER..=TLS_BAD_CERTIFICATE => "tls_verification",
            TLS_HANDSHAKE_FAILED => "tls_handshake",
            _ => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_truncation_respects_char_boundaries() {
        let long = "é".repeat(100);
        let t = truncate_reason(&long);
        assert!(t.len() <= MAX_REASON_BYTES);
        assert_eq!(t.len() % 2, 0);
        assert_eq!(truncate_reason("short"), "short");
    }
}
