//! Certificates for the unit tests: rcgen v3 certificates, and their X.509 v1 form.

use std::path::{Path, PathBuf};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A self-signed client certificate and its key.
pub(crate) struct CertAndKey {
    pub(crate) cert: CertificateDer<'static>,
    cert_pem: String,
    key: rcgen::KeyPair,
}

impl CertAndKey {
    pub(crate) fn new(common_name: &str) -> CertAndKey {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        let cert = params.self_signed(&key).expect("self-signed");
        CertAndKey {
            cert: cert.der().clone(),
            cert_pem: cert.pem(),
            key,
        }
    }

    pub(crate) fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }

    pub(crate) fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub(crate) fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// Writes `cert.pem` and `cert.key` into `dir`.
    pub(crate) fn write(&self, dir: &Path) -> (PathBuf, PathBuf) {
        let (cert, key) = (dir.join("cert.pem"), dir.join("cert.key"));
        std::fs::write(&cert, &self.cert_pem).expect("write cert");
        std::fs::write(&key, self.key.serialize_pem()).expect("write key");
        (cert, key)
    }
}

/// The certificate re-encoded as X.509 v1 (its `[0] version` removed), as `openssl x509 -req`
/// makes it. The signature no longer matches, which a client never checks on its own
/// certificate.
pub(crate) fn v1(cert: &CertificateDer<'_>) -> CertificateDer<'static> {
    let (certificate, _) = split(cert);
    let (tbs, after_tbs) = split(certificate);
    assert_eq!(
        tbs.first(),
        Some(&0xa0),
        "a v3 certificate starts with [0] version"
    );
    let (_version, fields) = split(tbs);
    let mut content = sequence(fields);
    content.extend_from_slice(after_tbs);
    CertificateDer::from(sequence(&content))
}

/// The content of the DER element at the start of `der`, and what follows it.
fn split(der: &[u8]) -> (&[u8], &[u8]) {
    let first = der[1];
    let (length, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let count = usize::from(first & 0x7f);
        let length = der[2..2 + count]
            .iter()
            .fold(0usize, |n, &d| (n << 8) | usize::from(d));
        (length, 2 + count)
    };
    (&der[header..header + length], &der[header + length..])
}

fn sequence(content: &[u8]) -> Vec<u8> {
    let mut der = vec![0x30];
    let length = content.len();
    if length < 0x80 {
        der.push(length as u8);
    } else {
        let digits: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|&d| d == 0)
            .collect();
        der.push(0x80 | digits.len() as u8);
        der.extend(digits);
    }
    der.extend_from_slice(content);
    der
}
