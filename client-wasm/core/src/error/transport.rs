//! Transport failures, as the runtime adapters report them to the session.

use crate::wire::close;
use crate::wire::tls::TlsFailure;

/// Why the transport failed to open, or failed while open. Adapters fill it (native: from
/// their typed TCP/TLS/WebSocket errors; browser: from the `CloseEvent`); the session decides
/// from the variant alone whether to reconnect, and a close code's retry comes from
/// [`close::is_retried`], never from the adapter. The strings are the adapter's words for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportFailure {
    /// The connection ended without a close frame: WebSocket 1005/1006 after it opened, a TCP
    /// EOF or reset. Retried.
    #[error("{0}")]
    Dropped(String),
    /// The peer closed the WebSocket with `code` and `reason` (from ws-bridge: see
    /// [`close`]). Retried when [`close::is_retried`] says so.
    #[error("closed by the server ({code}): {reason}")]
    Closed {
        /// The WebSocket close code (RFC 6455 §7.4; 4000-4999 are ws-bridge's).
        code: u16,
        /// The close frame's reason text, or the code's default reason when it had none.
        reason: String,
    },
    /// The WebSocket upgrade was refused (an HTTP status, no `mqtt` subprotocol) or, in a
    /// browser, which hides the status, failed before it opened. Retried: a bridge that is
    /// down looks the same.
    #[error("{0}")]
    HandshakeRefused(String),
    /// The broker could not be reached: name resolution, connection refused, no route. Retried.
    #[error("{0}")]
    Unreachable(String),
    /// The transport did not open within the connect timeout. Retried.
    #[error("no connection within {0} ms")]
    Timeout(u64),
    /// The server's certificate failed verification (as ws-bridge's close 4010-4015). Not
    /// retried: it will not change by itself.
    #[error("{detail}")]
    TlsVerification {
        /// Which check the certificate failed.
        kind: TlsFailure,
        /// The TLS library's or the bridge's words for it, for people.
        detail: String,
    },
    /// The TLS handshake failed otherwise, e.g. the server refused us with an alert (as
    /// ws-bridge's close 4016). Not retried.
    #[error("{0}")]
    TlsHandshake(String),
    /// The peer broke the WebSocket protocol (a text frame, bad framing). Retried.
    #[error("{0}")]
    WebSocketProtocol(String),
    /// Reading or writing failed on an open connection. Retried.
    #[error("{0}")]
    Io(String),
    /// Local set-up the transport cannot use (a CA file, a server name, a WebSocket the browser
    /// refuses to create). Not retried: the caller must fix it.
    #[error("{0}")]
    Setup(String),
}

impl TransportFailure {
    /// Whether reconnecting later may succeed without a change on the client's side.
    pub fn is_retried(&self) -> bool {
        match self {
            TransportFailure::Closed { code, .. } => close::is_retried(*code),
            TransportFailure::TlsVerification { .. }
            | TransportFailure::TlsHandshake(_)
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
            TransportFailure::TlsVerification { .. } | TransportFailure::TlsHandshake(_) => "tls",
            _ => "transport",
        }
    }

    /// Which TLS check failed, for a TLS failure.
    pub fn tls_failure(&self) -> Option<TlsFailure> {
        match self {
            TransportFailure::TlsVerification { kind, .. } => Some(*kind),
            TransportFailure::TlsHandshake(_) => Some(TlsFailure::HandshakeFailed),
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
