//! Why a connection died.

use super::{ConnectRefused, DecodeError, OptionsError, ProtocolViolation, TransportFailure};
use crate::text::{display_from_text, push_num, Text};

/// Why the connection was lost, carried in `Event::ConnectionLost`. Each variant says whose
/// fault it is; [`ConnectionError::is_retried`] says whether the session reconnects by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The broker (or something in between) sent bytes that are not valid MQTT 3.1.1, or a
    /// packet a server must not send. The peer's fault; the connection is dropped and retried.
    Protocol(DecodeError),
    /// The broker sent a valid packet at the wrong moment. Retried.
    Violation(ProtocolViolation),
    /// The broker refused the connection. Retried only when [`ConnectRefused::is_transient`].
    Refused(ConnectRefused),
    /// No CONNACK arrived in time. Retried.
    ConnectTimeout(u64),
    /// No PINGRESP arrived in time: the link is dead or stalled. Retried.
    KeepaliveTimeout(u64),
    /// The transport failed or the peer closed it, as the adapter reported it.
    Transport(TransportFailure),
    /// The options do not fit in a CONNECT packet (a field over 65,535 bytes). The caller's
    /// fault; not retried.
    InvalidOptions(OptionsError),
    /// The broker dropped `drops` connections in a row soon after accepting them: the client
    /// id is in use elsewhere (see [`crate::takeover`]). Not retried, so the two do not take
    /// the id from each other forever; `Session::connect` takes it over.
    ConnectedElsewhere {
        /// How many connections in a row the broker dropped soon after its CONNACK.
        drops: u32,
    },
}

impl Text for ConnectionError {
    fn write_text(&self, out: &mut String) {
        match self {
            ConnectionError::Protocol(e) => {
                out.push_str("protocol error from the broker: ");
                e.write_text(out);
            }
            ConnectionError::Violation(e) => {
                out.push_str("protocol violation by the broker: ");
                e.write_text(out);
            }
            ConnectionError::Refused(e) => e.write_text(out),
            ConnectionError::ConnectTimeout(ms) => {
                out.push_str("no CONNACK within ");
                push_num(out, *ms);
                out.push_str(" ms");
            }
            ConnectionError::KeepaliveTimeout(ms) => {
                out.push_str("keepalive timeout: no PINGRESP within ");
                push_num(out, *ms);
                out.push_str(" ms");
            }
            ConnectionError::Transport(failure) => {
                // A close frame speaks for itself; anything else is said to close the link.
                if !matches!(failure, TransportFailure::Closed { .. }) {
                    out.push_str("connection closed: ");
                }
                failure.write_text(out);
            }
            ConnectionError::InvalidOptions(e) => {
                out.push_str("invalid options: ");
                e.write_text(out);
            }
            ConnectionError::ConnectedElsewhere { drops } => {
                out.push_str("connected elsewhere: the broker dropped ");
                push_num(out, u64::from(*drops));
                out.push_str(
                    " connections in a row soon after accepting them (the client id is in use \
                     by another client)",
                );
            }
        }
    }
}

display_from_text!(ConnectionError);

impl std::error::Error for ConnectionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectionError::Protocol(e) => Some(e),
            ConnectionError::Violation(e) => Some(e),
            // `#[error(transparent)]` before: the refusal is the whole error.
            ConnectionError::Refused(e) => std::error::Error::source(e),
            ConnectionError::Transport(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DecodeError> for ConnectionError {
    fn from(e: DecodeError) -> Self {
        ConnectionError::Protocol(e)
    }
}

impl From<ProtocolViolation> for ConnectionError {
    fn from(e: ProtocolViolation) -> Self {
        ConnectionError::Violation(e)
    }
}

impl From<ConnectRefused> for ConnectionError {
    fn from(e: ConnectRefused) -> Self {
        ConnectionError::Refused(e)
    }
}

impl From<TransportFailure> for ConnectionError {
    fn from(e: TransportFailure) -> Self {
        ConnectionError::Transport(e)
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
