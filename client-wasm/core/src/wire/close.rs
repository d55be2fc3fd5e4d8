//! WebSocket close codes between the bridge and its clients, their classes, and the one retry
//! rule. The bridge sends them; the browser adapter and the native CLI read them. Never renumber
//! a code, only add new ones.
//!
//! | code | constant | class | retried |
//! |---|---|---|---|
//! | 1000 | [`NORMAL`] | upstream closed, idle timeout | yes |
//! | 1001 | [`GOING_AWAY`] | bridge shutting down | yes |
//! | 1002 | [`PROTOCOL_ERROR`] | malformed MQTT or WebSocket framing from the client | no |
//! | 1003 | [`UNSUPPORTED_DATA`] | text frame | no |
//! | 1005, 1006, 0 | (no close frame), [`NO_CODE`] | connection dropped | yes |
//! | 1007 | [`INVALID_PAYLOAD`] | invalid payload data | no |
//! | 1008 | [`POLICY_VIOLATION`] | policy violation | no |
//! | 1009 | [`MESSAGE_TOO_BIG`] | packet over the maximum | no |
//! | 1010 | [`MANDATORY_EXTENSION`] | extension refused | no |
//! | 1011 | [`INTERNAL_ERROR`] | bridge failure, upstream broke MQTT framing | yes |
//! | 1012-1014 | [`SERVICE_RESTART`], [`TRY_AGAIN_LATER`], [`BAD_GATEWAY`] | restart, try again later, bad gateway | yes |
//! | 4000 | [`PING_TIMEOUT`] | the client stopped answering pings | yes |
//! | 4001 | [`ROUTE_UNKNOWN`] | no such route | no |
//! | 4003 | [`ORIGIN_NOT_ALLOWED`] | Origin not in the route's allow-list | no |
//! | 4010-4015 | [`TLS_UNKNOWN_ISSUER`]..[`TLS_BAD_CERTIFICATE`] | the broker's certificate failed verification | no |
//! | 4016 | [`TLS_HANDSHAKE_FAILED`] | TLS handshake with the broker failed (alert) | no |
//! | 4017 | [`TLS_CLIENT_CERT_REFUSED`] | the broker refused the route's client certificate (or wanted one) | no |
//! | 4029 | [`RATE_LIMITED`] | too many MQTT CONNECTs from the client's address | yes, with backoff |
//! | 4401 | [`ADMISSION_REFUSED`] | the route's admission token does not admit this CONNECT | no |
//! | 4400-4499 | [`REFUSALS_FIRST`]..[`REFUSALS_LAST`] | refusals, by analogy with HTTP 4xx | no |
//! | 4502 | [`UPSTREAM_UNREACHABLE`] | broker unreachable (resolve, connect, timeout) | yes |
//! | any other | | unknown | yes, with backoff |
//!
//! Sent by a browser client (never by the bridge): [`CLIENT_TEXT_FRAME`] (4903) when the server
//! sends a text frame. The WebSocket API's `close(code)` throws `InvalidAccessError` for any
//! code other than 1000 and 3000-4999, so a browser cannot send 1003; 4903 reads as "1003, from
//! the client". The bridge reads it like any code it does not know.
//!
//! Why 4502 and not 1014 ("bad gateway"): tungstenite (0.30 and earlier), used by native
//! clients, treats a received 1014 as a protocol violation and reports 1002 instead.
//!
//! Why 4029 and not 4429: the 4400-4499 range is permanent refusals, and a rate limit is the
//! opposite, a "come back later" (the 29 of HTTP 429 kept).
//!
//! Why 1002 is not retried: the bridge sends it for bytes the client itself produced; the same
//! session would send them again.

