//! TLS through the real `mqttws` binary: verification failures say which check failed (exit 4),
//! mutual TLS works with the client certificate and is refused without it, and the other
//! failure classes have their exit statuses.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::time::Duration;

use tests::certs::TestPki;
use tests::cli::{self, Finished};
use tests::mosquitto::{Mosquitto, MosquittoOptions, BROKER_NAME};

const LIMIT: Duration = Duration::from_secs(30);

struct Setup {
    _pki: TestPki,
    pki_ca: String,
    other_ca: String,
    client: (String, String),
    broker: Mosquitto,
}

fn setup() -> Setup {
    let pki = TestPki::generate();
    let broker = Mosquitto::start(&pki, MosquittoOptions::all());
    let pki_ca = pki.ca().display().to_string();
    let other_ca = pki.other_ca().display().to_string();
    let c = pki.client();
    let client = (c.cert.display().to_string(), c.key.display().to_string());
    Setup {
        _pki: pki,
        pki_ca,
        other_ca,
        client,
        broker,
    }
}

/// `mqttws pub` to `mqtts://broker.test:<port>` dialling 127.0.0.1:<port>.
fn publish(port: u16, extra: &[&str]) -> Finished {
    let url = format!("mqtts://{BROKER_NAME}:{port}");
    let connect_to = format!("127.0.0.1:{port}");
    let mut args = vec![
        "pub",
        "--url",
        &url,
        "--connect-to",
        &connect_to,
        "-t",
        "tls/check",
        "-m",
        "x",
        "-q",
        "1",
    ];
    args.extend(extra);
    args.extend(["--connect-timeout", "5"]);
    cli::run(&args, "", LIMIT)
}

fn assert_error(run: &Finished, code: i32, text: &str) {
    assert_eq!(run.code, Some(code), "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "one line: {run:?}");
    assert!(run.stderr.starts_with("mqttws: error: "), "{run:?}");
    assert!(run.stderr.contains(text), "expected '{text}' in {run:?}");
}

#[test]
fn verification_failures_say_which_check_failed() {
    let s = setup();
    let p = s.broker.ports();
    // The right CA: works.
    let ok = publish(p.tls, &["--cafile", &s.pki_ca]);
    assert_eq!(ok.code, Some(0), "{ok:?}");
    // An unrelated CA, or the public web roots: unknown issuer.
    assert_error(
        &publish(p.tls, &["--cafile", &s.other_ca]),
        4,
        "unknown issuer",
    );
    assert_error(&publish(p.tls, &[]), 4, "unknown issuer");
    assert_error(
        &publish(p.other_issuer, &["--cafile", &s.pki_ca]),
        4,
        "unknown issuer",
    );
    // A certificate for wrong.test: name mismatch.
    assert_error(
        &publish(p.wrong_name, &["--cafile", &s.pki_ca]),
        4,
        "not valid for the name broker.test",
    );
    // An expired certificate.
    assert_error(
        &publish(p.expired, &["--cafile", &s.pki_ca]),
        4,
        "has expired",
    );
}

#[test]
fn mutual_tls_accepts_the_client_certificate_and_refuses_without() {
    let s = setup();
    let port = s.broker.ports().mtls;
    let (cert, key) = (&s.client.0, &s.client.1);
    let ok = publish(port, &["--cafile", &s.pki_ca, "--cert", cert, "--key", key]);
    assert_eq!(ok.code, Some(0), "{ok:?}");
    let refused = publish(port, &["--cafile", &s.pki_ca]);
    assert_eq!(refused.code, Some(4), "{refused:?}");
    assert!(
        refused
            .stderr
            .starts_with("mqttws: error: TLS refused by the server"),
        "{refused:?}"
    );
    // mqtt-tls' one classification (shared with ws-bridge and the package's in-wasm TLS):
    // certificate_required names the missing client certificate.
    assert!(
        refused.stderr.contains("client certificate refused"),
        "{refused:?}"
    );
    // A client certificate the server does not trust: the unrelated CA's server certificate.
    let other = s._pki.other_issuer();
    let (cert, key) = (
        other.cert.display().to_string(),
        other.key.display().to_string(),
    );
    let untrusted = publish(
        port,
        &["--cafile", &s.pki_ca, "--cert", &cert, "--key", &key],
    );
    assert_eq!(untrusted.code, Some(4), "{untrusted:?}");
    assert!(
        untrusted.stderr.contains("client certificate refused"),
        "{untrusted:?}"
    );
}

#[test]
fn other_failure_classes_have_their_exit_status() {
    let s = setup();
    // Nothing listens: 3.
    let free = tests::procs::free_port();
    let refused = cli::run(
        &[
            "pub",
            "--url",
            &format!("mqtt://127.0.0.1:{free}"),
            "-t",
            "a",
            "-m",
            "b",
        ],
        "",
        LIMIT,
    );
    assert_error(&refused, 3, "refused");
    // Bad usage: 2 (clap), a missing CA file: 2.
    let usage = cli::run(
        &["pub", "--url", "http://x", "-t", "a", "-m", "b"],
        "",
        LIMIT,
    );
    assert_eq!(usage.code, Some(2), "{usage:?}");
    let missing = publish(
        s.broker.ports().tls,
        &["--cafile", "/nonexistent/trusted.crt"],
    );
    assert_error(&missing, 2, "cannot read CA file /nonexistent/trusted.crt");

    // A peer that is not MQTT (an HTTP server): 6. One that never answers: 7.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        let mut held = Vec::new();
        for (i, stream) in listener.incoming().take(2).enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 256];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = stream.read(&mut buf);
            if i == 0 {
                // 'H' (0x48) reads as PUBACK with invalid flags once the frame is complete.
                let body = "x".repeat(200);
                let reply =
                    format!("HTTP/1.1 400 Bad Request\r\nContent-Length: 200\r\n\r\n{body}");
                let _ = stream.write_all(reply.as_bytes());
            }
            held.push(stream);
        }
        std::thread::sleep(Duration::from_secs(3));
    });
    let url = format!("mqtt://{addr}");
    let garbage = cli::run(&["pub", "--url", &url, "-t", "a", "-m", "b"], "", LIMIT);
    // Refused at its first byte: an HTTP reply cannot begin a CONNACK.
    assert_error(
        &garbage,
        6,
        "protocol violation by the broker: expected CONNACK",
    );
    let silent = cli::run(
        &[
            "pub",
            "--url",
            &url,
            "-t",
            "a",
            "-m",
            "b",
            "--connect-timeout",
            "1",
        ],
        "",
        LIMIT,
    );
    assert_error(&silent, 7, "no CONNACK within 1000 ms");
    let _ = server.join();
}

