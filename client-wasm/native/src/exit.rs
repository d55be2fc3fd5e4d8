//! The CLI's failure classes, one exit status each, and the table `--help` prints.
//!
//! Only the binary exits, so the mapping from typed errors to statuses lives here, not in the
//! library.

use std::fmt::Display;

use mqtt_core::wire::close::CloseClass;
use mqtt_core::{CommandError, ConnectRefused, ConnectionError, TransportFailure};
use mqtt_flows::ActivationError;

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
    /// 9: the client id is in use by another client (connected elsewhere: the broker dropped
    /// the connection right after accepting it, again and again; see `mqtt_core::takeover`).
    Elsewhere,
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
            Failure::Elsewhere => 9,
        }
    }

    /// The exit-code table, for `--help`.
    pub(crate) const TABLE: &'static str = "EXIT STATUS:
  0  success
  1  local I/O failure (cannot write output or the credentials file)
  2  usage or local configuration (bad flag, URL, CA/certificate/key file)
  3  network: DNS failure, connection refused or lost, WebSocket upgrade refused,
     ws-bridge's upstream unreachable (close 4502) or rate limit (close 4029)
  4  TLS: server certificate not trusted / wrong name / expired, or the server refused us
     (also when ws-bridge reports it: close 4010-4017)
  5  bad user name or password, or not authorised (CONNACK 4/5, SUBACK 0x80, ws-bridge
     route unknown, Origin not allowed or admission refused: close 4001/4003/4401)
  6  protocol error: the broker sent malformed MQTT or broke the protocol
  7  timeout: no connection, CONNACK or PINGRESP in time, or --timeout elapsed
  8  activation failed: no reply (identity unknown or already activated) or bad reply
  9  connected elsewhere: another client uses this client id (the broker dropped 3
     connections in a row within 5 s of accepting them)";

    /// Why the connection died, straight from the session's typed error.
    pub(crate) fn of_connection(error: &ConnectionError) -> Self {
        match error {
            ConnectionError::Protocol(_) | ConnectionError::Violation(_) => Failure::Protocol,
            ConnectionError::Refused(
                ConnectRefused::BadUserNameOrPassword
                | ConnectRefused::NotAuthorized
                | ConnectRefused::IdentifierRejected,
            ) => Failure::Auth,
            ConnectionError::Refused(_) => Failure::Network,
            ConnectionError::ConnectTimeout(_) | ConnectionError::KeepaliveTimeout(_) => {
                Failure::Timeout
            }
            ConnectionError::Transport(failure) => Failure::of_transport_failure(failure),
            ConnectionError::InvalidOptions(_) => Failure::Usage,
            ConnectionError::ConnectedElsewhere { .. } => Failure::Elsewhere,
            _ => Failure::Local,
        }
    }

    pub(crate) fn of_transport_failure(failure: &TransportFailure) -> Self {
        match failure {
            TransportFailure::Closed { code, .. } => Failure::of_close_code(*code),
            TransportFailure::Dropped(_)
            | TransportFailure::HandshakeRefused(_)
            | TransportFailure::Unreachable(_)
            | TransportFailure::Io(_) => Failure::Network,
            TransportFailure::Timeout(_) => Failure::Timeout,
            TransportFailure::TlsVerification { .. }
            | TransportFailure::TlsHandshake(_)
            | TransportFailure::TlsClientCertRefused(_) => Failure::Tls,
            TransportFailure::WebSocketProtocol(_) => Failure::Protocol,
            TransportFailure::Setup(_) => Failure::Usage,
            _ => Failure::Network,
        }
    }

    /// Why a call was refused.
    pub(crate) fn of_command(error: &CommandError) -> Self {
        match error {
            CommandError::InvalidTopic(_)
            | CommandError::PayloadTooLarge(_)
            | CommandError::NoFilters
            | CommandError::InvalidUrl { .. }
            | CommandError::InvalidOptions(_) => Failure::Usage,
            _ => Failure::Local,
        }
    }

    /// A WebSocket close code from the server, by its class in `mqtt_core::wire::close`.
    pub(crate) fn of_close_code(code: u16) -> Self {
        match CloseClass::of(code) {
            CloseClass::Protocol | CloseClass::TooLarge => Failure::Protocol,
            CloseClass::PingTimeout => Failure::Timeout,
            CloseClass::RouteUnknown | CloseClass::NotAllowed => Failure::Auth,
            CloseClass::TlsVerification | CloseClass::TlsHandshake => Failure::Tls,
            _ => Failure::Network,
        }
    }

    pub(crate) fn of_activation(error: &ActivationError) -> Self {
        match error {
            ActivationError::NotAuthorized(_) => Failure::Auth,
            ActivationError::Session(e) => Failure::of_connection(e),
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
            Failure::Elsewhere,
        ];
        let codes: Vec<u8> = all.iter().map(|f| f.exit_code()).collect();
        assert_eq!(codes, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        for code in codes {
            assert!(
                Failure::TABLE.contains(&format!("\n  {code}  ")),
                "{code} missing from the table"
            );
        }
    }

    #[test]
    fn session_errors_map_to_classes() {
        assert_eq!(
            Failure::of_connection(&ConnectionError::ConnectedElsewhere { drops: 3 }),
            Failure::Elsewhere
        );
        let refused = |r| Failure::of_connection(&ConnectionError::Refused(r));
        assert_eq!(
            refused(ConnectRefused::BadUserNameOrPassword),
            Failure::Auth
        );
        assert_eq!(refused(ConnectRefused::NotAuthorized), Failure::Auth);
        assert_eq!(refused(ConnectRefused::ServerUnavailable), Failure::Network);
        assert_eq!(
            Failure::of_connection(&ConnectionError::Protocol(
                DecodeError::RemainingLengthTooLong
            )),
            Failure::Protocol
        );
        assert_eq!(
            Failure::of_connection(&ConnectionError::Violation(
                mqtt_core::ProtocolViolation::SecondConnack
            )),
            Failure::Protocol
        );
        assert_eq!(
            Failure::of_connection(&ConnectionError::ConnectTimeout(1)),
            Failure::Timeout
        );
        assert_eq!(
            Failure::of_connection(&ConnectionError::KeepaliveTimeout(1)),
            Failure::Timeout
        );
        assert_eq!(
            Failure::of_connection(&ConnectionError::Transport(TransportFailure::Io(
                "x".into()
            ))),
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

    /// The typed transport error reaches the exit status through the session's
    /// `ConnectionError` alone (no side channel).
    #[test]
    fn transport_errors_map_to_classes() {
        use mqttws::TransportError;
        use rustls::CertificateError as C;
        let classify = |c| {
            TransportError::from_rustls(
                "broker.test",
                &rustls::Error::InvalidCertificate(c),
                mqtt_tls::ClientCertOffer::None,
            )
        };
        let of = |e: TransportError| Failure::of_connection(&ConnectionError::Transport(e.into()));
        for e in [
            classify(C::UnknownIssuer),
            TransportError::TlsRefused("alert".into()),
        ] {
            assert_eq!(of(e), Failure::Tls);
        }
        assert_eq!(
            of(TransportError::Refused { addr: "a".into() }),
            Failure::Network
        );
        assert_eq!(of(TransportError::Timeout(5)), Failure::Timeout);
    }

    /// The CLI's column of the close-code contract (`mqtt_core::wire::contract::TABLE`, also
    /// walked by `tests/tests/close_contract.rs` for the browser, the native driver and the
    /// session): a code the rule retries exits as a network failure or a timeout; the others
    /// name what to fix.
    #[test]
    fn every_close_code_exits_by_its_class() {
        use mqtt_core::wire::contract::TABLE;
        for &(code, class, retried) in TABLE {
            let exit = Failure::of_connection(&ConnectionError::Transport(mqttws::close_failure(
                code, "",
            )));
            let expected = match class {
                CloseClass::Protocol | CloseClass::TooLarge => Failure::Protocol,
                CloseClass::PingTimeout => Failure::Timeout,
                CloseClass::RouteUnknown | CloseClass::NotAllowed => Failure::Auth,
                CloseClass::TlsVerification | CloseClass::TlsHandshake => Failure::Tls,
                _ => Failure::Network,
            };
            assert_eq!(exit, expected, "{code}");
            assert_eq!(
                matches!(exit, Failure::Network | Failure::Timeout),
                retried,
                "{code}: {exit:?}"
            );
        }
    }
}