/// Normal closure: the upstream closed the connection, or the session was idle too long.
pub const NORMAL: u16 = 1000;
/// The bridge is shutting down (reason `"going away"`).
pub const GOING_AWAY: u16 = 1001;
/// The client violated the WebSocket protocol or sent a malformed MQTT fixed header.
pub const PROTOCOL_ERROR: u16 = 1002;
/// The client sent a text frame; MQTT over WebSockets uses binary frames only.
pub const UNSUPPORTED_DATA: u16 = 1003;
/// No close frame was received (reported locally, never sent).
pub const NO_STATUS: u16 = 1005;
/// The connection dropped without a close frame (reported locally, never sent).
pub const ABNORMAL: u16 = 1006;
/// An MQTT packet (either direction) or a WebSocket message exceeded the configured maximum.
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// Unexpected failure inside the bridge, or the upstream broke the MQTT framing.
pub const INTERNAL_ERROR: u16 = 1011;
/// The peer sent data its message type cannot carry (RFC 6455 §7.4.1), e.g. text that is not
/// UTF-8.
pub const INVALID_PAYLOAD: u16 = 1007;
/// The peer broke a policy (RFC 6455 §7.4.1).
pub const POLICY_VIOLATION: u16 = 1008;
/// The client needs an extension the server did not agree to (RFC 6455 §7.4.1).
pub const MANDATORY_EXTENSION: u16 = 1010;
/// The server is restarting (IANA registry).
pub const SERVICE_RESTART: u16 = 1012;
/// The server is overloaded: try again later (IANA registry).
pub const TRY_AGAIN_LATER: u16 = 1013;
/// A gateway got an invalid response from upstream (IANA registry). The bridge sends
/// [`UPSTREAM_UNREACHABLE`] instead (see the module).
pub const BAD_GATEWAY: u16 = 1014;
/// What some WebSocket implementations report for a close without any code.
pub const NO_CODE: u16 = 0;
/// The client did not answer WebSocket pings in time.
pub const PING_TIMEOUT: u16 = 4000;
/// The route is unknown (normally refused with HTTP 404 before the upgrade).
pub const ROUTE_UNKNOWN: u16 = 4001;
/// The Origin is not allowed (normally refused with HTTP 403 before the upgrade).
pub const ORIGIN_NOT_ALLOWED: u16 = 4003;
/// TLS verification of the upstream failed: the certificate's issuer is not trusted.
pub const TLS_UNKNOWN_ISSUER: u16 = 4010;
/// TLS verification of the upstream failed: the certificate is not valid for the SNI name.
pub const TLS_NAME_MISMATCH: u16 = 4011;
/// TLS verification of the upstream failed: the certificate has expired.
pub const TLS_EXPIRED: u16 = 4012;
/// TLS verification of the upstream failed: the certificate is not valid yet.
pub const TLS_NOT_YET_VALID: u16 = 4013;
/// TLS verification of the upstream failed: the certificate is revoked.
pub const TLS_REVOKED: u16 = 4014;
/// TLS verification of the upstream failed for another certificate reason.
pub const TLS_BAD_CERTIFICATE: u16 = 4015;
/// The TLS handshake with the upstream failed for a reason other than certificate verification
/// (an alert from the broker, e.g. it refused or required a client certificate).
pub const TLS_HANDSHAKE_FAILED: u16 = 4016;
/// The broker answered the client certificate (or its absence) with an alert such as
/// `certificate_required`, `unknown_ca` or `bad_certificate`: the route's certificate is refused.
pub const TLS_CLIENT_CERT_REFUSED: u16 = 4017;
/// Too many MQTT CONNECTs from the client's address (the bridge's per-address rate limit):
/// come back later, with backoff.
pub const RATE_LIMITED: u16 = 4029;
/// The route's admission refused the session's CONNECT: its client id is not the one the
/// admission token was issued for (other admission refusals are HTTP 401 before the upgrade).
pub const ADMISSION_REFUSED: u16 = 4401;
/// The upstream could not be reached: name resolution, TCP connect or connect timeout.
pub const UPSTREAM_UNREACHABLE: u16 = 4502;
/// The first and last code of the refusals, by analogy with HTTP 4xx: permanent.
pub const REFUSALS_FIRST: u16 = 4400;
/// The last code of the refusals (see [`REFUSALS_FIRST`]).
pub const REFUSALS_LAST: u16 = 4499;

