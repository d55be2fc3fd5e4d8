//! Transport failures, as the runtime adapters report them to the session.

use crate::text::{display_from_text, push_num, Text};
use crate::wire::close;
use crate::wire::tls::TlsFailure;

/// Why the transport failed to open, or failed while open. Adapters fill it (native: from
/// their typed TCP/TLS/WebSocket errors; browser: from the `CloseEvent`); the session decides
/// from the variant alone whether to reconnect, and a close code's retry comes from
/// [`close::is_retried`], never from the adapter. The strings are the adapter's words for people.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportFailure {
    /// The connection ended without a close frame: WebSocket 1005/1006 after it opened, a TCP
    /// EOF or reset. Retried.
    Dropped(String),
    /// The peer closed the WebSocket with `code` and `reason` (from ws-bridge: see
    /// [`close`]). Retried when [`close::is_retried`] says so.
    Closed {
        /// The WebSocket close code (RFC 6455 §7.4; 4000-4999 are ws-bridge's).
        code: u16,
        /// The close frame's reason text, or the code's default reason when it had none.
        reason: String,
    },
    /// The WebSocket upgrade was refused (an HTTP status, no `mqtt` subprotocol) or, in a
    /// browser, which hides the status, failed before it opened. Retried: a bridge that is
    /// down looks the same.
    HandshakeRefused(String),
    /// The broker could not be reached: name resolution, connection refused, no route. Retried.
    Unreachable(String),
    /// The transport did not open within the connect timeout. Retried.
    Timeout(u64),
    /// The server's certificate failed verification (as ws-bridge's close 4010-4015). Not
    /// retried: it will not change by itself.
    TlsVerification {
        /// Which check the certificate failed.
        kind: TlsFailure,
        /// The TLS library's or the bridge's words for it, for people.
        detail: String,
    },
    /// The TLS handshake failed otherwise, e.g. the server refused us with an alert (as
    /// ws-bridge's close 4016). Not retried.
    TlsHandshake(String),
    /// The server refused the client certificate presented, or wanted one and got none (as
    /// ws-bridge's close 4017). Not retried: the certificate or the broker's CA list must change.
    TlsClientCertRefused(String),
    /// The peer broke the WebSocket protocol (a text frame, bad framing). Retried.
    WebSocketProtocol(String),
    /// Reading or writing failed on an open connection. Retried.
    Io(String),
    /// Local set-up the transport cannot use (a CA file, a server name, a WebSocket the browser
    /// refuses to create). Not retried: the caller must fix it.
    Setup(String),
}

impl TransportFailure {
    /// Whether reconnecting later may succeed without a change on the client's side.
    pub fn is_retried(&self) -> bool {
        match self {
            TransportFailure::Closed { code, .. } => close::is_retried(*code),
            TransportFailure::TlsVerification { .. }
            | TransportFailure::TlsHandshake(_)
            | TransportFailure::TlsClientCertRefused(_)
            | TransportFailure::Setup(_) => false,
            TransportFailure::Dropped(_)
            | TransportFailure::HandshakeRefused(_)
            | TransportFailure::Unreachable(_)
            | TransportFailure::Timeout(_)
            | TransportFailure::WebSocketProtocol(_)
            | TransportFailure::Io(_) => true,
        }
    }

    /// A short stable code for the JavaScript API: "closed" for a close frame, "tls" for a TLS
    /// failure (its kind is [`TransportFailure::tls_failure`]), else "transport".
    pub fn code(&self) -> &'static str {
        match self {
            TransportFailure::Closed { .. } => "closed",
            TransportFailure::TlsVerification { .. }
            | TransportFailure::TlsHandshake(_)
            | TransportFailure::TlsClientCertRefused(_) => "tls",
            _ => "transport",
        }
    }

    /// Which TLS check failed, for a TLS failure.
    pub fn tls_failure(&self) -> Option<TlsFailure> {
        match self {
            TransportFailure::TlsVerification { kind, .. } => Some(*kind),
            TransportFailure::TlsHandshake(_) => Some(TlsFailure::HandshakeFailed),
            TransportFailure::TlsClientCertRefused(_) => Some(TlsFailure::ClientCertRefused),
            _ => None,
        }
    }

    /// A close frame from the peer, its reason defaulted from [`close::default_reason`].
    pub fn closed(code: u16, reason: &str) -> Self {
        let reason = if reason.is_empty() {
            close::default_reason(code)
        } else {
            reason
        };
        TransportFailure::Closed {
            code,
            reason: reason.to_string(),
        }
    }
}

impl Text for TransportFailure {
    fn write_text(&self, out: &mut String) {
        match self {
            TransportFailure::Closed { code, reason } => {
                out.push_str("closed by the server (");
                push_num(out, u64::from(*code));
                out.push_str("): ");
                out.push_str(reason);
            }
            TransportFailure::Timeout(ms) => {
                out.push_str("no connection within ");
                push_num(out, *ms);
                out.push_str(" ms");
            }
            TransportFailure::TlsVerification { detail, .. } => out.push_str(detail),
            TransportFailure::Dropped(words)
            | TransportFailure::HandshakeRefused(words)
            | TransportFailure::Unreachable(words)
            | TransportFailure::TlsHandshake(words)
            | TransportFailure::TlsClientCertRefused(words)
            | TransportFailure::WebSocketProtocol(words)
            | TransportFailure::Io(words)
            | TransportFailure::Setup(words) => out.push_str(words),
        }
    }
}

display_from_text!(TransportFailure);

impl std::error::Error for TransportFailure {}
