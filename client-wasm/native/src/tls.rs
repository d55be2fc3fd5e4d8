//! TLS client configuration: rustls with the ring provider, trusted roots from a PEM file (such
//! as the seed's `trusted.crt`) or the public web roots, and an optional client certificate for
//! mutual TLS.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use super::client_cert::client_cert_resolver;
use super::errors::ConfigError;

/// A client certificate chain and its private key, both PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAuth {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What the TLS client trusts and presents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file of trusted CA certificates; `None` trusts the public web roots (webpki-roots).
    pub ca_file: Option<PathBuf>,
    /// Presented when the server asks for a client certificate.
    pub client_auth: Option<ClientAuth>,
}

impl TlsOptions {
    /// Builds the rustls configuration (reads the files now).
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, ConfigError> {
        let roots = match &self.ca_file {
            Some(path) => roots_from_file(path)?,
            None => RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ConfigError::Tls(e.to_string()))?
            .with_root_certificates(roots);
        let config = match &self.client_auth {
            None => builder.with_no_client_auth(),
            Some(auth) => {
                let chain = load_certs(&auth.cert).map_err(|reason| ConfigError::ClientCert {
                    path: auth.cert.display().to_string(),
                    reason,
                })?;
                let key = PrivateKeyDer::from_pem_file(&auth.key).map_err(|e| {
                    ConfigError::ClientKey {
                        path: auth.key.display().to_string(),
                        reason: e.to_string(),
                    }
                })?;
                let resolver = client_cert_resolver(&provider, chain, key)
                    .map_err(|e| ConfigError::ClientAuth(e.to_string()))?;
                builder.with_client_cert_resolver(resolver)
            }
        };
        Ok(Arc::new(config))
    }
}

/// The name sent as SNI and verified in the certificate (a DNS name or an IP address).
pub fn server_name(host: &str) -> Result<ServerName<'static>, ConfigError> {
    ServerName::try_from(host.to_string()).map_err(|_| ConfigError::ServerName(host.into()))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certs.is_empty() {
        return Err("no CERTIFICATE section found".into());
    }
    Ok(certs)
}

fn roots_from_file(path: &Path) -> Result<RootCertStore, ConfigError> {
    let shown = path.display().to_string();
    let certs = load_certs(path).map_err(|reason| ConfigError::CaFile {
        path: shown.clone(),
        reason,
    })?;
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(ConfigError::NoCaCertificates(shown));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_roots_build_and_missing_files_are_config_errors() {
        assert!(TlsOptions::default().client_config().is_ok());
        let missing = TlsOptions {
            ca_file: Some("/nonexistent/trusted.crt".into()),
            client_auth: None,
        };
        assert!(matches!(
            missing.client_config(),
            Err(ConfigError::CaFile { .. })
        ));
        assert!(server_name("broker.test").is_ok());
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("bad name").is_err());
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let path = std::env::temp_dir().join(format!("mqttws-empty-ca-{}.pem", std::process::id()));
        assert!(std::fs::write(&path, "not a certificate\n").is_ok());
        let options = TlsOptions {
            ca_file: Some(path.clone()),
            client_auth: None,
        };
        let result = options.client_config();
        let _ = std::fs::remove_file(&path);
        assert!(
            matches!(result, Err(ConfigError::CaFile { .. })),
            "{result:?}"
        );
    }
}
