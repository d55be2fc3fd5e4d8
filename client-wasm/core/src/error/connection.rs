//! Why a connection died.

use super::{ConnectRefused, DecodeError, OptionsError, ProtocolViolation, TransportFailure};

/// Why the connection was lost, carried in `Event::ConnectionLost`. Each variant says whose
/// fault it is; [`ConnectionError::is_retried`] says whether the session reconnects by itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The broker (or something in between) sent bytes that are not valid MQTT 3.1.1, or a
    /// packet a server must not send. The peer's fault; the connection is dropped and retried.
    #[error("protocol error from the broker: {0}")]
    Protocol(#[from] DecodeError),
    /// The broker sent a valid packet at the wrong moment. Retried.
    #[error("protocol violation by the broker: {0}")]
    Violation(#[from] ProtocolViolation),
    /// The broker refused the connection. Retried only when [`ConnectRefused::is_transient`].
    #[error(transparent)]
    Refused(#[from] ConnectRefused),
    /// No CONNACK arrived in time. Retried.
    #[error("no CONNACK within {0} ms")]
    ConnectTimeout(u64),
    /// No PINGRESP arrived in time: the link is dead or stalled. Retried.
    #[error("keepalive timeout: no PINGRESP within {0} ms")]
    KeepaliveTimeout(u64),
    /// The transport failed or the peer closed it, as the adapter reported it.
    #[error("{}", transport_text(.0))]
    Transport(#[from] TransportFailure),
    /// The options do not fit in a CONNECT packet (a field over 65,535 bytes). The caller's
    /// fault; not retried.
    #[error("invalid options: {0}")]
    InvalidOptions(OptionsError),
    /// The broker dropped `drops` connections in a row soon after accepting them: the client
    /// id is in use elsewhere (see [`crate::takeover`]). Not retried, so the two do not take
    /// the id from each other forever; `Session::connect` takes it over.
    #[error("connected elsewhere: the broker dropped {drops} connections in a row soon after accepting them (the client id is in use by another client)")]
    ConnectedElsewhere {
        /// How many connections in a row the broker dropped soon after its CONNACK.
        drops: u32,
    },
}

fn transport_text(failure: &TransportFailure) -> String {
    match failure {
        TransportFailure::Closed { .. } => failure.to_string(),
        other => format!("connection closed: {other}"),
    }
}

impl ConnectionError {
    /// Whether the session reconnects by itself after this error (when reconnecting is on).
    pub fn is_retried(&self) -> bool {
        match self {
            ConnectionError::Refused(refused) => refused.is_transient(),
            ConnectionError::Transport(failure) => failure.is_retried(),
            ConnectionError::InvalidOptions(_) | ConnectionError::ConnectedElsewhere { .. } => {
                false
            }
            ConnectionError::Protocol(_)
            | ConnectionError::Violation(_)
            | ConnectionError::ConnectTimeout(_)
            | ConnectionError::KeepaliveTimeout(_) => true,
        }
    }

    /// A short stable code for UIs and the JavaScript API (`error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            ConnectionError::Protocol(_) => "protocol",
            ConnectionError::Violation(_) => "protocol_violation",
            ConnectionError::Refused(refused) => refused.code(),
            ConnectionError::ConnectTimeout(_) => "connect_timeout",
            ConnectionError::KeepaliveTimeout(_) => "keepalive_timeout",
            ConnectionError::Transport(failure) => failure.code(),
            ConnectionError::InvalidOptions(_) => "invalid_options",
            ConnectionError::ConnectedElsewhere { .. } => "connected_elsewhere",
        }
    }

    /// The WebSocket close code, when the peer closed with a close frame.
    pub fn close_code(&self) -> Option<u16> {
        match self {
            ConnectionError::Transport(TransportFailure::Closed { code, .. }) => Some(*code),
            _ => None,
        }
    }
}
