//! The client certificate presented for mutual TLS, accepted as brokers accept it.
//!
//! rustls' `with_client_auth_cert` parses the end-entity certificate with webpki to compare its
//! public key with the private key's, and webpki refuses X.509 v1 certificates
//! (`UnsupportedCertVersion`). The common `openssl req` + `openssl x509 -req` recipe (seed 003)
//! makes exactly those, and mosquitto and paho accept them: a client never validates its own
//! certificate, the server does. So the key is still loaded by the crypto provider (it must be
//! able to sign) and still compared with the certificate's SubjectPublicKeyInfo, read with a
//! small DER walk when webpki declines the certificate.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::InconsistentKeys;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{ClientCertError, TlsSetupError};
use crate::pem;
use crate::spki::subject_public_key_info;

/// A client certificate chain and its private key, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuth {
    /// The certificate chain, the client's own certificate first.
    pub cert: PathBuf,
    /// The private key of the first certificate.
    pub key: PathBuf,
}

impl ClientAuth {
    /// Reads both files and checks they go together (see [`client_cert_resolver`]).
    pub fn resolver(
        &self,
        provider: &CryptoProvider,
    ) -> Result<Arc<dyn ResolvesClientCert>, TlsSetupError> {
        let chain = pem::certificates(&self.cert).map_err(TlsSetupError::ClientCert)?;
        let key = pem::private_key(&self.key).map_err(TlsSetupError::ClientKey)?;
        Ok(client_cert_resolver(provider, chain, key)?)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_pki::{v1, CertAndKey};

    fn provider() -> CryptoProvider {
        rustls::crypto::ring::default_provider()
    }

    fn resolve(cert: &CertificateDer<'static>, key: &CertAndKey) -> Result<(), ClientCertError> {
        client_cert_resolver(&provider(), vec![cert.clone()], key.key()).map(|_| ())
    }

    #[test]
    fn an_empty_chain_is_refused() {
        let key = PrivateKeyDer::Pkcs8(vec![0u8; 8].into());
        assert_eq!(
            client_cert_resolver(&provider(), Vec::new(), key).err(),
            Some(ClientCertError::NoCertificate)
        );
    }

    #[test]
    fn a_v3_certificate_is_presented_with_its_own_key_only() {
        let (device, other) = (CertAndKey::new("device"), CertAndKey::new("other"));
        assert_eq!(resolve(&device.cert, &device), Ok(()));
        assert_eq!(
            resolve(&device.cert, &other),
            Err(ClientCertError::KeyMismatch)
        );
    }

    /// Issue 16: webpki refuses v1 certificates, so rustls' own check cannot be used for them.
    #[test]
    fn a_v1_certificate_is_presented_with_its_own_key_only() {
        let (device, other) = (CertAndKey::new("device"), CertAndKey::new("other"));
        let old = v1(&device.cert);
        assert!(
            rustls::server::ParsedCertificate::try_from(&old).is_err(),
            "webpki must refuse the v1 form, or this test tests nothing"
        );
        assert_eq!(resolve(&old, &device), Ok(()));
        assert_eq!(resolve(&old, &other), Err(ClientCertError::KeyMismatch));
    }

    #[test]
    fn a_key_the_provider_cannot_load_is_unusable() {
        let device = CertAndKey::new("device");
        let key = PrivateKeyDer::Pkcs8(vec![0u8; 8].into());
        assert!(matches!(
            client_cert_resolver(&provider(), vec![device.cert], key),
            Err(ClientCertError::UnusableKey(_))
        ));
    }

    #[test]
    fn files_are_read_and_their_errors_name_the_role() {
        let dir = tempfile::tempdir().expect("temp dir");
        let device = CertAndKey::new("device");
        let (cert, key) = device.write(dir.path());
        let auth = ClientAuth {
            cert: cert.clone(),
            key: key.clone(),
        };
        assert!(auth.resolver(&provider()).is_ok());
        let swapped = ClientAuth {
            cert: key.clone(),
            key: cert.clone(),
        };
        assert!(matches!(
            swapped.resolver(&provider()),
            Err(TlsSetupError::ClientCert(_))
        ));
        let no_key = ClientAuth {
            cert: cert.clone(),
            key: cert,
        };
        assert!(matches!(
            no_key.resolver(&provider()),
            Err(TlsSetupError::ClientKey(_))
        ));
    }
}
