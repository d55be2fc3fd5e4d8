//! The certificates trusted to sign the server's: the public web roots, or a CA PEM file (such
//! as the seed's `trusted.crt`).

use std::path::Path;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;

use crate::error::TlsSetupError;
use crate::pem;

/// The public web roots (Mozilla's, from webpki-roots): the default when no CA file is given.
pub fn web_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// Every certificate of the CA PEM file at `path`, each of which must be usable as a trust
/// anchor (X.509 v1 roots included): a file taken in part would fail later, as an unknown
/// issuer, far from its cause.
pub fn from_pem_file(path: &Path) -> Result<RootCertStore, TlsSetupError> {
    let certs = pem::certificates(path).map_err(TlsSetupError::CaFile)?;
    from_certificates(certs).map_err(|(index, reason)| TlsSetupError::UnusableCa {
        path: path.to_path_buf(),
        index,
        reason,
    })
}

/// The store of `certs`, or the first one (counted from 1) rustls refuses, with its reason.
/// The CA certificates of PEM text (the package's `ca` option): every one usable, at least one.
pub fn from_pem_text(text: &[u8]) -> Result<RootCertStore, TlsSetupError> {
    let problem = |problem: String| TlsSetupError::PemText {
        option: "ca",
        problem,
    };
    let certs = pem::certificates_from_pem(text).map_err(|p| problem(p.to_string()))?;
    from_certificates(certs).map_err(|(index, reason)| {
        problem(format!(
            "certificate {index} is not a usable CA certificate: {reason}"
        ))
    })
}

fn from_certificates(
    certs: Vec<CertificateDer<'static>>,
) -> Result<RootCertStore, (usize, String)> {
    let mut roots = RootCertStore::empty();
    for (index, cert) in certs.into_iter().enumerate() {
        roots.add(cert).map_err(|e| (index + 1, e.to_string()))?;
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PemProblem;

    fn ca_pem() -> String {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).expect("self-signed").pem()
    }

    #[test]
    fn the_web_roots_are_not_empty() {
        assert!(web_roots().len() > 100);
    }

    #[test]
    fn ca_text_is_taken_whole_or_refused() {
        assert_eq!(
            from_pem_text(format!("{}{}", ca_pem(), ca_pem()).as_bytes()).map(|r| r.len()),
            Ok(2)
        );
        assert!(matches!(
            from_pem_text(b"not a certificate"),
            Err(TlsSetupError::PemText { option: "ca", .. })
        ));
    }

    #[test]
    fn a_ca_file_is_taken_whole_or_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("trusted.crt");
        std::fs::write(&path, format!("{}{}", ca_pem(), ca_pem())).expect("write");
        assert_eq!(from_pem_file(&path).map(|r| r.len()), Ok(2));

        // A second section that is not a certificate at all: refused, naming it.
        let junk = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";
        std::fs::write(&path, format!("{}{junk}", ca_pem())).expect("write");
        assert!(
            matches!(
                from_pem_file(&path),
                Err(TlsSetupError::UnusableCa { index: 2, .. })
            ),
            "{:?}",
            from_pem_file(&path)
        );

        std::fs::write(&path, "not a certificate\n").expect("write");
        assert!(matches!(
            from_pem_file(&path),
            Err(TlsSetupError::CaFile(crate::error::PemError {
                problem: PemProblem::NoCertificate,
                ..
            }))
        ));
    }
}
