//! The rustls client configuration: ring provider, safe default protocol versions, the roots
//! chosen ([`crate::roots`]), an optional client certificate ([`crate::client_cert`]); and the
//! server name, which is both the SNI sent and the name verified.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls_pki_types::ServerName;

use crate::client_cert::ClientAuth;
use crate::error::TlsSetupError;
use crate::roots;

/// What the TLS client trusts and presents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file of trusted CA certificates; `None` trusts the public web roots (webpki-roots).
    pub ca_file: Option<PathBuf>,
    /// Presented when the server asks for a client certificate.
    pub client_auth: Option<ClientAuth>,
}

impl TlsOptions {
    /// Builds the rustls configuration (reads the files now, so their errors show before
    /// anything is dialled). SNI is on: rustls sends the name given to each connection.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsSetupError> {
        let roots = match &self.ca_file {
            Some(path) => roots::from_pem_file(path)?,
            None => roots::web_roots(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError::Provider(e.to_string()))?
            .with_root_certificates(roots);
        let config = match &self.client_auth {
            None => builder.with_no_client_auth(),
            Some(auth) => builder.with_client_cert_resolver(auth.resolver(&provider)?),
        };
        Ok(Arc::new(config))
    }
}

/// The name sent as SNI and verified in the certificate (a DNS name or an IP address).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsSetupError> {
    ServerName::try_from(host.to_string()).map_err(|_| TlsSetupError::ServerName(host.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{PemError, PemProblem};
    use crate::test_pki::CertAndKey;

    #[test]
    fn default_roots_build_and_missing_files_are_setup_errors() {
        let config = TlsOptions::default().client_config();
        assert!(config.as_ref().is_ok_and(|c| c.enable_sni), "{config:?}");
        let missing = TlsOptions {
            ca_file: Some("/nonexistent/trusted.crt".into()),
            client_auth: None,
        };
        assert!(matches!(
            missing.client_config(),
            Err(TlsSetupError::CaFile(PemError {
                problem: PemProblem::Unreadable { .. },
                ..
            }))
        ));
        let no_key = TlsOptions {
            ca_file: None,
            client_auth: Some(ClientAuth {
                cert: "/nonexistent/client.pem".into(),
                key: "/nonexistent/client.key".into(),
            }),
        };
        assert!(matches!(
            no_key.client_config(),
            Err(TlsSetupError::ClientCert(_))
        ));
    }

    #[test]
    fn server_names_are_dns_names_or_ip_addresses() {
        assert!(server_name("broker.test").is_ok());
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("::1").is_ok());
        assert_eq!(
            server_name("bad name").err(),
            Some(TlsSetupError::ServerName("bad name".into()))
        );
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("empty-ca.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let options = TlsOptions {
            ca_file: Some(path),
            client_auth: None,
        };
        let result = options.client_config();
        assert!(
            matches!(result, Err(TlsSetupError::CaFile(_))),
            "{result:?}"
        );
    }

    #[test]
    fn a_ca_file_and_a_client_certificate_build_a_mutual_tls_config() {
        let dir = tempfile::tempdir().expect("temp dir");
        let device = CertAndKey::new("device");
        let (cert, key) = device.write(dir.path());
        let options = TlsOptions {
            ca_file: Some(cert.clone()),
            client_auth: Some(ClientAuth { cert, key }),
        };
        let config = options.client_config();
        assert!(
            config
                .as_ref()
                .is_ok_and(|c| c.client_auth_cert_resolver.has_certs()),
            "{config:?}"
        );
    }
}
