//! Which check failed when TLS to the broker failed, independent of the TLS library: the bridge
//! reports it to its clients as a close code, the native CLI as an error and exit code. The
//! mapping from rustls's errors lives once, in `mqtt-tls` (`classify`), which the CLI and the
//! bridge share.

use super::close;

/// Why a TLS session with the broker could not be established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The certificate's issuer is not in the trusted CA set.
    UnknownIssuer,
    /// The certificate is not valid for the server name (SNI) asked for.
    NameMismatch,
    /// The certificate has expired.
    Expired,
    /// The certificate is not valid yet.
    NotYetValid,
    /// The certificate is revoked.
    Revoked,
    /// The certificate failed another check (signature, purpose, encoding...).
    BadCertificate,
    /// The handshake failed for a reason other than the server's certificate (an alert from the
    /// server, e.g. a refused or missing client certificate; a protocol mismatch).
    HandshakeFailed,
    /// The server refused the client certificate presented, or required one and got none: it
    /// answered the client's certificate with an alert (`certificate_required`, `unknown_ca`,
    /// `bad_certificate`, `handshake_failure`...). Fix the certificate or the broker's CA list.
    ClientCertRefused,
}

impl TlsFailure {
    /// Every kind, verification failures first.
    pub const ALL: [TlsFailure; 8] = [
        TlsFailure::UnknownIssuer,
        TlsFailure::NameMismatch,
        TlsFailure::Expired,
        TlsFailure::NotYetValid,
        TlsFailure::Revoked,
        TlsFailure::BadCertificate,
        TlsFailure::HandshakeFailed,
        TlsFailure::ClientCertRefused,
    ];

    /// The close code the bridge sends for it (4010-4017, see [`close`]).
    pub fn close_code(self) -> u16 {
        match self {
            TlsFailure::UnknownIssuer => close::TLS_UNKNOWN_ISSUER,
            TlsFailure::NameMismatch => close::TLS_NAME_MISMATCH,
            TlsFailure::Expired => close::TLS_EXPIRED,
            TlsFailure::NotYetValid => close::TLS_NOT_YET_VALID,
            TlsFailure::Revoked => close::TLS_REVOKED,
            TlsFailure::BadCertificate => close::TLS_BAD_CERTIFICATE,
            TlsFailure::HandshakeFailed => close::TLS_HANDSHAKE_FAILED,
            TlsFailure::ClientCertRefused => close::TLS_CLIENT_CERT_REFUSED,
        }
    }

    /// True when the server's certificate failed verification (everything but
    /// [`TlsFailure::HandshakeFailed`] and [`TlsFailure::ClientCertRefused`], which the server
    /// decided).
    pub fn is_verification(self) -> bool {
        !matches!(
            self,
            TlsFailure::HandshakeFailed | TlsFailure::ClientCertRefused
        )
    }

    /// The stable name of the kind, as the JavaScript API's `tls` property and the edge
    /// transports spell it.
    pub fn code(self) -> &'static str {
        match self {
            TlsFailure::UnknownIssuer => "unknown_issuer",
            TlsFailure::NameMismatch => "name_mismatch",
            TlsFailure::Expired => "expired",
            TlsFailure::NotYetValid => "not_yet_valid",
            TlsFailure::Revoked => "revoked",
            TlsFailure::BadCertificate => "bad_certificate",
            TlsFailure::HandshakeFailed => "handshake_failed",
            TlsFailure::ClientCertRefused => "client_cert_refused",
        }
    }

    /// The kind [`TlsFailure::code`] names.
    pub fn from_code(code: &str) -> Option<TlsFailure> {
        TlsFailure::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// A few words naming the failed check, for close reasons and messages.
    pub fn summary(self) -> &'static str {
        match self {
            TlsFailure::UnknownIssuer => "unknown issuer",
            TlsFailure::NameMismatch => "certificate not valid for the name",
            TlsFailure::Expired => "certificate expired",
            TlsFailure::NotYetValid => "certificate not yet valid",
            TlsFailure::Revoked => "certificate revoked",
            TlsFailure::BadCertificate => "bad certificate",
            TlsFailure::HandshakeFailed => "handshake failed",
            TlsFailure::ClientCertRefused => "client certificate refused",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::close::CloseClass;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn each_kind_has_a_stable_name_that_reads_back() {
        for kind in TlsFailure::ALL {
            assert_eq!(TlsFailure::from_code(kind.code()), Some(kind));
        }
        assert_eq!(TlsFailure::UnknownIssuer.code(), "unknown_issuer");
        assert_eq!(TlsFailure::from_code("UnknownIssuer"), None);
        assert_eq!(
            TlsFailure::from_code("client_cert_refused"),
            Some(TlsFailure::ClientCertRefused)
        );
        assert!(!TlsFailure::ClientCertRefused.is_verification());
    }

    #[test]
    fn each_failure_has_its_own_code_of_the_matching_class() {
        let mut codes: Vec<u16> = TlsFailure::ALL.iter().map(|f| f.close_code()).collect();
        codes.dedup();
        assert_eq!(codes, (4010..=4017).collect::<Vec<u16>>());
        for failure in TlsFailure::ALL {
            let class = CloseClass::of(failure.close_code());
            let expected = if failure.is_verification() {
                CloseClass::TlsVerification
            } else {
                CloseClass::TlsHandshake
            };
            assert_eq!(class, expected, "{failure:?}");
            assert!(!class.is_retried(), "{failure:?}");
        }
    }
}
