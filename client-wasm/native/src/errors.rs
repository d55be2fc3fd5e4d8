//! Native transport errors, and the failure classes the CLI turns into exit codes.

use std::io;

use mqtt_core::flows::ActivationError;
use mqtt_core::wire::close::CloseClass;
use mqtt_core::{CommandError, ConnectRefused, ConnectionError, TlsVerifyKind, TransportFailure};

/// A local file or setting the transport could not use. The caller's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("CA file {0} holds no usable certificate")]
    NoCaCertificates(String),
    #[error("cannot read client certificate {path}: {reason}")]
    ClientCert { path: String, reason: String },
    #[error("cannot read client key {path}: {reason}")]
    ClientKey { path: String, reason: String },
    #[error("client certificate and key are not usable together: {0}")]
    ClientAuth(String),
    #[error("'{0}' is not a valid TLS server name")]
    ServerName(String),
    #[error("TLS set-up failed: {0}")]
    Tls(String),
}

/// Which check of the server's certificate failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsVerifyError {
    #[error("certificate of {server} is signed by an unknown issuer (not in the trusted CA set)")]
    UnknownIssuer { server: String },
    #[error("certificate is not valid for the name {server}{}", presented_names(.presented))]
    NameMismatch {
        server: String,
        presented: Vec<String>,
    },
    #[error("certificate of {server} has expired")]
    Expired { server: String },
    #[error("certificate of {server} is not valid yet")]
    NotYetValid { server: String },
    #[error("certificate of {server} is revoked")]
    Revoked { server: String },
    #[error("certificate of {server} is invalid: {detail}")]
    Other { server: String, detail: String },
}

impl TlsVerifyError {
    /// Which check failed, as the core (and ws-bridge's close codes 4010-4015) name it.
    pub fn kind(&self) -> TlsVerifyKind {
        match self {
            TlsVerifyError::UnknownIssuer { .. } => TlsVerifyKind::UnknownIssuer,
            TlsVerifyError::NameMismatch { .. } => TlsVerifyKind::NameMismatch,
            TlsVerifyError::Expired { .. } => TlsVerifyKind::Expired,
            TlsVerifyError::NotYetValid { .. } => TlsVerifyKind::NotYetValid,
            TlsVerifyError::Revoked { .. } => TlsVerifyKind::Revoked,
            TlsVerifyError::Other { .. } => TlsVerifyKind::Other,
        }
    }
}

fn presented_names(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" (it is for {})", names.join(", "))
    }
}

/// Why a transport could not be opened, or failed while open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The host name did not resolve.
    #[error("cannot resolve host {host}: {reason}")]
    Dns { host: String, reason: String },
    /// Nothing listens there.
    #[error("connection to {addr} refused")]
    Refused { addr: String },
    /// Other failures to establish TCP (unreachable network, reset...).
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    /// The server's certificate failed verification.
    #[error("TLS verification failed: {0}")]
    TlsVerify(TlsVerifyError),
    /// The server refused the TLS session with an alert (e.g. a client certificate it requires
    /// is missing or not trusted).
    #[error("TLS refused by the server: {0}")]
    TlsRefused(String),
    /// Any other TLS failure.
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    /// The WebSocket upgrade was refused or malformed (e.g. HTTP 404, no `mqtt` subprotocol).
    #[error("WebSocket handshake failed: {0}")]
    WebSocketHandshake(String),
    /// The peer violated the WebSocket protocol or sent a text frame.
    #[error("WebSocket protocol error: {0}")]
    WebSocket(String),
    /// Opening took longer than the connect timeout.
    #[error("no connection within {0} ms")]
    Timeout(u64),
    /// The connection failed while open.
    #[error("{0}")]
    Io(String),
    /// Local configuration (CA file, client certificate...).
    #[error(transparent)]
    Config(ConfigError),
}

impl TransportError {
    /// Classifies an error from the TLS layer (tokio-rustls reports rustls errors inside
    /// `io::Error`).
    pub fn from_tls_io(server: &str, error: &io::Error) -> Self {
        match error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(tls) => Self::from_rustls(server, tls),
            None => TransportError::Tls(error.to_string()),
        }
    }

    pub fn from_rustls(server: &str, error: &rustls::Error) -> Self {
        use rustls::CertificateError as C;
        let server = server.to_string();
        match error {
            rustls::Error::InvalidCertificate(cert) => TransportError::TlsVerify(match cert {
                C::UnknownIssuer => TlsVerifyError::UnknownIssuer { server },
                C::NotValidForName => TlsVerifyError::NameMismatch {
                    server,
                    presented: Vec::new(),
                },
                C::NotValidForNameContext { presented, .. } => TlsVerifyError::NameMismatch {
                    server,
                    presented: presented.clone(),
                },
                C::Expired | C::ExpiredContext { .. } => TlsVerifyError::Expired { server },
                C::NotValidYet | C::NotValidYetContext { .. } => {
                    TlsVerifyError::NotYetValid { server }
                }
                C::Revoked => TlsVerifyError::Revoked { server },
                other => TlsVerifyError::Other {
                    server,
                    detail: format!("{other:?}"),
                },
            }),
            rustls::Error::AlertReceived(alert) => {
                TransportError::TlsRefused(format!("alert {alert:?}"))
            }
            other => TransportError::Tls(other.to_string()),
        }
    }
}

