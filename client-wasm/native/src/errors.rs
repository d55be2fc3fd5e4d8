//! Native transport errors, and the failure classes the CLI turns into exit codes.

use std::io;

use mqtt_core::flows::ActivationError;
use mqtt_core::{ConnectRefused, Error};

use crate::tls_verify::rustls_error;
pub use crate::tls_verify::TlsVerifyError;

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
        match rustls_error(error) {
            Some(tls) => Self::from_rustls(server, tls),
            None => TransportError::Tls(error.to_string()),
        }
    }

    /// Classifies a rustls error (the check itself is [`crate::tls_verify`]'s).
    pub fn from_rustls(server: &str, error: &rustls::Error) -> Self {
        if let Some(verify) = TlsVerifyError::from_rustls(server, error) {
            return TransportError::TlsVerify(verify);
        }
        match error {
            rustls::Error::AlertReceived(alert) => {
                TransportError::TlsRefused(format!("alert {alert:?}"))
            }
            other => TransportError::Tls(other.to_string()),
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

    pub fn of_session(error: &Error) -> Self {
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
    pub fn of_close_code(code: u16) -> Self {
        match code {
            1002 | 1003 | 1007 | 1009 => Failure::Protocol,
            4000 => Failure::Timeout,
            4001 | 4003 | 1008 => Failure::Auth,
            4010..=4016 => Failure::Tls,
            _ => Failure::Network,
        }
    }

    pub fn of_activation(error: &ActivationError) -> Self {
        match error {
            ActivationError::NotAuthorized(_) => Failure::Auth,
            ActivationError::Session(e) => Failure::of_session(e),
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
}
