//! `client-wasm/tls`: TLS inside the package (rustls on ring in the wasm) over the runtime's
//! plain TCP socket, against mosquitto with `require_certificate true` and the run's private CA.
//! In workerd (whose own TLS takes no client certificate and no per-connection CA) and in Node,
//! Deno and Bun: a QoS 1 round trip with an openssl-made X.509 v1 client certificate (RSA) and
//! with an rcgen v3 one (ECDSA); a client certificate from another CA, a server certificate from
//! another CA (the wrong `ca`), a wrong SNI name and no certificate at all are each refused with
//! their kind (`client_cert_refused`, `unknown_issuer`, `name_mismatch`) within seconds.
//!
//! Needs `bash scripts/setup.sh` and `bash scripts/build-pkg.sh` (the tarball with `edge-tls/`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::certs::{CertFiles, TestPki};
use tests::cli;
use tests::edge::workerd::{WorkerSpec, Workerd};
use tests::edge::{Runtime, Scenario, Script};
use tests::mosquitto::{Mosquitto, BROKER_NAME};

const LIMIT: Duration = Duration::from_secs(30);
/// A refusal is reported within this.
const QUICK: Duration = Duration::from_secs(5);

struct Setup {
    pki: TestPki,
    broker: Mosquitto,
    url: String,
}

fn setup() -> Setup {
    let (pki, broker) = Mosquitto::mutual_tls_with_user("dev1", "secret");
    let url = format!("mqtts://127.0.0.1:{}", broker.ports().mtls);
    Setup { pki, broker, url }
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// How one connection is set up: the CA trusted, the SNI name, the client certificate.
struct Case<'a> {
    name: &'a str,
    ca: PathBuf,
    servername: &'a str,
    client: Option<CertFiles>,
    /// `None`: the round trip works; else the `tls` kind expected.
    refused: Option<&'a str>,
}

fn cases(s: &Setup) -> Vec<Case<'_>> {
    let ca = s.broker.ca_path().to_path_buf();
    vec![
        Case {
            name: "X.509 v1 client certificate (openssl, RSA)",
            ca: ca.clone(),
            servername: BROKER_NAME,
            client: Some(s.pki.openssl_v1_client()),
            refused: None,
        },
        Case {
            name: "X.509 v3 client certificate (rcgen, ECDSA)",
            ca: ca.clone(),
            servername: BROKER_NAME,
            client: Some(s.pki.client()),
            refused: None,
        },
        Case {
            name: "client certificate from another CA",
            ca: ca.clone(),
            servername: BROKER_NAME,
            client: Some(s.pki.other_client()),
            refused: Some("client_cert_refused"),
        },
        Case {
            name: "no client certificate",
            ca: ca.clone(),
            servername: BROKER_NAME,
            client: None,
            refused: Some("client_cert_refused"),
        },
        Case {
            name: "server certificate from another CA (ca: the unrelated CA)",
            ca: s.pki.other_ca(),
            servername: BROKER_NAME,
            client: Some(s.pki.client()),
            refused: Some("unknown_issuer"),
        },
        Case {
            name: "wrong SNI name",
            ca,
            servername: "wrong.test",
            client: Some(s.pki.client()),
            refused: Some("name_mismatch"),
        },
    ]
}