/// The session's view of a transport error: its class, typed, with these words for people.
impl From<TransportError> for TransportFailure {
    fn from(error: TransportError) -> Self {
        let words = error.to_string();
        match error {
            TransportError::Dns { .. }
            | TransportError::Refused { .. }
            | TransportError::Connect { .. } => TransportFailure::Unreachable(words),
            TransportError::TlsVerify(check) => TransportFailure::TlsVerification {
                kind: check.kind(),
                detail: words,
            },
            TransportError::TlsRefused(_) | TransportError::Tls(_) => {
                TransportFailure::TlsHandshake(words)
            }
            TransportError::WebSocketHandshake(_) => TransportFailure::HandshakeRefused(words),
            TransportError::WebSocket(_) => TransportFailure::WebSocketProtocol(words),
            TransportError::Timeout(ms) => TransportFailure::Timeout(ms),
            TransportError::Io(_) => TransportFailure::Io(words),
            TransportError::Config(_) => TransportFailure::Setup(words),
        }
    }
}

/// A failure class of the CLI, each with its own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
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
    pub fn exit_code(self) -> u8 {
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
    pub const TABLE: &'static str = "EXIT STATUS:
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

    pub fn of_transport(error: &TransportError) -> Self {
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
        }
    }

    /// Why the connection died, straight from the session's typed error.
    pub fn of_connection(error: &ConnectionError) -> Self {
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
            _ => Failure::Local,
        }
    }

    pub fn of_transport_failure(failure: &TransportFailure) -> Self {
        match failure {
            TransportFailure::Closed { code, .. } => Failure::of_close_code(*code),
            TransportFailure::Dropped(_)
            | TransportFailure::HandshakeRefused(_)
            | TransportFailure::Unreachable(_)
            | TransportFailure::Io(_) => Failure::Network,
            TransportFailure::Timeout(_) => Failure::Timeout,
            TransportFailure::TlsVerification { .. } | TransportFailure::TlsHandshake(_) => {
                Failure::Tls
            }
            TransportFailure::WebSocketProtocol(_) => Failure::Protocol,
            TransportFailure::Setup(_) => Failure::Usage,
            _ => Failure::Network,
        }
    }

    /// Why a call was refused.
    pub fn of_command(error: &CommandError) -> Self {
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
    pub fn of_close_code(code: u16) -> Self {
        match CloseClass::of(code) {
            CloseClass::Protocol | CloseClass::TooLarge => Failure::Protocol,
            CloseClass::PingTimeout => Failure::Timeout,
            CloseClass::RouteUnknown | CloseClass::NotAllowed => Failure::Auth,
            CloseClass::TlsVerification | CloseClass::TlsHandshake => Failure::Tls,
            _ => Failure::Network,
        }
    }

    pub fn of_activation(error: &ActivationError) -> Self {
        match error {
            ActivationError::NotAuthorized(_) => Failure::Auth,
            ActivationError::Session(e) => Failure::of_connection(e),
            _ => Failure::Activation,
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

    #[test]
    fn tls_errors_say_which_check_failed() {
        use rustls::CertificateError as C;
        let classify =
            |c| TransportError::from_rustls("broker.test", &rustls::Error::InvalidCertificate(c));
        assert_eq!(
            classify(C::UnknownIssuer),
            TransportError::TlsVerify(TlsVerifyError::UnknownIssuer {
                server: "broker.test".into()
            })
        );
        assert!(matches!(
            classify(C::NotValidForName),
            TransportError::TlsVerify(TlsVerifyError::NameMismatch { .. })
        ));
        assert!(matches!(
            classify(C::Expired),
            TransportError::TlsVerify(TlsVerifyError::Expired { .. })
        ));
        let io = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(C::UnknownIssuer),
        );
        assert!(TransportError::from_tls_io("h", &io)
            .to_string()
            .contains("unknown issuer"));
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

    /// The CLI's exit code comes from the session's typed error alone: the transport error
    /// keeps its class on the way through the session, with no side channel.
    #[test]
    fn transport_errors_keep_their_class_through_the_session() {
        let through_session = |e: TransportError| {
            let text = e.to_string();
            let error = ConnectionError::Transport(e.into());
            assert!(error.to_string().ends_with(&text), "{error}");
            Failure::of_connection(&error)
        };
        let unknown_issuer = TransportError::TlsVerify(TlsVerifyError::UnknownIssuer {
            server: "broker.test".into(),
        });
        assert_eq!(through_session(unknown_issuer), Failure::Tls);
        assert_eq!(
            through_session(TransportError::TlsRefused("alert".into())),
            Failure::Tls
        );
        assert_eq!(
            through_session(TransportError::Refused { addr: "a".into() }),
            Failure::Network
        );
        assert_eq!(
            through_session(TransportError::Timeout(5)),
            Failure::Timeout
        );
        assert_eq!(
            through_session(TransportError::WebSocket("text frame".into())),
            Failure::Protocol
        );
        assert_eq!(
            through_session(TransportError::Config(ConfigError::ServerName("x".into()))),
            Failure::Usage
        );
    }
}
