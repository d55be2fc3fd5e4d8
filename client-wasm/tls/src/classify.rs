//! The one place a rustls error is sorted: which check of the server's certificate failed
//! ([`TlsFailure`], [`TlsVerifyError`]), whether the server refused the client certificate
//! ([`TlsFailure::ClientCertRefused`]), or refused the session otherwise ([`HandshakeError`]).
//! The CLI turns the result into an error and an exit code, ws-bridge into a close code, the
//! package's in-wasm TLS ([`crate::session`]) into the JavaScript error's `tls` kind.
//!
//! A refused client certificate is told apart by the alert and by whether a certificate was
//! presented ([`ClientCertOffer`]): `certificate_required` always names it (the server says it
//! wants one); `bad_certificate`, `unknown_ca`, `handshake_failure`, `access_denied` and the other
//! certificate alerts name it only when this client sent a certificate. Over TLS 1.3 such an
//! alert arrives after the client's side of the handshake is done, with the first read.

use std::io;

use rustls::{AlertDescription, CertificateError};

use mqtt_core::wire::tls::TlsFailure;

/// Which check of the server's certificate failed, with what the person needs to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsVerifyError {
    /// The issuer is not in the trusted CA set: give the right `--cafile` / `ca_file`.
    #[error("certificate of {server} is signed by an unknown issuer (not in the trusted CA set)")]
    UnknownIssuer {
        /// The name verified.
        server: String,
    },
    /// The certificate is for other names.
    #[error("certificate is not valid for the name {server}{}", presented_names(.presented))]
    NameMismatch {
        /// The name verified.
        server: String,
        /// The names the certificate is for, when rustls says.
        presented: Vec<String>,
    },
    /// The certificate has expired.
    #[error("certificate of {server} has expired")]
    Expired {
        /// The name verified.
        server: String,
    },
    /// The certificate is not valid yet (or the local clock is behind).
    #[error("certificate of {server} is not valid yet")]
    NotYetValid {
        /// The name verified.
        server: String,
    },
    /// The certificate is revoked.
    #[error("certificate of {server} is revoked")]
    Revoked {
        /// The name verified.
        server: String,
    },
    /// Another check failed (signature, purpose, encoding...).
    #[error("certificate of {server} is invalid: {detail}")]
    Other {
        /// The name verified.
        server: String,
        /// rustls' words for the check.
        detail: String,
    },
}

fn presented_names(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" (it is for {})", names.join(", "))
    }
}

impl TlsVerifyError {
    /// The verification failure in `error` for a connection to `server`; `None` when the
    /// handshake failed for another reason than the server's certificate.
    pub fn from_rustls(server: &str, error: &rustls::Error) -> Option<Self> {
        let rustls::Error::InvalidCertificate(cert) = error else {
            return None;
        };
        let server = server.to_string();
        Some(match classify_certificate(cert) {
            TlsFailure::UnknownIssuer => TlsVerifyError::UnknownIssuer { server },
            TlsFailure::NameMismatch => TlsVerifyError::NameMismatch {
                server,
                presented: match cert {
                    CertificateError::NotValidForNameContext { presented, .. } => presented.clone(),
                    _ => Vec::new(),
                },
            },
            TlsFailure::Expired => TlsVerifyError::Expired { server },
            TlsFailure::NotYetValid => TlsVerifyError::NotYetValid { server },
            TlsFailure::Revoked => TlsVerifyError::Revoked { server },
            _ => TlsVerifyError::Other {
                server,
                detail: format!("{cert:?}"),
            },
        })
    }

    /// The failed check.
    pub fn kind(&self) -> TlsFailure {
        match self {
            TlsVerifyError::UnknownIssuer { .. } => TlsFailure::UnknownIssuer,
            TlsVerifyError::NameMismatch { .. } => TlsFailure::NameMismatch,
            TlsVerifyError::Expired { .. } => TlsFailure::Expired,
            TlsVerifyError::NotYetValid { .. } => TlsFailure::NotYetValid,
            TlsVerifyError::Revoked { .. } => TlsFailure::Revoked,
            TlsVerifyError::Other { .. } => TlsFailure::BadCertificate,
        }
    }
}

/// Whether this client presents a certificate when the server asks for one (mutual TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientCertOffer {
    /// No client certificate is configured.
    #[default]
    None,
    /// A certificate and key are configured and sent when asked.
    Offered,
}

impl ClientCertOffer {
    /// What `config` presents.
    pub fn of(config: &rustls::ClientConfig) -> Self {
        if config.client_auth_cert_resolver.has_certs() {
            ClientCertOffer::Offered
        } else {
            ClientCertOffer::None
        }
    }
}

