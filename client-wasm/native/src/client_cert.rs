//! The client certificate presented for mutual TLS, accepted as brokers accept it.
//!
//! rustls' `with_client_auth_cert` parses the end-entity certificate with webpki to compare its
//! public key with the private key's, and webpki refuses X.509 v1 certificates
//! (`UnsupportedCertVersion`). The common `openssl req` + `openssl x509 -req` recipe (seed 003)
//! makes exactly those, and mosquitto and paho accept them: a client never validates its own
//! certificate, the server does. So the key is still loaded by the crypto provider (it must be
//! able to sign) and still compared with the certificate's SubjectPublicKeyInfo, read here with
//! a small DER walk when webpki declines the certificate. Used by `mqttws` and by ws-bridge
//! routes with `client_cert`.

use std::sync::Arc;

use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::InconsistentKeys;

/// Why a certificate chain and a key cannot be presented together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientCertError {
    #[error("the certificate file holds no certificate")]
    NoCertificate,
    #[error("the private key cannot be used for signing: {0}")]
    UnusableKey(String),
    #[error("the private key does not belong to the certificate")]
    KeyMismatch,
    #[error("the certificate is not a DER X.509 certificate")]
    NotX509,
}

/// A resolver that always presents `chain` with `key`, after checking that the key loads, can
/// sign, and matches the first certificate's public key.
pub fn client_cert_resolver(
    provider: &CryptoProvider,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<dyn ResolvesClientCert>, ClientCertError> {
    let leaf = chain.first().ok_or(ClientCertError::NoCertificate)?.clone();
    let signer = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| ClientCertError::UnusableKey(e.to_string()))?;
    let key_spki = signer.public_key().map(|spki| spki.as_ref().to_vec());
    let certified = CertifiedKey::new(chain, signer);
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            return Err(ClientCertError::KeyMismatch)
        }
        // webpki declined the certificate itself (a v1 certificate, say): compare the keys here.
        Err(_) => {
            let cert_spki = subject_public_key_info(&leaf).ok_or(ClientCertError::NotX509)?;
            if key_spki.is_some_and(|spki| spki != cert_spki) {
                return Err(ClientCertError::KeyMismatch);
            }
        }
    }
    Ok(Arc::new(SingleCertAndKey::from(certified)))
}

/// The DER SubjectPublicKeyInfo of an X.509 certificate of any version (RFC 5280 §4.1):
/// `Certificate ::= SEQUENCE { tbsCertificate, ... }`, and in `tbsCertificate` the optional
/// `[0] version`, then serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo.
fn subject_public_key_info(cert: &[u8]) -> Option<&[u8]> {
    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const VERSION: u8 = 0xa0;
    let (certificate, _) = element(cert, SEQUENCE)?;
    let (tbs, _) = element(certificate.content, SEQUENCE)?;
    let mut rest = tbs.content;
    if rest.first() == Some(&VERSION) {
        rest = element(rest, VERSION)?.1;
    }
    for tag in [INTEGER, SEQUENCE, SEQUENCE, SEQUENCE, SEQUENCE] {
        rest = element(rest, tag)?.1;
    }
    Some(element(rest, SEQUENCE)?.0.whole)
}

struct Element<'a> {
    whole: &'a [u8],
    content: &'a [u8],
}

/// One DER element with the expected tag at the start of `input`, and what follows it.
fn element(input: &[u8], tag: u8) -> Option<(Element<'_>, &[u8])> {
    let (&found, after_tag) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, mut after_length) = after_tag.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        // Long form: 1 to 4 length bytes (no certificate needs more).
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || after_length.len() < count {
            return None;
        }
        let (digits, rest) = after_length.split_at(count);
        after_length = rest;
        digits
            .iter()
            .fold(0usize, |n, &d| (n << 8) | usize::from(d))
    };
    if after_length.len() < length {
        return None;
    }
    let header = input.len() - after_length.len();
    let (content, rest) = after_length.split_at(length);
    Some((
        Element {
            whole: &input[..header + length],
            content,
        },
        rest,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_or_foreign_der_is_not_a_certificate() {
        assert!(subject_public_key_info(&[]).is_none());
        assert!(subject_public_key_info(&[0x30, 0x82, 0xff]).is_none());
        assert!(subject_public_key_info(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(subject_public_key_info(&[0x02, 0x01, 0x00]).is_none());
        // Every prefix of a well-formed element list is refused without a panic.
        let mut der = vec![0x30, 0x0c, 0x30, 0x0a, 0x02, 0x01, 0x01];
        der.extend([0x30, 0x00, 0x30, 0x00, 0x30, 0x00]);
        for end in 0..der.len() {
            assert!(subject_public_key_info(&der[..end]).is_none());
        }
    }

    #[test]
    fn an_empty_chain_is_refused() {
        let provider = rustls::crypto::ring::default_provider();
        let key = PrivateKeyDer::Pkcs8(vec![0u8; 8].into());
        assert_eq!(
            client_cert_resolver(&provider, Vec::new(), key).err(),
            Some(ClientCertError::NoCertificate)
        );
    }
}
