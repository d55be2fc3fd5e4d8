//! Reading PEM files: every certificate of a file (at least one), or its first private key.

use std::fs;
use std::path::Path;

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{PemError, PemProblem};

/// Every `CERTIFICATE` section of the PEM file at `path`, in order; at least one.
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, PemError> {
    read(path)
        .and_then(|data| certificates_from_pem(&data))
        .map_err(|problem| PemError {
            path: path.to_path_buf(),
            problem,
        })
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) of the PEM file at `path`.
pub fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PemError> {
    read(path)
        .and_then(|data| private_key_from_pem(&data))
        .map_err(|problem| PemError {
            path: path.to_path_buf(),
            problem,
        })
}

/// Every `CERTIFICATE` section of PEM text, in order; at least one. Other sections are skipped.
pub fn certificates_from_pem(data: &[u8]) -> Result<Vec<CertificateDer<'static>>, PemProblem> {
    let certs = CertificateDer::pem_slice_iter(data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(malformed)?;
    if certs.is_empty() {
        return Err(PemProblem::NoCertificate);
    }
    Ok(certs)
}

/// The first private key section of PEM text.
pub fn private_key_from_pem(data: &[u8]) -> Result<PrivateKeyDer<'static>, PemProblem> {
    PrivateKeyDer::from_pem_slice(data).map_err(|e| match e {
        pem::Error::NoItemsFound => PemProblem::NoPrivateKey,
        other => malformed(other),
    })
}

fn read(path: &Path) -> Result<Vec<u8>, PemProblem> {
    Ok(fs::read(path)?)
}

fn malformed(error: pem::Error) -> PemProblem {
    match error {
        pem::Error::Io(io) => PemProblem::from(io),
        other => PemProblem::Malformed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";

    #[test]
    fn certificates_are_read_in_order_and_other_sections_skipped() {
        let text = format!("{CERT}-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n{CERT}");
        let certs = certificates_from_pem(text.as_bytes());
        assert_eq!(certs.map(|c| c.len()), Ok(2));
        let one = certificates_from_pem(CERT.as_bytes());
        assert_eq!(
            one.map(|c| c[0].as_ref().to_vec()),
            Ok(vec![0x30, 3, 2, 1, 0])
        );
    }

    #[test]
    fn a_file_without_the_section_or_with_a_broken_one_is_refused() {
        assert_eq!(
            certificates_from_pem(b"not a certificate\n"),
            Err(PemProblem::NoCertificate)
        );
        assert_eq!(
            private_key_from_pem(CERT.as_bytes()).err(),
            Some(PemProblem::NoPrivateKey)
        );
        let unterminated = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n";
        assert!(matches!(
            certificates_from_pem(unterminated.as_bytes()),
            Err(PemProblem::Malformed(_))
        ));
        let bad_base64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            certificates_from_pem(bad_base64.as_bytes()),
            Err(PemProblem::Malformed(_))
        ));
    }

    #[test]
    fn a_missing_file_is_unreadable_and_named() {
        let path = Path::new("/nonexistent/trusted.crt");
        let error = certificates(path).err();
        assert!(
            matches!(
                &error,
                Some(PemError {
                    problem: PemProblem::Unreadable {
                        kind: std::io::ErrorKind::NotFound,
                        ..
                    },
                    path: p,
                }) if p == path
            ),
            "{error:?}"
        );
        assert!(private_key(path).is_err());
    }

    #[test]
    fn keys_of_each_encoding_are_read() {
        let key = rcgen::KeyPair::generate().expect("key").serialize_pem();
        assert!(matches!(
            private_key_from_pem(key.as_bytes()),
            Ok(PrivateKeyDer::Pkcs8(_))
        ));
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("client.key");
        assert!(fs::write(&path, key).is_ok());
        assert!(private_key(&path).is_ok());
    }
}