/// Which failure an alert from the server names, given what this client presented.
pub fn classify_alert(alert: AlertDescription, offer: ClientCertOffer) -> TlsFailure {
    use AlertDescription as A;
    match (alert, offer) {
        (A::CertificateRequired, _) => TlsFailure::ClientCertRefused,
        (
            A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateRevoked
            | A::CertificateExpired
            | A::CertificateUnknown
            | A::UnknownCA
            | A::AccessDenied
            | A::HandshakeFailure,
            ClientCertOffer::Offered,
        ) => TlsFailure::ClientCertRefused,
        _ => TlsFailure::HandshakeFailed,
    }
}

/// Why a TLS handshake with the server failed, sorted by what the person can do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The server's certificate failed a check: the trust set, the name or the server is wrong.
    #[error(transparent)]
    Verification(TlsVerifyError),
    /// The server ended the handshake with an alert: most often a client certificate it
    /// requires is missing, or one it does not trust was presented.
    #[error("the server sent alert {0:?}")]
    Refused(AlertDescription),
    /// The server answered the client certificate (or its absence) with this alert: the
    /// certificate is not one it accepts, or it requires one.
    #[error("the server refused the client certificate (alert {0:?})")]
    ClientCertRefused(AlertDescription),
    /// Anything else (no common protocol version or cipher suite, a malformed message...).
    #[error("{0}")]
    Other(rustls::Error),
}

impl HandshakeError {
    /// Sorts the rustls error of a handshake with `server` (the name verified), by a client
    /// that presented `offer`.
    pub fn from_rustls(server: &str, error: &rustls::Error, offer: ClientCertOffer) -> Self {
        if let Some(verify) = TlsVerifyError::from_rustls(server, error) {
            return HandshakeError::Verification(verify);
        }
        match error {
            rustls::Error::AlertReceived(alert) => match classify_alert(*alert, offer) {
                TlsFailure::ClientCertRefused => HandshakeError::ClientCertRefused(*alert),
                _ => HandshakeError::Refused(*alert),
            },
            other => HandshakeError::Other(other.clone()),
        }
    }

    /// Sorts the error tokio-rustls returned; `None` when it carries no rustls error (the
    /// connection failed underneath: reset, closed, timed out).
    pub fn from_io(server: &str, error: &io::Error, offer: ClientCertOffer) -> Option<Self> {
        rustls_error(error).map(|tls| Self::from_rustls(server, tls, offer))
    }

    /// The library-independent kind: the failed check, [`TlsFailure::ClientCertRefused`], or
    /// [`TlsFailure::HandshakeFailed`].
    pub fn kind(&self) -> TlsFailure {
        match self {
            HandshakeError::Verification(verify) => verify.kind(),
            HandshakeError::ClientCertRefused(_) => TlsFailure::ClientCertRefused,
            HandshakeError::Refused(_) | HandshakeError::Other(_) => TlsFailure::HandshakeFailed,
        }
    }
}