/// A browser client closes with this when the server sent a text frame (1003 in the 4xxx range
/// the WebSocket API lets a page send).
pub const CLIENT_TEXT_FRAME: u16 = 4903;

/// Idle sessions are closed with [`NORMAL`] and this reason.
pub const IDLE_TIMEOUT_REASON: &str = "idle timeout";

/// Longest close reason the WebSocket protocol allows (125-byte control payload minus the code).
pub const MAX_REASON_BYTES: usize = 123;

/// What a close code means to whoever reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseClass {
    /// 1000: the upstream closed, or the session was idle.
    Normal,
    /// 1001, 1012, 1013: the server is going away or restarting; come back later.
    GoingAway,
    /// 1005, 1006: no close frame; the connection dropped.
    Dropped,
    /// 1002, 1003, 1007, 1010: the client broke the WebSocket or MQTT framing.
    Protocol,
    /// 1009: a packet was larger than the bridge allows.
    TooLarge,
    /// 1011: failure inside the bridge, or the broker broke MQTT framing.
    Internal,
    /// 4000: the client stopped answering pings.
    PingTimeout,
    /// 4001: no such route on the bridge.
    RouteUnknown,
    /// 4029: too many CONNECTs from this address; come back later.
    RateLimited,
    /// 4003, 1008, 4400-4499 (4401 included): the bridge refused this client.
    NotAllowed,
    /// 4010-4015: the broker's certificate failed verification.
    TlsVerification,
    /// 4016, 4017: the TLS handshake with the broker failed (4017: its client certificate
    /// was refused).
    TlsHandshake,
    /// 4502, 1014: the broker could not be reached.
    UpstreamUnreachable,
    /// Any other code.
    Other,
}

impl CloseClass {
    /// The class of `code`.
    pub fn of(code: u16) -> CloseClass {
        match code {
            NORMAL => CloseClass::Normal,
            GOING_AWAY | SERVICE_RESTART | TRY_AGAIN_LATER => CloseClass::GoingAway,
            NO_STATUS | ABNORMAL | NO_CODE => CloseClass::Dropped,
            PROTOCOL_ERROR | UNSUPPORTED_DATA | INVALID_PAYLOAD | MANDATORY_EXTENSION => {
                CloseClass::Protocol
            }
            MESSAGE_TOO_BIG => CloseClass::TooLarge,
            INTERNAL_ERROR => CloseClass::Internal,
            PING_TIMEOUT => CloseClass::PingTimeout,
            ROUTE_UNKNOWN => CloseClass::RouteUnknown,
            RATE_LIMITED => CloseClass::RateLimited,
            ORIGIN_NOT_ALLOWED | ADMISSION_REFUSED | POLICY_VIOLATION => CloseClass::NotAllowed,
            REFUSALS_FIRST..=REFUSALS_LAST => CloseClass::NotAllowed,
            TLS_UNKNOWN_ISSUER..=TLS_BAD_CERTIFICATE => CloseClass::TlsVerification,
            TLS_HANDSHAKE_FAILED | TLS_CLIENT_CERT_REFUSED => CloseClass::TlsHandshake,
            UPSTREAM_UNREACHABLE | BAD_GATEWAY => CloseClass::UpstreamUnreachable,
            _ => CloseClass::Other,
        }
    }

    /// The one retry rule: whether reconnecting later may succeed without a change on the
    /// client's side. Refusals and the client's own protocol errors are permanent; outages,
    /// restarts and unknown codes are retried with backoff.
    pub fn is_retried(self) -> bool {
        !matches!(
            self,
            CloseClass::Protocol
                | CloseClass::TooLarge
                | CloseClass::RouteUnknown
                | CloseClass::NotAllowed
                | CloseClass::TlsVerification
                | CloseClass::TlsHandshake
        )
    }