fn bridge(
    upstream: &str,
    ca: &std::path::Path,
    tls: Option<&tests::certs::CertFiles>,
) -> tests::bridge::BridgeProcess {
    let mut args: Vec<&std::ffi::OsStr> = Vec::new();
    if let Some(files) = tls {
        args.extend([
            "--tls-cert".as_ref(),
            files.cert.as_os_str(),
            "--tls-key".as_ref(),
            files.key.as_os_str(),
        ]);
    }
    tests::bridge::BridgeProcess::quick(upstream, ca, &args)
}

/// wss:// through the real ws-bridge (whose certificate is for `localhost` and 127.0.0.1).
#[test]
fn wss_through_the_bridge_verifies_its_certificate() {
    let s = setup();
    let localhost = s._pki.localhost();
    let b = bridge(
        &s.broker.tls_addr().to_string(),
        s.broker.ca_path(),
        Some(&localhost),
    );
    assert!(b.url.starts_with("wss://"), "{}", b.url);
    let creds = [
        "-u",
        tests::mosquitto::PLATFORM_USER,
        "-P",
        tests::mosquitto::PLATFORM_PASSWORD,
    ];
    let mut args = vec![
        "sub",
        "--url",
        &b.url,
        "--cafile",
        &s.pki_ca,
        "-t",
        "wss/t",
        "-C",
        "1",
        "-d",
        "--timeout",
        "20",
    ];
    args.extend(creds);
    let mut sub = cli::spawn(&args);
    assert!(
        sub.wait_stderr(LIMIT, |l| l.contains("subscribed to"))
            .is_some(),
        "not subscribed"
    );
    let mut args = vec![
        "pub", "--url", &b.url, "--cafile", &s.pki_ca, "-t", "wss/t", "-m", "over wss", "-q", "2",
    ];
    args.extend(creds);
    let publish = cli::run(&args, "", LIMIT);
    assert_eq!(publish.code, Some(0), "{publish:?}");
    let got = sub.wait(LIMIT);
    assert_eq!(
        (got.code, got.stdout.as_str()),
        (Some(0), "over wss\n"),
        "{got:?}"
    );
    // The same bridge with another CA trusted: unknown issuer.
    let wrong = cli::run(
        &[
            "pub",
            "--url",
            &b.url,
            "--cafile",
            &s.other_ca,
            "-t",
            "wss/t",
            "-m",
            "x",
        ],
        "",
        LIMIT,
    );
    assert_error(&wrong, 4, "unknown issuer");
}