/// The rustls error tokio-rustls carries inside an `io::Error`, if there is one.
pub fn rustls_error(error: &io::Error) -> Option<&rustls::Error> {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// Which check failed: a certificate check, a refused client certificate (see
/// [`classify_alert`]), or [`TlsFailure::HandshakeFailed`] for anything else.
pub fn classify(error: &rustls::Error, offer: ClientCertOffer) -> TlsFailure {
    match error {
        rustls::Error::InvalidCertificate(cert) => classify_certificate(cert),
        rustls::Error::AlertReceived(alert) => classify_alert(*alert, offer),
        _ => TlsFailure::HandshakeFailed,
    }
}

/// Which certificate check failed.
pub fn classify_certificate(cert: &CertificateError) -> TlsFailure {
    use CertificateError as C;
    match cert {
        C::UnknownIssuer => TlsFailure::UnknownIssuer,
        C::NotValidForName | C::NotValidForNameContext { .. } => TlsFailure::NameMismatch,
        C::Expired | C::ExpiredContext { .. } => TlsFailure::Expired,
        C::NotValidYet | C::NotValidYetContext { .. } => TlsFailure::NotYetValid,
        C::Revoked => TlsFailure::Revoked,
        _ => TlsFailure::BadCertificate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::CertificateError as C;

    #[test]
    fn certificate_errors_name_the_check_and_its_close_code() {
        for (cert, failure, code) in [
            (C::UnknownIssuer, TlsFailure::UnknownIssuer, 4010),
            (C::NotValidForName, TlsFailure::NameMismatch, 4011),
            (C::Expired, TlsFailure::Expired, 4012),
            (C::NotValidYet, TlsFailure::NotYetValid, 4013),
            (C::Revoked, TlsFailure::Revoked, 4014),
            (C::BadSignature, TlsFailure::BadCertificate, 4015),
        ] {
            let error = rustls::Error::InvalidCertificate(cert);
            assert_eq!(classify(&error, ClientCertOffer::None), failure);
            assert_eq!(failure.close_code(), code);
            let verify = TlsVerifyError::from_rustls("broker.test", &error);
            assert_eq!(verify.map(|v| v.kind()), Some(failure));
            assert_eq!(
                HandshakeError::from_rustls("broker.test", &error, ClientCertOffer::None).kind(),
                failure
            );
        }
    }

    #[test]
    fn other_errors_are_handshake_failures() {
        let alert = rustls::Error::AlertReceived(AlertDescription::ProtocolVersion);
        assert_eq!(
            classify(&alert, ClientCertOffer::Offered),
            TlsFailure::HandshakeFailed
        );
        assert_eq!(TlsVerifyError::from_rustls("b", &alert), None);
        let io = io::Error::new(io::ErrorKind::InvalidData, alert);
        assert_eq!(
            rustls_error(&io).map(|e| classify(e, ClientCertOffer::None)),
            Some(TlsFailure::HandshakeFailed)
        );
        assert_eq!(rustls_error(&io::Error::other("reset")), None);
        assert_eq!(
            classify(&rustls::Error::DecryptError, ClientCertOffer::Offered),
            TlsFailure::HandshakeFailed
        );
    }

    /// The alerts a server answers a client certificate with name a refused certificate when
    /// one was sent; `certificate_required` names it always; other alerts stay handshake
    /// failures.
    #[test]
    fn certificate_alerts_after_a_client_certificate_are_a_refused_certificate() {
        use AlertDescription as A;
        let refusals = [
            A::BadCertificate,
            A::UnsupportedCertificate,
            A::CertificateRevoked,
            A::CertificateExpired,
            A::CertificateUnknown,
            A::UnknownCA,
            A::AccessDenied,
            A::HandshakeFailure,
        ];
        for alert in refusals {
            assert_eq!(
                classify_alert(alert, ClientCertOffer::Offered),
                TlsFailure::ClientCertRefused,
                "{alert:?}"
            );
            assert_eq!(
                classify_alert(alert, ClientCertOffer::None),
                TlsFailure::HandshakeFailed,
                "{alert:?}"
            );
        }
        for offer in [ClientCertOffer::None, ClientCertOffer::Offered] {
            assert_eq!(
                classify_alert(A::CertificateRequired, offer),
                TlsFailure::ClientCertRefused
            );
            for alert in [A::ProtocolVersion, A::InternalError, A::DecodeError] {
                assert_eq!(classify_alert(alert, offer), TlsFailure::HandshakeFailed);
            }
        }
    }

    /// A refused or missing client certificate comes back as an alert from the server.
    #[test]
    fn an_alert_from_the_server_is_a_refusal() {
        let io = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired),
        );
        let refused = HandshakeError::from_io("broker.test", &io, ClientCertOffer::None);
        assert_eq!(
            refused,
            Some(HandshakeError::ClientCertRefused(
                AlertDescription::CertificateRequired
            ))
        );
        assert_eq!(
            refused.map(|r| r.kind()),
            Some(TlsFailure::ClientCertRefused)
        );
        let unknown_ca = rustls::Error::AlertReceived(AlertDescription::UnknownCA);
        let untrusted = HandshakeError::from_rustls("b", &unknown_ca, ClientCertOffer::Offered);
        assert_eq!(
            untrusted,
            HandshakeError::ClientCertRefused(AlertDescription::UnknownCA)
        );
        assert_eq!(
            untrusted.to_string(),
            "the server refused the client certificate (alert UnknownCA)"
        );
        let plain = HandshakeError::from_rustls("b", &unknown_ca, ClientCertOffer::None);
        assert_eq!(plain, HandshakeError::Refused(AlertDescription::UnknownCA));
        assert_eq!(plain.kind(), TlsFailure::HandshakeFailed);
        let other =
            HandshakeError::from_rustls("b", &rustls::Error::DecryptError, ClientCertOffer::None);
        assert_eq!(other, HandshakeError::Other(rustls::Error::DecryptError));
        assert_eq!(other.kind(), TlsFailure::HandshakeFailed);
        assert_eq!(
            HandshakeError::from_io("b", &io::Error::other("reset"), ClientCertOffer::None),
            None
        );
    }

    #[test]
    fn name_mismatches_list_the_names_presented() {
        let error = rustls::Error::InvalidCertificate(C::NotValidForNameContext {
            expected: rustls_pki_types::ServerName::try_from("broker.test")
                .expect("name")
                .to_owned(),
            presented: vec!["DnsName(\"wrong.test\")".into()],
        });
        let verify = HandshakeError::from_rustls("broker.test", &error, ClientCertOffer::None);
        assert_eq!(
            verify.to_string(),
            "certificate is not valid for the name broker.test (it is for DnsName(\"wrong.test\"))"
        );
    }
}
