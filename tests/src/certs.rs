//! A per-run PKI written as PEM files into a fresh temporary folder (removed on drop).
//!
//! | file | what |
//! |---|---|
//! | `ca.pem` | the test CA (trust this) |
//! | `broker.pem` / `broker.key` | server certificate for `broker.test` (also `localhost`, `127.0.0.1`) |
//! | `localhost.pem` / `localhost.key` | server certificate for `localhost` and IP `127.0.0.1` (e.g. the bridge's wss:// listener) |
//! | `wrong.pem` / `wrong.key` | server certificate for `wrong.test`, same CA |
//! | `expired.pem` / `expired.key` | server certificate for `broker.test`, same CA, expired in 2021 |
//! | `other-ca.pem` | an unrelated CA (trusting it must fail) |
//! | `other.pem` / `other.key` | server certificate for `broker.test` signed by the unrelated CA |
//! | `client.pem` / `client.key` | client certificate (CN `device-1`) signed by the test CA, for mutual TLS |
//! | `other-client.pem` / `other-client.key` | client certificate signed by the unrelated CA (a broker refuses it) |
//!
//! All keys are ECDSA P-256 (rcgen with ring), but [`TestPki::openssl_v1_client`]'s (RSA 2048).

use std::path::{Path, PathBuf};

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

/// The generated PKI. Paths stay valid until it is dropped.
#[derive(Debug)]
pub struct TestPki {
    dir: TempDir,
}

/// A certificate and its key, as file paths.
#[derive(Debug, Clone)]
pub struct CertFiles {
    /// PEM certificate.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8).
    pub key: PathBuf,
}

/// A fresh, unique folder under the system temp dir, removed on drop (a [`tempfile::TempDir`]
/// that panics instead of returning an error: this is a test harness).
#[derive(Debug)]
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    /// A new empty folder whose name starts with `<prefix>-`.
    pub fn new(prefix: &str) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{prefix}-"))
            .tempdir()
            .expect("create temp dir");
        TempDir(dir)
    }
    /// The folder.
    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, cn);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p
}

fn server_params(names: &[&str], ips: &[std::net::IpAddr]) -> CertificateParams {
    let mut p = CertificateParams::new(names.iter().map(ToString::to_string).collect::<Vec<_>>())
        .expect("server params");
    for ip in ips {
        p.subject_alt_names.push(SanType::IpAddress(*ip));
    }
    p.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("server"),
    );
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p
}

fn client_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("client params");
    p.distinguished_name.push(DnType::CommonName, cn);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p
}

impl TestPki {
    /// Generates every certificate and writes the files. Panics on failure (test harness).
    pub fn generate() -> TestPki {
        let dir = TempDir::new("mqttws-pki");
        let dir_path = dir.path().to_path_buf();
        let write = |name: &str, data: String| {
            std::fs::write(dir_path.join(name), data).expect("write pem");
        };
        let loopback: std::net::IpAddr = std::net::Ipv4Addr::LOCALHOST.into();

        let ca_key = KeyPair::generate().expect("key");
        let ca_p = ca_params("mqttws test CA");
        let ca_cert = ca_p.self_signed(&ca_key).expect("ca");
        write("ca.pem", ca_cert.pem());
        write("ca.key", ca_key.serialize_pem());
        let ca = Issuer::new(ca_p, ca_key);

        let leaf = |name: &str, params: CertificateParams, issuer: &Issuer<'_, KeyPair>| {
            let key = KeyPair::generate().expect("key");
            let cert = params.signed_by(&key, issuer).expect("sign");
            write(&format!("{name}.pem"), cert.pem());
            write(&format!("{name}.key"), key.serialize_pem());
        };
        leaf(
            "broker",
            server_params(&["broker.test", "localhost"], &[loopback]),
            &ca,
        );
        leaf("localhost", server_params(&["localhost"], &[loopback]), &ca);
        leaf("wrong", server_params(&["wrong.test"], &[]), &ca);
        let mut expired = server_params(&["broker.test"], &[]);
        expired.not_before = date_time_ymd(2020, 1, 1);
        expired.not_after = date_time_ymd(2021, 1, 1);
        leaf("expired", expired, &ca);