/// The bridge cannot reach its upstream: the CLI reports the bridge's close (or refusal).
#[test]
fn bridge_refusal_is_reported_on_one_line() {
    let s = setup();
    let dead = format!("127.0.0.1:{}", tests::procs::free_port());
    let b = bridge(&dead, s.broker.ca_path(), None);
    let run = cli::run(
        &[
            "pub",
            "--url",
            &b.url,
            "-t",
            "a",
            "-m",
            "b",
            "--connect-timeout",
            "5",
        ],
        "",
        LIMIT,
    );
    assert_eq!(run.code, Some(3), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    // The WebSocket close frame's code and reason, e.g. "closed by the server (4502): upstream
    // unreachable: ...".
    assert!(
        run.stderr
            .starts_with("mqttws: error: closed by the server ("),
        "{run:?}"
    );
    assert!(run.stderr.contains("upstream"), "{run:?}");
}

/// The bridge's own TLS verification of the broker fails: its close code (4011, name mismatch)
/// becomes exit status 4.
#[test]
fn bridge_tls_failure_upstream_exits_4() {
    let s = setup();
    let wrong = format!("127.0.0.1:{}", s.broker.ports().wrong_name);
    let b = bridge(&wrong, s.broker.ca_path(), None);
    let run = cli::run(&["pub", "--url", &b.url, "-t", "a", "-m", "b"], "", LIMIT);
    assert_error(&run, 4, "closed by the server (4011)");
}

/// Issue 16: an X.509 v1 client certificate made with the `openssl req` + `openssl x509 -req`
/// recipe (seed 003) is presented, as mosquitto and paho present it, by `mqttws` and by a bridge
/// route's `client_cert`, to a broker with `require_certificate true`. rustls' own
/// `with_client_auth_cert` refused it (`UnsupportedCertVersion`); the key must still match.
#[test]
fn openssl_v1_client_certificates_work_for_the_cli_and_a_bridge_route() {
    let s = setup();
    let mtls = s.broker.ports().mtls;
    let v1 = s._pki.openssl_v1_client();
    let (cert, key) = (v1.cert.display().to_string(), v1.key.display().to_string());
    let ok = publish(
        mtls,
        &["--cafile", &s.pki_ca, "--cert", &cert, "--key", &key],
    );
    assert_eq!(ok.code, Some(0), "{ok:?}");
    // The v1 certificate with another key: refused before dialling, saying why.
    let wrong_key = s.client.1.clone();
    let mismatch = publish(
        mtls,
        &["--cafile", &s.pki_ca, "--cert", &cert, "--key", &wrong_key],
    );
    assert_error(&mismatch, 2, "does not belong to the certificate");

    let toml = format!(
        "listen = \"127.0.0.1:0\"\ndefault_route = \"mtls\"\n[routes.mtls]\nhost = \"127.0.0.1\"\n\
         port = {mtls}\nsni = \"{BROKER_NAME}\"\nca_file = \"{}\"\nclient_cert = \"{cert}\"\n\
         client_key = \"{key}\"\n",
        s.broker.ca_path().display()
    );
    let b = tests::bridge::BridgeProcess::with_config_toml(&toml);
    let through = cli::run(
        &["pub", "--url", &b.url, "-t", "tls/v1", "-m", "x", "-q", "1"],
        "",
        LIMIT,
    );
    assert_eq!(through.code, Some(0), "{through:?} {}", b.log_text());
}
