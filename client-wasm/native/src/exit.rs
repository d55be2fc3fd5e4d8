//! The CLI's failure classes, one exit status each, and the table `--help` prints.
//!
//! Only the binary exits, so the mapping from typed errors to statuses lives here, not in the
//! library.

use std::fmt::Display;

use mqtt_core::flows::ActivationError;
use mqtt_core::{ConnectRefused, Error};
use mqttws::TransportError;

/// A failure class of the CLI, each with its own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// 1: a local input/output failure (stdout closed, cannot write the credentials file).
    Local,
    /// 2: bad command line or local configuration (URL, CA/cert/key files).
    Usage,
    /// 3: DNS failure, connection refused or lost, WebSocket upgrade refused.
    Network,
    /// 4: TLS: the server's certificate failed verification, or the server refused us.
    Tls,
    /// 5: bad user name or password, not authorised (CONNACK 4/5, SUBACK 0x80).
    Auth,
    /// 6: the broker sent malformed MQTT or broke the protocol.
    Protocol,
    /// 7: no connection, CONNACK or PINGRESP in time; the command's own time limit.
    Timeout,
    /// 8: activation failed (no reply: identity unknown or already activated; bad reply).
    Activation,
}

impl Failure {
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Failure::Local => 1,
            Failure::Usage => 2,
            Failure::Network => 3,
            Failure::Tls => 4,
            Failure::Auth => 5,
            Failure::Protocol => 6,
            Failure::Timeout => 7,
            Failure::Activation => 8,
        }
    }

    /// The exit-code table, for `--help`.
    pub(crate) const TABLE: &'static str = "EXIT STATUS:
  0  success
  1  local I/O failure (cannot write output or the credentials file)
  2  usage or local configuration (bad flag, URL, CA/certificate/key file)
  3  network: DNS failure, connection refused or lost, WebSocket upgrade refused,
     ws-bridge's upstream unreachable (close 4502)
  4  TLS: server certificate not trusted / wrong name / expired, or the server refused us
     (also when ws-bridge reports it: close 4010-4016)
  5  bad user name or password, or not authorised (CONNACK 4/5, SUBACK 0x80, ws-bridge
     route unknown or Origin not allowed: close 4001/4003)
  6  protocol error: the broker sent malformed MQTT or broke the protocol
  7  timeout: no connection, CONNACK or PINGRESP in time, or --timeout elapsed
  8  activation failed: no reply (identity unknown or already activated) or bad reply";

    pub(crate) fn of_transport(error: &TransportError) -> Self {
        match error {
            TransportError::Dns { .. }
            | TransportError::Refused { .. }
            | TransportError::Connect { .. }
            | TransportError::WebSocketHandshake(_)
            | TransportError::Io(_) => Failure::Network,
            TransportError::TlsVerify(_)
            | TransportError::TlsRefused(_)
            | TransportError::Tls(_) => Failure::Tls,
            TransportError::WebSocket(_) => Failure::Protocol,
            TransportError::Timeout(_) => Failure::Timeout,
            TransportError::Config(_) => Failure::Usage,
            // `TransportError` is `#[non_exhaustive]` outside its crate: a failure to connect.
            _ => Failure::Network,
        }
    }

    pub(crate) fn of_session(error: &Error) -> Self {
        match error {
            Error::Protocol(_) | Error::Violation(_) => Failure::Protocol,
            Error::Refused(
                ConnectRefused::BadUserNameOrPassword | ConnectRefused::NotAuthorized,
            ) => Failure::Auth,
            Error::Refused(ConnectRefused::IdentifierRejected) => Failure::Auth,
            Error::Refused(_) => Failure::Network,
            Error::ConnectTimeout(_) | Error::KeepaliveTimeout(_) => Failure::Timeout,
            Error::Closed { code, .. } => Failure::of_close_code(*code),
            Error::Transport(_) => Failure::Network,
            Error::InvalidTopic(_) | Error::PayloadTooLarge(_) | Error::NoFilters => Failure::Usage,
            _ => Failure::Local,
        }
    }

    /// A WebSocket close code from the server: RFC 6455 codes and ws-bridge's 4xxx codes
    /// (4000 ping timeout, 4001 route unknown, 4003 Origin not allowed, 4010-4016 TLS
    /// verification or handshake with the broker failed, 4502 upstream unreachable).
    pub(crate) fn of_close_code(code: u16) -> Self {
        match code {
            1002 | 1003 | 1007 | 1009 => Failure::Protocol,
            4000 => Failure::Timeout,
            4001 | 4003 | 1008 => Failure::Auth,
            4010..=4016 => Failure::Tls,
            _ => Failure::Network,
        }
    }

    pub(crate) fn of_activation(error: &ActivationError) -> Self {
        match error {
            ActivationError::NotAuthorized(_) => Failure::Auth,
            ActivationError::Session(e) => Failure::of_session(e),
            _ => Failure::Activation,
        }
    }
}

