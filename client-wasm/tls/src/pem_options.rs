//! TLS options given as PEM text rather than files: the npm package's `ca`, `cert`, `key` and
//! `rejectUnauthorized`, as MQTT.js and node:tls name them. `ca` **replaces** the public web
//! roots (as node:tls does); without it the web roots (webpki-roots) are trusted.

use std::sync::Arc;

use rustls::ClientConfig;

use crate::client_cert::client_cert_resolver;
use crate::error::TlsSetupError;
use crate::no_verify::NoVerification;
use crate::{pem, roots};

/// What the TLS client trusts and presents, as PEM text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemTlsOptions {
    /// PEM CA certificates; `None` trusts the public web roots.
    pub ca: Option<String>,
    /// PEM client certificate chain and PEM private key (PKCS#8, PKCS#1 or SEC1), for mutual TLS.
    pub cert_and_key: Option<(String, String)>,
    /// `false` accepts any server certificate (signatures are still checked): tests only.
    pub verify: bool,
}

impl Default for PemTlsOptions {
    fn default() -> Self {
        PemTlsOptions {
            ca: None,
            cert_and_key: None,
            verify: true,
        }
    }
}

impl PemTlsOptions {
    /// Builds the rustls configuration (ring provider, safe default versions, SNI on).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError::Provider(e.to_string()))?;
        let builder = if self.verify {
            let roots = match &self.ca {
                Some(text) => roots::from_pem_text(text.as_bytes())?,
                None => roots::web_roots(),
            };
            builder.with_root_certificates(roots)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider.clone())))
        };
        let config = match &self.cert_and_key {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = pem::certificates_from_pem(cert.as_bytes()).map_err(|p| {
                    TlsSetupError::PemText {
                        option: "cert",
                        problem: p.to_string(),
                    }
                })?;
                let key = pem::private_key_from_pem(key.as_bytes()).map_err(|p| {
                    TlsSetupError::PemText {
                        option: "key",
                        problem: p.to_string(),
                    }
                })?;
                builder.with_client_cert_resolver(client_cert_resolver(&provider, chain, key)?)
            }
        };
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::ClientCertOffer;
    use crate::test_pki::CertAndKey;

    #[test]
    fn pem_text_builds_a_mutual_tls_config_and_bad_text_names_the_option() {
        let device = CertAndKey::new("device");
        let options = PemTlsOptions {
            ca: Some(device.cert_pem().to_string()),
            cert_and_key: Some((device.cert_pem().to_string(), device.key_pem())),
            verify: true,
        };
        let config = options.client_config();
        assert!(
            config
                .as_ref()
                .is_ok_and(|c| ClientCertOffer::of(c) == ClientCertOffer::Offered),
            "{config:?}"
        );
        let plain = PemTlsOptions::default().client_config();
        assert!(plain.is_ok_and(|c| ClientCertOffer::of(&c) == ClientCertOffer::None));
        for (options, option) in [
            (
                PemTlsOptions {
                    ca: Some("junk".into()),
                    ..PemTlsOptions::default()
                },
                "ca",
            ),
            (
                PemTlsOptions {
                    cert_and_key: Some(("junk".into(), device.key_pem())),
                    ..PemTlsOptions::default()
                },
                "cert",
            ),
            (
                PemTlsOptions {
                    cert_and_key: Some((device.cert_pem().to_string(), "junk".into())),
                    ..PemTlsOptions::default()
                },
                "key",
            ),
        ] {
            let error = options.client_config().err();
            assert!(
                matches!(error, Some(TlsSetupError::PemText { option: o, .. }) if o == option),
                "{error:?}"
            );
        }
        let unverified = PemTlsOptions {
            verify: false,
            ..PemTlsOptions::default()
        };
        assert!(unverified.client_config().is_ok());
    }
}
