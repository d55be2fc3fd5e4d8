//! The session's errors. Each variant says whose fault it is and what the caller should do.

use crate::codec::DecodeError;
use crate::topic::TopicError;

/// A CONNACK return code other than "accepted" (MQTT 3.1.1 table 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectRefused {
    /// Code 1. The broker does not speak MQTT 3.1.1. Permanent.
    #[error("connection refused: unacceptable protocol version")]
    UnacceptableProtocolVersion,
    /// Code 2. The client identifier is not allowed. Permanent.
    #[error("connection refused: identifier rejected")]
    IdentifierRejected,
    /// Code 3. The broker is up but MQTT is unavailable. Retried with backoff.
    #[error("connection refused: server unavailable")]
    ServerUnavailable,
    /// Code 4. Wrong user name or password. Permanent: fix the credentials.
    #[error("connection refused: bad user name or password")]
    BadUserNameOrPassword,
    /// Code 5. The credentials are valid but not authorised. Permanent.
    #[error("connection refused: not authorized")]
    NotAuthorized,
}

impl ConnectRefused {
    /// Whether reconnecting later may succeed without a change on the client side.
    pub fn is_transient(self) -> bool {
        matches!(self, ConnectRefused::ServerUnavailable)
    }

    pub(crate) fn from_code(code: crate::packet::ConnectReturnCode) -> Option<Self> {
        use crate::packet::ConnectReturnCode as Code;
        match code {
            Code::Accepted => None,
            Code::RefusedProtocolVersion => Some(Self::UnacceptableProtocolVersion),
            Code::RefusedIdentifierRejected => Some(Self::IdentifierRejected),
            Code::ServerUnavailable => Some(Self::ServerUnavailable),
            Code::BadUsernamePassword => Some(Self::BadUserNameOrPassword),
            Code::NotAuthorized => Some(Self::NotAuthorized),
        }
    }
}

/// Everything that can go wrong in a session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The broker (or something in between) sent bytes that are not valid MQTT 3.1.1, or a
    /// packet a server must not send. The peer's fault; the connection is dropped and retried.
    #[error("protocol error from the broker: {0}")]
    Protocol(#[from] DecodeError),
    /// The broker sent a valid packet at the wrong moment (e.g. a PUBACK for an unknown id).
    #[error("protocol violation by the broker: {0}")]
    Violation(String),
    /// The broker refused the connection. Retried only when [`ConnectRefused::is_transient`].
    #[error(transparent)]
    Refused(#[from] ConnectRefused),
    /// No CONNACK arrived in time. Retried.
    #[error("no CONNACK within {0} ms")]
    ConnectTimeout(u64),
    /// No PINGRESP arrived in time: the link is dead or stalled. Retried.
    #[error("keepalive timeout: no PINGRESP within {0} ms")]
    KeepaliveTimeout(u64),
    /// The transport failed or was closed; the adapter's words. Retried.
    #[error("connection closed: {0}")]
    Transport(String),
    /// The peer closed the transport with a code and reason (a WebSocket close frame from the
    /// bridge, say). `retry` is the adapter's judgement of the code: false for refusals that
    /// will not change by themselves (route unknown, Origin not allowed, TLS verification).
    #[error("closed by the server ({code}): {reason}")]
    Closed {
        code: u16,
        reason: String,
        retry: bool,
    },
    /// The caller gave an invalid topic name or filter.
    #[error("invalid topic: {0}")]
    InvalidTopic(#[from] TopicError),
    /// The offline queue is full; the publish was NOT accepted. Retry after `Published` events.
    #[error("publish queue is full ({0} messages waiting)")]
    QueueFull(usize),
    /// The message is larger than MQTT allows.
    #[error("payload of {0} bytes is too large for one MQTT packet")]
    PayloadTooLarge(usize),
    /// A subscribe or unsubscribe without any filter.
    #[error("at least one topic filter is required")]
    NoFilters,
}

impl Error {
    /// Whether the session reconnects by itself after this error.
    pub fn is_retried(&self) -> bool {
        match self {
            Error::Refused(refused) => refused.is_transient(),
            Error::Protocol(_)
            | Error::Violation(_)
            | Error::ConnectTimeout(_)
            | Error::KeepaliveTimeout(_)
            | Error::Transport(_) => true,
            Error::Closed { retry, .. } => *retry,
            _ => false,
        }
    }

    /// A short stable code for UIs and the JavaScript API (`error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Protocol(_) => "protocol",
            Error::Violation(_) => "protocol_violation",
            Error::Refused(ConnectRefused::BadUserNameOrPassword) => "bad_credentials",
            Error::Refused(ConnectRefused::NotAuthorized) => "not_authorized",
            Error::Refused(ConnectRefused::IdentifierRejected) => "identifier_rejected",
            Error::Refused(ConnectRefused::ServerUnavailable) => "server_unavailable",
            Error::Refused(ConnectRefused::UnacceptableProtocolVersion) => "protocol_version",
            Error::ConnectTimeout(_) => "connect_timeout",
            Error::KeepaliveTimeout(_) => "keepalive_timeout",
            Error::Transport(_) => "transport",
            Error::Closed { .. } => "closed",
            Error::InvalidTopic(_) => "invalid_topic",
            Error::QueueFull(_) => "queue_full",
            Error::PayloadTooLarge(_) => "payload_too_large",
            Error::NoFilters => "no_filters",
        }
    }
}