/// A failure: its class (the exit status) and one line for the user.
#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) failure: Failure,
    pub(crate) message: String,
}

impl CliError {
    pub(crate) fn new(failure: Failure, message: impl Display) -> Self {
        Self {
            failure,
            message: message.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_core::codec::DecodeError;

    #[test]
    fn exit_codes_are_distinct_and_stable() {
        let all = [
            Failure::Local,
            Failure::Usage,
            Failure::Network,
            Failure::Tls,
            Failure::Auth,
            Failure::Protocol,
            Failure::Timeout,
            Failure::Activation,
        ];
        let codes: Vec<u8> = all.iter().map(|f| f.exit_code()).collect();
        assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7, 8]);
        for code in codes {
            assert!(
                Failure::TABLE.contains(&format!("\n  {code}  ")),
                "{code} missing from the table"
            );
        }
    }

    #[test]
    fn session_errors_map_to_classes() {
        let refused = |r| Failure::of_session(&Error::Refused(r));
        assert_eq!(
            refused(ConnectRefused::BadUserNameOrPassword),
            Failure::Auth
        );
        assert_eq!(refused(ConnectRefused::NotAuthorized), Failure::Auth);
        assert_eq!(refused(ConnectRefused::ServerUnavailable), Failure::Network);
        assert_eq!(
            Failure::of_session(&Error::Protocol(DecodeError::RemainingLengthTooLong)),
            Failure::Protocol
        );
        assert_eq!(
            Failure::of_session(&Error::Violation("x".into())),
            Failure::Protocol
        );
        assert_eq!(
            Failure::of_session(&Error::ConnectTimeout(1)),
            Failure::Timeout
        );
        assert_eq!(
            Failure::of_session(&Error::KeepaliveTimeout(1)),
            Failure::Timeout
        );
        assert_eq!(
            Failure::of_session(&Error::Transport("x".into())),
            Failure::Network
        );
        assert_eq!(
            Failure::of_activation(&ActivationError::NoReply(1)),
            Failure::Activation
        );
        assert_eq!(
            Failure::of_activation(&ActivationError::NotAuthorized("a".into())),
            Failure::Auth
        );
    }

    #[test]
    fn transport_errors_map_to_classes() {
        use rustls::CertificateError as C;
        let classify =
            |c| TransportError::from_rustls("broker.test", &rustls::Error::InvalidCertificate(c));
        for e in [
            classify(C::UnknownIssuer),
            TransportError::TlsRefused("alert".into()),
        ] {
            assert_eq!(Failure::of_transport(&e), Failure::Tls);
        }
        assert_eq!(
            Failure::of_transport(&TransportError::Refused { addr: "a".into() }),
            Failure::Network
        );
        assert_eq!(
            Failure::of_transport(&TransportError::Timeout(5)),
            Failure::Timeout
        );
    }
}
