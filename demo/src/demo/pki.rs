//! The demo's local PKI: a CA and a server certificate for the broker's TLS front, generated
//! with rcgen on the first run and kept in the data directory, so later runs (and any client the
//! user pointed at `ca.pem`) keep working.
//!
//! | file | what |
//! |---|---|
//! | `ca.pem` | the demo CA: trust this (`--cafile`), the bridge does |
//! | `ca.key.pem` | the CA's key (kept so the set is complete; not used after the first run) |
//! | `server.pem` / `server.key.pem` | the front's certificate for [`SERVER_NAME`], `localhost` and `127.0.0.1` |

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::DemoError;

/// The DNS name in the front's certificate, sent as SNI by the bridge.
pub(crate) const SERVER_NAME: &str = "broker.demo.localhost";

/// Paths of the PKI files in a data directory.
#[derive(Debug, Clone)]
pub(crate) struct Pki {
    /// The CA certificate (PEM).
    pub ca: PathBuf,
    /// The CA key (PEM).
    pub ca_key: PathBuf,
    /// The server certificate (PEM), signed by the CA.
    pub server_cert: PathBuf,
    /// The server key (PEM, PKCS#8).
    pub server_key: PathBuf,
    /// Whether this run generated them.
    pub created: bool,
}

impl Pki {
    /// The file names in `dir`, without touching the disk.
    pub(crate) fn paths(dir: &Path) -> Pki {
        Pki {
            ca: dir.join("ca.pem"),
            ca_key: dir.join("ca.key.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key.pem"),
            created: false,
        }
    }

    /// Loads the PKI from `dir`, generating all of it when any file is missing.
    pub(crate) fn load_or_create(dir: &Path) -> Result<Pki, DemoError> {
        let mut pki = Pki::paths(dir);
        let complete = [&pki.ca, &pki.ca_key, &pki.server_cert, &pki.server_key]
            .iter()
            .all(|p| p.is_file());
        if !complete {
            generate(&pki)?;
            pki.created = true;
        }
        Ok(pki)
    }

    /// A rustls server configuration (ring provider) with the server certificate.
    pub(crate) fn server_config(&self) -> Result<rustls::ServerConfig, DemoError> {
        let certs = CertificateDer::pem_file_iter(&self.server_cert)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| DemoError::Pki(format!("{}: {e}", self.server_cert.display())))?;
        let key = PrivateKeyDer::from_pem_file(&self.server_key)
            .map_err(|e| DemoError::Pki(format!("{}: {e}", self.server_key.display())))?;
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| DemoError::Pki(format!("TLS setup: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| DemoError::Pki(format!("server certificate refused: {e}")))
    }
}

fn rc(e: rcgen::Error) -> DemoError {
    DemoError::Pki(format!("certificate generation: {e}"))
}

fn generate(pki: &Pki) -> Result<(), DemoError> {
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(rc)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name
        .push(DnType::CommonName, "MQTT in the browser demo CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().map_err(rc)?;
    let ca_cert = ca.self_signed(&ca_key).map_err(rc)?;

    let mut server = CertificateParams::new(vec![
        SERVER_NAME.to_string(),
        "localhost".to_string(),
        "127.0.0.1".to_string(),
    ])
    .map_err(rc)?;
    server
        .distinguished_name
        .push(DnType::CommonName, SERVER_NAME);
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_key = KeyPair::generate().map_err(rc)?;
    let issuer = Issuer::new(ca, &ca_key);
    let server_cert = server.signed_by(&server_key, &issuer).map_err(rc)?;

    write_private(&pki.ca_key, &ca_key.serialize_pem())?;
    write_private(&pki.server_key, &server_key.serialize_pem())?;
    write(&pki.server_cert, &server_cert.pem())?;
    // The CA last: its presence with the others marks a complete set.
    write(&pki.ca, &ca_cert.pem())?;
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), DemoError> {
    std::fs::write(path, text).map_err(|source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a secret readable by the owner only.
pub(crate) fn write_private(path: &Path, text: &str) -> Result<(), DemoError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let io = |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = options.open(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused_and_loadable() {
        let dir = std::env::temp_dir().join(format!("demo-pki-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let first = Pki::load_or_create(&dir).unwrap();
        assert!(first.created);
        let ca = std::fs::read_to_string(&first.ca).unwrap();
        let second = Pki::load_or_create(&dir).unwrap();
        assert!(!second.created);
        assert_eq!(ca, std::fs::read_to_string(&second.ca).unwrap());
        second.server_config().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
