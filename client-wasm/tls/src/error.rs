//! The caller's errors: a PEM file, a client certificate or a setting that cannot be used. All
//! are found before anything is dialled. (A failed handshake is [`crate::classify::HandshakeError`].)

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What is wrong with one PEM file's contents or its reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PemProblem {
    /// The file could not be read (missing, not permitted, a folder...).
    #[error("{reason}")]
    Unreadable {
        /// The IO error's kind.
        kind: io::ErrorKind,
        /// The IO error's words.
        reason: String,
    },
    /// A section is malformed (bad base64, no END line, too large).
    #[error("bad PEM: {0}")]
    Malformed(String),
    /// The file holds no `CERTIFICATE` section.
    #[error("no CERTIFICATE section found")]
    NoCertificate,
    /// The file holds no private key section (PKCS#8, PKCS#1 or SEC1).
    #[error("no private key section found")]
    NoPrivateKey,
}

impl From<io::Error> for PemProblem {
    fn from(error: io::Error) -> Self {
        PemProblem::Unreadable {
            kind: error.kind(),
            reason: error.to_string(),
        }
    }
}

/// A PEM file that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct PemError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: PemProblem,
}

/// Why a certificate chain and a key cannot be presented together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientCertError {
    /// The chain is empty.
    #[error("the certificate file holds no certificate")]
    NoCertificate,
    /// The crypto provider cannot load the key for signing.
    #[error("the private key cannot be used for signing: {0}")]
    UnusableKey(String),
    /// The key's public half is not the certificate's.
    #[error("the private key does not belong to the certificate")]
    KeyMismatch,
    /// The first certificate is not DER X.509 (of any version).
    #[error("the certificate is not a DER X.509 certificate")]
    NotX509,
}

/// Why a TLS client configuration cannot be built. Always the caller's fault: fix the file or
/// the setting named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// The CA file cannot be read or holds no certificate.
    #[error("cannot read CA file {}", Shown(.0))]
    CaFile(PemError),
    /// A certificate of the CA file is not usable as a trust anchor. A CA file is a trust
    /// decision: it is taken whole or refused, never partly.
    #[error("CA file {}: certificate {index} is not a usable CA certificate: {reason}", .path.display())]
    UnusableCa {
        /// The CA file.
        path: PathBuf,
        /// Which certificate of the file (1 is the first).
        index: usize,
        /// Why rustls refused it.
        reason: String,
    },
    /// The client certificate file cannot be read or holds no certificate.
    #[error("cannot read client certificate {}", Shown(.0))]
    ClientCert(PemError),
    /// The client key file cannot be read or holds no key.
    #[error("cannot read client key {}", Shown(.0))]
    ClientKey(PemError),
    /// The client certificate and key do not go together.
    #[error("client certificate and key are not usable together: {0}")]
    ClientAuth(#[from] ClientCertError),
    /// The host is neither a DNS name nor an IP address, so it cannot be sent as SNI.
    #[error("'{0}' is not a valid TLS server name")]
    ServerName(String),
    /// A PEM option given as text (the package's `ca`, `cert`, `key`) cannot be used.
    #[error("the `{option}` option: {problem}")]
    PemText {
        /// The option's name.
        option: &'static str,
        /// What is wrong with it (as [`PemProblem`] or rustls words it).
        problem: String,
    },
    /// The crypto provider offers no safe protocol version (a build problem, not a file).
    #[error("TLS set-up failed: {0}")]
    Provider(String),
}

impl TlsSetupError {
    /// The PEM file behind the error, when a file is the problem.
    pub fn pem(&self) -> Option<&PemError> {
        match self {
            TlsSetupError::CaFile(pem)
            | TlsSetupError::ClientCert(pem)
            | TlsSetupError::ClientKey(pem) => Some(pem),
            _ => None,
        }
    }
}

/// "`<path>`: `<problem>`" inside a sentence that already names the file's role.
struct Shown<'a>(&'a PemError);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.path.display(), self.0.problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem(problem: PemProblem) -> PemError {
        PemError {
            path: "/etc/trusted.crt".into(),
            problem,
        }
    }

    #[test]
    fn messages_name_the_role_the_file_and_the_problem() {
        let missing = PemProblem::from(io::Error::from(io::ErrorKind::NotFound));
        assert!(matches!(
            missing,
            PemProblem::Unreadable {
                kind: io::ErrorKind::NotFound,
                ..
            }
        ));
        let ca = TlsSetupError::CaFile(pem(missing));
        assert!(ca
            .to_string()
            .starts_with("cannot read CA file /etc/trusted.crt: "));
        assert_eq!(
            TlsSetupError::ClientCert(pem(PemProblem::NoCertificate)).to_string(),
            "cannot read client certificate /etc/trusted.crt: no CERTIFICATE section found"
        );
        assert_eq!(
            TlsSetupError::ClientKey(pem(PemProblem::NoPrivateKey)).to_string(),
            "cannot read client key /etc/trusted.crt: no private key section found"
        );
        assert_eq!(
            TlsSetupError::from(ClientCertError::KeyMismatch).to_string(),
            "client certificate and key are not usable together: the private key does not belong to the certificate"
        );
        assert_eq!(
            pem(PemProblem::Malformed("x".into())).to_string(),
            "/etc/trusted.crt: bad PEM: x"
        );
    }

    #[test]
    fn only_file_errors_name_a_pem_file() {
        let file = TlsSetupError::ClientKey(pem(PemProblem::NoPrivateKey));
        assert_eq!(
            file.pem().map(|p| &p.problem),
            Some(&PemProblem::NoPrivateKey)
        );
        assert_eq!(TlsSetupError::ServerName("bad name".into()).pem(), None);
        assert_eq!(TlsSetupError::from(ClientCertError::NotX509).pem(), None);
        let text = TlsSetupError::PemText {
            option: "ca",
            problem: PemProblem::NoCertificate.to_string(),
        };
        assert_eq!(text.pem(), None);
        assert_eq!(
            text.to_string(),
            "the `ca` option: no CERTIFICATE section found"
        );
    }
}
