//! The one place a rustls error is sorted into a [`TlsFailure`] (which check failed). The CLI
//! turns it into a [`TlsVerifyError`] and an exit code; ws-bridge into a close code.

use std::io;

use rustls::CertificateError;

pub use mqtt_core::wire::tls::TlsFailure;

/// Which check of the server's certificate failed, with what the person needs to fix it.
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

/// The rustls error tokio-rustls carries inside an `io::Error`, if there is one.
pub fn rustls_error(error: &io::Error) -> Option<&rustls::Error> {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// Which check failed: a certificate check, or [`TlsFailure::HandshakeFailed`] for anything else.
pub fn classify(error: &rustls::Error) -> TlsFailure {
    match error {
        rustls::Error::InvalidCertificate(cert) => classify_certificate(cert),
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
            assert_eq!(classify(&error), failure);
            assert_eq!(failure.close_code(), code);
            let verify = TlsVerifyError::from_rustls("broker.test", &error);
            assert_eq!(verify.map(|v| v.kind()), Some(failure));
        }
    }

    #[test]
    fn other_errors_are_handshake_failures() {
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired);
        assert_eq!(classify(&alert), TlsFailure::HandshakeFailed);
        assert_eq!(TlsVerifyError::from_rustls("b", &alert), None);
        let io = io::Error::new(io::ErrorKind::InvalidData, alert);
        assert_eq!(
            rustls_error(&io).map(classify),
            Some(TlsFailure::HandshakeFailed)
        );
        assert_eq!(rustls_error(&io::Error::other("reset")), None);
    }
}
