//! The session against an in-memory rustls server (rcgen certificates, bytes moved by hand):
//! the happy paths (TLS 1.3 and 1.2, a v3 and an X.509 v1 client certificate) and each refusal
//! sorted by the one classification.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, ServerConnection,
    SignatureScheme,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};

use super::*;
use crate::pem_options::PemTlsOptions;
use crate::test_pki::v1;

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

struct Leaf {
    cert: CertificateDer<'static>,
    pem: String,
    key: KeyPair,
}

impl Leaf {
    fn key_der(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }
}

fn make_ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

fn leaf(ca: &Ca, names: &[&str], client: bool, expired: bool) -> Leaf {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(ToString::to_string).collect::<Vec<_>>()).unwrap();
    params.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    Leaf {
        cert: cert.der().clone(),
        pem: cert.pem(),
        key,
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// How the test server treats client certificates.
enum ClientAuthMode {
    None,
    /// Required, verified against this CA (webpki: X.509 v3 only).
    Required(String),
    /// Required, any certificate accepted, its signature not checked (webpki cannot read a v1
    /// certificate's key; mosquitto's OpenSSL can, which edge_package_tls checks for real).
    AnyRequired,
}

fn broker_side(server_cert: &Leaf, auth: ClientAuthMode, tls12_only: bool) -> ServerConnection {
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        rustls::DEFAULT_VERSIONS
    };
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .unwrap();
    let builder = match auth {
        ClientAuthMode::None => builder.with_no_client_auth(),
        ClientAuthMode::Required(ca_pem) => {
            let mut roots = RootCertStore::empty();
            for cert in crate::pem::certificates_from_pem(ca_pem.as_bytes()).unwrap() {
                roots.add(cert).unwrap();
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        ClientAuthMode::AnyRequired => {
            builder.with_client_cert_verifier(Arc::new(AnyClientCert(provider())))
        }
    };
    let config = builder
        .with_single_cert(vec![server_cert.cert.clone()], server_cert.key_der())
        .unwrap();
    ServerConnection::new(Arc::new(config)).unwrap()
}

#[derive(Debug)]
struct AnyClientCert(Arc<CryptoProvider>);

impl ClientCertVerifier for AnyClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn session_for(options: &PemTlsOptions, name: &str) -> TlsSession {
    TlsSession::new(options.client_config().unwrap(), name).unwrap()
}

/// Moves bytes both ways until neither side has any; the client's first error ends it. The
/// server writes `reply` once it reads anything.
fn pump(
    client: &mut TlsSession,
    server: &mut ServerConnection,
    reply: &[u8],
) -> Result<(), SessionError> {
    let mut replied = false;
    for _ in 0..50 {
        let out = client.take_ciphertext();
        let mut moved = !out.is_empty();
        let mut rd = &out[..];
        while !rd.is_empty() {
            if server.read_tls(&mut rd).is_err() {
                break;
            }
            if server.process_new_packets().is_err() {
                break;
            }
        }
        let mut got = Vec::new();
        let _ = server.reader().read_to_end(&mut got);
        if !got.is_empty() && !replied {
            server.writer().write_all(reply).unwrap();
            replied = true;
        }
        let mut back = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut back).unwrap();
        }
        moved |= !back.is_empty();
        client.receive(&back)?;
        if !moved {
            return Ok(());
        }
    }
    Ok(())
}

fn options(ca: &Ca, client_cert: Option<(&str, String)>) -> PemTlsOptions {
    PemTlsOptions {
        ca: Some(ca.pem.clone()),
        cert_and_key: client_cert.map(|(c, k)| (c.to_string(), k)),
        verify: true,
    }
}

/// Handshake, then an MQTT-like exchange: the CONNECT goes out, the CONNACK comes back.
fn round_trip(client: &mut TlsSession, server: &mut ServerConnection) -> Result<(), SessionError> {
    pump(client, server, b"")?;
    assert!(!client.is_handshaking());
    client.write(b"\x10\x0cCONNECT")?;
    pump(client, server, b"\x20\x02\x00\x00")?;
    assert_eq!(client.take_plaintext(), b"\x20\x02\x00\x00");
    Ok(())
}

#[test]
fn a_session_carries_bytes_both_ways_over_tls_1_3_and_1_2() {
    let ca = make_ca("test CA");
    let broker = leaf(&ca, &["broker.test"], false, false);
    for tls12 in [false, true] {
        let mut client = session_for(&options(&ca, None), "broker.test");
        assert!(client.is_handshaking());
        let mut server = broker_side(&broker, ClientAuthMode::None, tls12);
        assert_eq!(
            round_trip(&mut client, &mut server),
            Ok(()),
            "tls12 {tls12}"
        );
        assert_eq!(client.ended(), None);
        client.close();
        assert!(!client.take_ciphertext().is_empty());
    }
}

#[test]
fn a_v3_client_certificate_is_presented_and_accepted() {
    let ca = make_ca("test CA");
    let broker = leaf(&ca, &["broker.test"], false, false);
    let device = leaf(&ca, &[], true, false);
    for tls12 in [false, true] {
        let mut client = session_for(
            &options(&ca, Some((&device.pem, device.key.serialize_pem()))),
            "broker.test",
        );
        let mut server = broker_side(&broker, ClientAuthMode::Required(ca.pem.clone()), tls12);
        assert_eq!(
            round_trip(&mut client, &mut server),
            Ok(()),
            "tls12 {tls12}"
        );
        assert!(server
            .peer_certificates()
            .is_some_and(|c| c[0] == device.cert));
    }
}

