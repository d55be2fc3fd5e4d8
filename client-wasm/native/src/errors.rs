//! Native transport errors: local configuration, TLS verification, and the transport itself.

use std::io;

use mqtt_core::TransportFailure;
use mqtt_tls::{ClientCertOffer, HandshakeError, TlsSetupError};

pub use mqtt_tls::TlsVerifyError;

/// A local file or setting the transport could not use. The caller's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A TLS file (CA, client certificate or key) or the TLS server name.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
}

/// Why a transport could not be opened, or failed while open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The host name did not resolve.
    #[error("cannot resolve host {host}: {reason}")]
    Dns {
        /// The host name looked up.
        host: String,
        /// The resolver's error text, or "no address found".
        reason: String,
    },
    /// Nothing listens there.
    #[error("connection to {addr} refused")]
    Refused {
        /// The last address tried, as `ip:port`.
        addr: String,
    },
    /// Other failures to establish TCP (unreachable network, reset...).
    #[error("cannot connect to {addr}: {reason}")]
    Connect {
        /// The last address tried, as `ip:port`.
        addr: String,
        /// The operating system's error text.
        reason: String,
    },
    /// The server's certificate failed verification.
    #[error("TLS verification failed: {0}")]
    TlsVerify(TlsVerifyError),
    /// The server refused the TLS session with an alert (e.g. a client certificate it requires
    /// is missing or not trusted).
    #[error("TLS refused by the server: {0}")]
    TlsRefused(String),
    /// The server refused the client certificate presented, or wanted one (an alert such as
    /// `certificate_required` or `unknown_ca`; sorted by `mqtt_tls::classify_alert`).
    #[error("TLS refused by the server: client certificate refused ({0})")]
    TlsClientCertRefused(String),
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
    /// `io::Error`) of a client that presented `offer`.
    pub fn from_tls_io(server: &str, error: &io::Error, offer: ClientCertOffer) -> Self {
        match HandshakeError::from_io(server, error, offer) {
            Some(handshake) => handshake.into(),
            None => TransportError::Tls(error.to_string()),
        }
    }

    /// Classifies a rustls error (the sorting itself is [`mqtt_tls::classify()`]'s).
    pub fn from_rustls(server: &str, error: &rustls::Error, offer: ClientCertOffer) -> Self {
        HandshakeError::from_rustls(server, error, offer).into()
    }
}

impl From<HandshakeError> for TransportError {
    fn from(error: HandshakeError) -> Self {
        match error {
            HandshakeError::Verification(verify) => TransportError::TlsVerify(verify),
            HandshakeError::Refused(alert) => {
                TransportError::TlsRefused(format!("alert {alert:?}"))
            }
            HandshakeError::ClientCertRefused(alert) => {
                TransportError::TlsClientCertRefused(format!("alert {alert:?}"))
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
            TransportError::TlsClientCertRefused(_) => {
                TransportFailure::TlsClientCertRefused(words)
            }
            TransportError::WebSocketHandshake(_) => TransportFailure::HandshakeRefused(words),
            TransportError::WebSocket(_) => TransportFailure::WebSocketProtocol(words),
            TransportError::Timeout(ms) => TransportFailure::Timeout(ms),
            TransportError::Io(_) => TransportFailure::Io(words),
            TransportError::Config(_) => TransportFailure::Setup(words),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt_core::wire::tls::TlsFailure;

    #[test]
    fn tls_errors_say_which_check_failed() {
        use rustls::CertificateError as C;
        let classify = |c| {
            TransportError::from_rustls(
                "broker.test",
                &rustls::Error::InvalidCertificate(c),
                ClientCertOffer::None,
            )
        };
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
        assert!(TransportError::from_tls_io("h", &io, ClientCertOffer::None)
            .to_string()
            .contains("unknown issuer"));
    }

    /// One sorting of rustls errors (mqtt_tls), in the CLI's words: an alert from the server is
    /// a refusal (a client certificate missing or not trusted), anything else a handshake error.
    #[test]
    fn a_server_alert_is_a_refusal_and_other_errors_a_handshake_failure() {
        let none = ClientCertOffer::None;
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired);
        let refused = TransportError::from_rustls("broker.test", &alert, none);
        assert_eq!(
            refused.to_string(),
            "TLS refused by the server: client certificate refused (alert CertificateRequired)"
        );
        let io = io::Error::new(io::ErrorKind::InvalidData, alert);
        assert_eq!(
            TransportError::from_tls_io("broker.test", &io, none),
            refused
        );
        assert_eq!(
            TransportFailure::from(refused).tls_failure(),
            Some(TlsFailure::ClientCertRefused)
        );
        // unknown_ca after a certificate was sent: that certificate is refused; without one
        // it is another refusal.
        let unknown_ca = rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA);
        assert_eq!(
            TransportError::from_rustls("b", &unknown_ca, ClientCertOffer::Offered),
            TransportError::TlsClientCertRefused("alert UnknownCA".into())
        );
        assert_eq!(
            TransportError::from_rustls("b", &unknown_ca, none),
            TransportError::TlsRefused("alert UnknownCA".into())
        );
        assert_eq!(
            TransportError::from_rustls("broker.test", &rustls::Error::DecryptError, none),
            TransportError::Tls(rustls::Error::DecryptError.to_string())
        );
        assert_eq!(
            TransportError::from_tls_io("broker.test", &io::Error::other("reset"), none),
            TransportError::Tls("reset".into())
        );
    }

    /// The session gets the transport error's class, typed, and its words unchanged: the CLI
    /// needs nothing else (no side channel).
    #[test]
    fn transport_errors_keep_their_class_and_words_through_the_session() {
        let unknown_issuer = TransportError::TlsVerify(TlsVerifyError::UnknownIssuer {
            server: "broker.test".into(),
        });
        let words = unknown_issuer.to_string();
        assert_eq!(
            TransportFailure::from(unknown_issuer),
            TransportFailure::TlsVerification {
                kind: TlsFailure::UnknownIssuer,
                detail: words
            }
        );
        let cases = [
            (TransportError::Refused { addr: "a".into() }, true),
            (TransportError::Timeout(5), true),
            (TransportError::WebSocket("text frame".into()), true),
            (TransportError::TlsRefused("alert".into()), false),
            (
                TransportError::Config(ConfigError::Tls(TlsSetupError::ServerName("x".into()))),
                false,
            ),
        ];
        for (error, retried) in cases {
            let words = error.to_string();
            let failure = TransportFailure::from(error);
            assert_eq!(failure.to_string(), words);
            assert_eq!(failure.is_retried(), retried, "{failure:?}");
        }
    }
}