fn worker(s: &Setup, case: &Case<'_>) -> Workerd {
    let (ca, cert, key) = (
        text(&case.ca),
        case.client
            .as_ref()
            .map(|c| text(&c.cert))
            .unwrap_or_default(),
        case.client
            .as_ref()
            .map(|c| text(&c.key))
            .unwrap_or_default(),
    );
    let mut bindings = vec![
        ("MQTT_URL", s.url.as_str()),
        ("MQTT_CA", ca.as_str()),
        ("MQTT_SERVERNAME", case.servername),
        ("MQTT_USERNAME", "dev1"),
        ("MQTT_PASSWORD", "secret"),
    ];
    if case.client.is_some() {
        bindings.push(("MQTT_CERT", cert.as_str()));
        bindings.push(("MQTT_KEY", key.as_str()));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../client-wasm/examples/edge/worker/mtls-publish-worker.js");
    // The network trusts nothing: workerd's own TLS is not used.
    let mut spec = WorkerSpec::new(script, &bindings, &case.ca).with_package_tls();
    spec.trusted_ca = None;
    Workerd::start(&spec)
}

#[test]
fn workerd_speaks_mutual_tls_itself_and_names_each_refusal() {
    let s = setup();
    for (n, case) in cases(&s).iter().enumerate() {
        let worker = worker(&s, case);
        let value = format!("v{n}");
        let mut sub = case
            .refused
            .is_none()
            .then(|| cli::platform_subscriber(&s.broker, "dev1/#", "1", &[]));
        let started = Instant::now();
        let (status, body) = worker.get_json(&format!("/?topic=dev1/mtls&message={value}"), LIMIT);
        let took = started.elapsed();
        eprintln!("workerd, {}: {status} {body} in {took:?}", case.name);
        match case.refused {
            None => {
                assert_eq!(status, 200, "{}: {body}\n{}", case.name, worker.log_text());
                let line = format!("dev1/mtls {value}");
                let sub = sub.as_mut().unwrap();
                assert!(
                    sub.wait_line(LIMIT, |l| l == line).is_some(),
                    "{:?}",
                    sub.seen()
                );
                assert!(body["connectedMs"].as_u64().is_some(), "{body}");
            }
            Some(kind) => {
                assert_eq!(status, 502, "{}: {body}", case.name);
                assert_eq!(body["code"], "tls", "{}: {body}", case.name);
                assert_eq!(body["tls"], kind, "{}: {body}", case.name);
                assert!(took < QUICK, "{}: {took:?}", case.name);
            }
        }
    }
}

/// The scenario's events for one case in `runtime`.
fn run_case(runtime: Runtime, s: &Setup, case: &Case<'_>) -> (Option<i32>, Vec<Value>, Duration) {
    let ca = case.ca.display().to_string();
    let mut env = vec![
        ("MQTT_URL", s.url.clone()),
        ("MQTT_CA", ca),
        ("MQTT_SERVERNAME", case.servername.to_string()),
        ("MQTT_USERNAME", "dev1".to_string()),
        ("MQTT_PASSWORD", "secret".to_string()),
    ];
    if let Some(client) = &case.client {
        env.push(("MQTT_CERT", client.cert.display().to_string()));
        env.push(("MQTT_KEY", client.key.display().to_string()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let started = Instant::now();
    let done = Scenario::spawn(runtime, Script::Scenario("package-tls.mjs"), &env).finish(LIMIT);
    let took = started.elapsed();
    (done.code, done.events, took)
}

fn runtime_speaks_mutual_tls_itself(runtime: Runtime) {
    let s = setup();
    for case in cases(&s) {
        let (code, events, took) = run_case(runtime, &s, &case);
        eprintln!("{}, {}: {events:?} in {took:?}", runtime.name(), case.name);
        let named = |name: &str| events.iter().find(|e| e["event"] == name).cloned();
        match case.refused {
            None => {
                assert_eq!(
                    code,
                    Some(0),
                    "{}: {events:?}\n{}",
                    case.name,
                    s.broker.log_text()
                );
                let trip = named("round_trip").unwrap();
                assert_eq!(trip["payload"], "over rustls in the wasm", "{trip}");
                assert_eq!(trip["qos"], 1, "{trip}");
                assert!(named("connected").is_some(), "{events:?}");
            }
            Some(kind) => {
                assert_eq!(code, Some(1), "{}: {events:?}", case.name);
                let error = named("error").unwrap();
                assert_eq!(error["code"], "tls", "{}: {error}", case.name);
                assert_eq!(error["tls"], kind, "{}: {error}", case.name);
                let ms = error["ms"].as_u64().unwrap();
                assert!(Duration::from_millis(ms) < QUICK, "{}: {ms} ms", case.name);
            }
        }
    }
}

#[test]
fn node_speaks_mutual_tls_itself_and_names_each_refusal() {
    runtime_speaks_mutual_tls_itself(Runtime::Node);
}

#[test]
fn deno_speaks_mutual_tls_itself_and_names_each_refusal() {
    runtime_speaks_mutual_tls_itself(Runtime::Deno);
}

#[test]
fn bun_speaks_mutual_tls_itself_and_names_each_refusal() {
    runtime_speaks_mutual_tls_itself(Runtime::Bun);
}