#[test]
fn an_x509_v1_client_certificate_is_presented_as_it_is() {
    let ca = make_ca("test CA");
    let broker = leaf(&ca, &["broker.test"], false, false);
    let device = leaf(&ca, &[], true, false);
    let v1_der = v1(&device.cert);
    let pem = pem_of(&v1_der);
    let mut client = session_for(
        &options(&ca, Some((&pem, device.key.serialize_pem()))),
        "broker.test",
    );
    let mut server = broker_side(&broker, ClientAuthMode::AnyRequired, false);
    assert_eq!(round_trip(&mut client, &mut server), Ok(()));
    assert!(server.peer_certificates().is_some_and(|c| c[0] == v1_der));
}

fn pem_of(der: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = String::new();
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                text.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                text.push('=');
            }
        }
    }
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// The server's refusal of a certificate from a CA it does not trust, over TLS 1.3 (the alert
/// comes after the client's side of the handshake) and 1.2 (during it).
#[test]
fn an_untrusted_client_certificate_is_client_cert_refused() {
    let ca = make_ca("test CA");
    let other = make_ca("other CA");
    let broker = leaf(&ca, &["broker.test"], false, false);
    let stranger = leaf(&other, &[], true, false);
    for tls12 in [false, true] {
        let mut client = session_for(
            &options(&ca, Some((&stranger.pem, stranger.key.serialize_pem()))),
            "broker.test",
        );
        let mut server = broker_side(&broker, ClientAuthMode::Required(ca.pem.clone()), tls12);
        let error = round_trip(&mut client, &mut server).err();
        assert_eq!(
            error.as_ref().and_then(SessionError::kind),
            Some(TlsFailure::ClientCertRefused),
            "tls12 {tls12}: {error:?}"
        );
        assert_eq!(client.ended(), error, "the failure stays");
    }
}

#[test]
fn no_client_certificate_for_a_server_that_requires_one_is_client_cert_refused() {
    let ca = make_ca("test CA");
    let broker = leaf(&ca, &["broker.test"], false, false);
    let mut client = session_for(&options(&ca, None), "broker.test");
    let mut server = broker_side(&broker, ClientAuthMode::Required(ca.pem.clone()), false);
    let error = round_trip(&mut client, &mut server).err();
    assert_eq!(
        error.as_ref().and_then(SessionError::kind),
        Some(TlsFailure::ClientCertRefused),
        "{error:?}"
    );
}

#[test]
fn server_certificates_are_verified_against_the_ca_and_the_name() {
    let ca = make_ca("test CA");
    let other = make_ca("other CA");
    let cases = [
        (
            leaf(&other, &["broker.test"], false, false),
            "broker.test",
            TlsFailure::UnknownIssuer,
        ),
        (
            leaf(&ca, &["wrong.test"], false, false),
            "broker.test",
            TlsFailure::NameMismatch,
        ),
        (
            leaf(&ca, &["broker.test"], false, true),
            "broker.test",
            TlsFailure::Expired,
        ),
    ];
    for (server_cert, name, kind) in cases {
        let mut client = session_for(&options(&ca, None), name);
        let mut server = broker_side(&server_cert, ClientAuthMode::None, false);
        let error = pump(&mut client, &mut server, b"").err();
        assert_eq!(
            error.as_ref().and_then(SessionError::kind),
            Some(kind),
            "{error:?}"
        );
        // The client's alert for the server is ready to send.
        assert!(!client.take_ciphertext().is_empty(), "{kind:?}");
    }
    // rejectUnauthorized: false takes the unknown issuer.
    let mut lax = session_for(
        &PemTlsOptions {
            verify: false,
            ..PemTlsOptions::default()
        },
        "broker.test",
    );
    let mut server = broker_side(
        &leaf(&other, &["x.test"], false, false),
        ClientAuthMode::None,
        false,
    );
    assert_eq!(round_trip(&mut lax, &mut server), Ok(()));
}

#[test]
fn a_connection_closed_during_the_handshake_is_a_handshake_failure_and_junk_is_refused() {
    let ca = make_ca("test CA");
    let mut client = session_for(&options(&ca, None), "broker.test");
    assert!(!client.take_ciphertext().is_empty(), "the ClientHello");
    let ended = client.ended();
    assert_eq!(
        ended.as_ref().and_then(SessionError::kind),
        Some(TlsFailure::HandshakeFailed)
    );
    let mut junk = session_for(&options(&ca, None), "broker.test");
    let error = junk.receive(b"HTTP/1.1 400 Bad Request\r\n\r\n").err();
    assert_eq!(
        error.as_ref().and_then(SessionError::kind),
        Some(TlsFailure::HandshakeFailed),
        "{error:?}"
    );
    assert_eq!(
        junk.write(b"x").err(),
        error,
        "a failed session stays failed"
    );
    assert!(matches!(
        TlsSession::new(options(&ca, None).client_config().unwrap(), "bad name"),
        Err(TlsSetupError::ServerName(_))
    ));
}

/// The MQTT session may hand over more than rustls' default 64 KiB of plaintext at once (a
/// window of QoS 1 publishes): all of it goes out, none is refused.
#[test]
fn a_write_larger_than_the_default_buffer_goes_out_whole() {
    let ca = make_ca("test CA");
    let broker = leaf(&ca, &["broker.test"], false, false);
    let mut client = session_for(&options(&ca, None), "broker.test");
    let mut server = broker_side(&broker, ClientAuthMode::None, false);
    assert_eq!(pump(&mut client, &mut server, b""), Ok(()));
    let big = vec![0x5a; 200 * 1024];
    assert_eq!(client.write(&big), Ok(()));
    let mut got = Vec::new();
    let out = client.take_ciphertext();
    let mut rd = &out[..];
    while !rd.is_empty() {
        server.read_tls(&mut rd).unwrap();
        server.process_new_packets().unwrap();
        let _ = server.reader().read_to_end(&mut got);
    }
    assert_eq!(got.len(), big.len());
}
