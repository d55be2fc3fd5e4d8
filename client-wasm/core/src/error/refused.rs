//! CONNACK refusals.

use crate::text::{display_from_text, Text};

/// A CONNACK return code other than "accepted" (MQTT 3.1.1 table 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectRefused {
    /// Code 1. The broker does not speak MQTT 3.1.1. Permanent.
    UnacceptableProtocolVersion,
    /// Code 2. The client identifier is not allowed. Permanent.
    IdentifierRejected,
    /// Code 3. The broker is up but MQTT is unavailable. Retried with backoff.
    ServerUnavailable,
    /// Code 4. Wrong user name or password. Permanent: fix the credentials.
    BadUserNameOrPassword,
    /// Code 5. The credentials are valid but not authorised. Permanent.
    NotAuthorized,
}

impl ConnectRefused {
    /// Whether reconnecting later may succeed without a change on the client side.
    pub fn is_transient(self) -> bool {
        matches!(self, ConnectRefused::ServerUnavailable)
    }

    /// A short stable code for UIs and the JavaScript API.
    pub fn code(self) -> &'static str {
        match self {
            ConnectRefused::BadUserNameOrPassword => "bad_credentials",
            ConnectRefused::NotAuthorized => "not_authorized",
            ConnectRefused::IdentifierRejected => "identifier_rejected",
            ConnectRefused::ServerUnavailable => "server_unavailable",
            ConnectRefused::UnacceptableProtocolVersion => "protocol_version",
        }
    }

    pub(crate) fn from_code(code: mqttrs::ConnectReturnCode) -> Option<Self> {
        use mqttrs::ConnectReturnCode as Code;
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

impl Text for ConnectRefused {
    fn write_text(&self, out: &mut String) {
        out.push_str(match self {
            ConnectRefused::UnacceptableProtocolVersion => {
                "connection refused: unacceptable protocol version"
            }
            ConnectRefused::IdentifierRejected => "connection refused: identifier rejected",
            ConnectRefused::ServerUnavailable => "connection refused: server unavailable",
            ConnectRefused::BadUserNameOrPassword => {
                "connection refused: bad user name or password"
            }
            ConnectRefused::NotAuthorized => "connection refused: not authorized",
        });
    }
}

display_from_text!(ConnectRefused);

impl std::error::Error for ConnectRefused {}