        leaf("client", client_params("device-1"), &ca);

        let other_key = KeyPair::generate().expect("key");
        let other_p = ca_params("unrelated test CA");
        let other_cert = other_p.self_signed(&other_key).expect("other ca");
        write("other-ca.pem", other_cert.pem());
        let other = Issuer::new(other_p, other_key);
        leaf("other", server_params(&["broker.test"], &[]), &other);
        leaf("other-client", client_params("device-elsewhere"), &other);

        TestPki { dir }
    }

    /// The folder holding every file.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Path of a file in the folder (see the table above).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The test CA certificate.
    pub fn ca(&self) -> PathBuf {
        self.path("ca.pem")
    }

    /// The unrelated CA certificate.
    pub fn other_ca(&self) -> PathBuf {
        self.path("other-ca.pem")
    }

    fn pair(&self, name: &str) -> CertFiles {
        CertFiles {
            cert: self.path(&format!("{name}.pem")),
            key: self.path(&format!("{name}.key")),
        }
    }

    /// Server certificate for `broker.test` (plus `localhost`, `127.0.0.1`).
    pub fn broker(&self) -> CertFiles {
        self.pair("broker")
    }
    /// Server certificate for `localhost` and `127.0.0.1`.
    pub fn localhost(&self) -> CertFiles {
        self.pair("localhost")
    }
    /// Server certificate for `wrong.test` (same CA).
    pub fn wrong_name(&self) -> CertFiles {
        self.pair("wrong")
    }
    /// Expired server certificate for `broker.test` (same CA).
    pub fn expired(&self) -> CertFiles {
        self.pair("expired")
    }
    /// Server certificate for `broker.test` signed by the unrelated CA.
    pub fn other_issuer(&self) -> CertFiles {
        self.pair("other")
    }
    /// Client certificate (CN `device-1`) for mutual TLS.
    pub fn client(&self) -> CertFiles {
        self.pair("client")
    }
    /// A client certificate from the unrelated CA: the broker does not trust it.
    pub fn other_client(&self) -> CertFiles {
        self.pair("other-client")
    }

    /// A client certificate made as seed 003 and most how-tos make one: `openssl genrsa`,
    /// `openssl req -new`, `openssl x509 -req` signed by the test CA. Without an extensions file
    /// that is an X.509 **v1** certificate (checked here, so the tests cannot silently test v3).
    pub fn openssl_v1_client(&self) -> CertFiles {
        let files = self.pair("client-v1");
        let csr = self.path("client-v1.csr");
        let (ca, ca_key) = (self.ca(), self.path("ca.key"));
        let steps: [Vec<&std::ffi::OsStr>; 3] = [
            vec![
                "genrsa".as_ref(),
                "-out".as_ref(),
                files.key.as_os_str(),
                "2048".as_ref(),
            ],
            vec![
                "req".as_ref(),
                "-new".as_ref(),
                "-key".as_ref(),
                files.key.as_os_str(),
                "-subj".as_ref(),
                "/CN=device-v1".as_ref(),
                "-out".as_ref(),
                csr.as_os_str(),
            ],
            vec![
                "x509".as_ref(),
                "-req".as_ref(),
                "-in".as_ref(),
                csr.as_os_str(),
                "-CA".as_ref(),
                ca.as_os_str(),
                "-CAkey".as_ref(),
                ca_key.as_os_str(),
                "-CAcreateserial".as_ref(),
                "-days".as_ref(),
                "2".as_ref(),
                "-out".as_ref(),
                files.cert.as_os_str(),
            ],
        ];
        for args in steps {
            let out = std::process::Command::new("openssl")
                .args(&args)
                .output()
                .expect("run openssl (Debian package openssl)");
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
        }
        let text = std::process::Command::new("openssl")
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&files.cert)
            .output()
            .expect("openssl x509 -text");
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(
            text.contains("Version: 1 (0x0)"),
            "not a v1 certificate: {text}"
        );
        files
    }
}