    /// A short stable label, for metrics and error codes.
    pub fn label(self) -> &'static str {
        match self {
            CloseClass::Normal => "normal",
            CloseClass::GoingAway => "going_away",
            CloseClass::Dropped => "dropped",
            CloseClass::Protocol => "protocol_error",
            CloseClass::TooLarge => "too_large",
            CloseClass::Internal => "internal",
            CloseClass::PingTimeout => "ping_timeout",
            CloseClass::RouteUnknown => "route_unknown",
            CloseClass::RateLimited => "rate_limited",
            CloseClass::NotAllowed => "not_allowed",
            CloseClass::TlsVerification => "tls_verification",
            CloseClass::TlsHandshake => "tls_handshake",
            CloseClass::UpstreamUnreachable => "upstream_unreachable",
            CloseClass::Other => "other",
        }
    }
}

/// Whether reconnecting after a close with `code` may succeed (see [`CloseClass::is_retried`]).
pub fn is_retried(code: u16) -> bool {
    CloseClass::of(code).is_retried()
}

/// The words to show when a close frame came without a reason.
pub fn default_reason(code: u16) -> &'static str {
    match code {
        NORMAL => "normal closure",
        GOING_AWAY => "going away",
        PROTOCOL_ERROR => "protocol error",
        UNSUPPORTED_DATA => "unsupported data",
        POLICY_VIOLATION => "policy violation",
        MESSAGE_TOO_BIG => "message too big",
        INTERNAL_ERROR => "internal error",
        BAD_GATEWAY => "bad gateway",
        PING_TIMEOUT => "ping timeout",
        ROUTE_UNKNOWN => "route unknown",
        ORIGIN_NOT_ALLOWED => "origin not allowed",
        RATE_LIMITED => "rate limited: too many connects, try again later",
        ADMISSION_REFUSED => "admission refused",
        TLS_UNKNOWN_ISSUER..=TLS_BAD_CERTIFICATE => "TLS verification failed",
        TLS_HANDSHAKE_FAILED => "TLS handshake failed",
        TLS_CLIENT_CERT_REFUSED => "TLS client certificate refused",
        UPSTREAM_UNREACHABLE => "upstream unreachable",
        _ => "closed",
    }
}

/// Truncates `reason` to at most [`MAX_REASON_BYTES`] bytes on a character boundary
/// (RFC 6455 §5.5: control frames carry at most 125 bytes).
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

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn refusals_are_permanent_and_outages_are_retried() {
        for code in [
            1002, 1003, 1007, 1008, 1009, 1010, 4001, 4003, 4010, 4016, 4017, 4400, 4401, 4499,
        ] {
            assert!(!is_retried(code), "{code}");
        }
        for code in [
            1000, 1001, 1005, 1006, 1011, 1012, 1013, 1014, 4000, 4029, 4502, 4999, 3000,
        ] {
            assert!(is_retried(code), "{code}");
        }
    }

    #[test]
    fn every_tls_code_is_a_tls_class() {
        for code in TLS_UNKNOWN_ISSUER..=TLS_BAD_CERTIFICATE {
            assert_eq!(CloseClass::of(code), CloseClass::TlsVerification);
        }
        assert_eq!(
            CloseClass::of(TLS_HANDSHAKE_FAILED),
            CloseClass::TlsHandshake
        );
        assert_eq!(
            CloseClass::of(TLS_CLIENT_CERT_REFUSED),
            CloseClass::TlsHandshake
        );
    }

    #[test]
    fn reason_truncation_respects_char_boundaries() {
        let long = "é".repeat(100);
        let t = truncate_reason(&long);
        assert!(t.len() <= MAX_REASON_BYTES);
        assert_eq!(t.len() % 2, 0);
        assert_eq!(truncate_reason("short"), "short");
    }
}
