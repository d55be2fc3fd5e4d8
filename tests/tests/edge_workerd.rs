//! The package in workerd (from the `workerd` npm package), through raw workerd with generated
//! configs (tests/src/edge/workerd.rs): the Worker examples of client-wasm/examples/edge/worker
//! over direct TLS to mosquitto (test CA in the config's network) and over the real ws-bridge,
//! Murano activation (seed 000), the echo host (seed 003) in a Durable Object, a `clean: false`
//! QoS 1/2 session on Durable Object storage across a workerd crash, and the TLS/network faults
//! as typed errors within seconds.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mqtt_flows::rotate::{rotate, Direction};
use serde_json::Value;
use tests::bridge::BridgeProcess;
use tests::certs::TestPki;
use tests::cli;
use tests::edge::workerd::{WorkerSpec, Workerd};
use tests::mosquitto::{Mosquitto, MosquittoOptions, BROKER_NAME};
use tests::procs::free_port;
use tests::responder::Responder;

const LIMIT: Duration = Duration::from_secs(30);

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../client-wasm/examples/edge/worker")
        .join(name)
}

fn tls_url(port: u16) -> String {
    format!("mqtts://127.0.0.1:{port}")
}

/// A subscriber on the broker's plain port, as the platform user, printing `topic payload`.
fn subscriber(broker: &Mosquitto, filter: &str, extra: &[&str]) -> cli::Running {
    cli::platform_subscriber(broker, filter, "2", extra)
}

fn publish_worker(broker_url: &str, ca: &Path) -> Workerd {
    Workerd::start(&WorkerSpec::new(
        example("publish-worker.js"),
        &[
            ("MQTT_URL", broker_url),
            ("MQTT_SERVERNAME", BROKER_NAME),
            ("MQTT_USERNAME", "dev1"),
            ("MQTT_PASSWORD", "secret"),
        ],
        ca,
    ))
}

fn publish_round_trip(worker: &Workerd, broker: &Mosquitto, value: &str) {
    let mut sub = subscriber(broker, "dev1/#", &[]);
    let started = Instant::now();
    let (status, body) =
        worker.get_json(&format!("/?topic=dev1/temperature&message={value}"), LIMIT);
    assert_eq!(status, 200, "{body}\nworkerd log:\n{}", worker.log_text());
    assert_eq!(body["published"], "dev1/temperature", "{body}");
    let line = format!("dev1/temperature {value}");
    assert!(
        sub.wait_line(LIMIT, |l| l == line).is_some(),
        "{:?}",
        sub.seen()
    );
    eprintln!(
        "workerd publish (QoS 1, answered after PUBACK): {:?}",
        started.elapsed()
    );
}

#[test]
fn publish_worker_over_direct_tls_answers_after_the_puback() {
    let (_pki, broker) = Mosquitto::with_user("dev1", "secret");
    let worker = publish_worker(&tls_url(broker.tls_addr().port()), broker.ca_path());
    publish_round_trip(&worker, &broker, "21.5");
    // Plain mqtt:// too (secureTransport "off").
    let plain = publish_worker(&cli::plain_url(&broker), broker.ca_path());
    publish_round_trip(&plain, &broker, "22");
}

#[test]
fn publish_worker_over_the_ws_bridge() {
    let (_pki, broker) = Mosquitto::with_user("dev1", "secret");
    let bridge = BridgeProcess::quick(&broker.tls_addr().to_string(), broker.ca_path(), &[]);
    let worker = publish_worker(&bridge.url, broker.ca_path());
    publish_round_trip(&worker, &broker, "23");
}

#[test]
fn publish_worker_over_wss_through_the_bridge() {
    let (pki, broker) = Mosquitto::with_user("dev1", "secret");
    let localhost = pki.localhost();
    let bridge = BridgeProcess::quick(
        &broker.tls_addr().to_string(),
        broker.ca_path(),
        &[
            "--tls-cert".as_ref(),
            localhost.cert.as_os_str(),
            "--tls-key".as_ref(),
            localhost.key.as_os_str(),
        ],
    );
    assert!(bridge.url.starts_with("wss://"), "{}", bridge.url);
    let worker = publish_worker(&bridge.url, broker.ca_path());
    publish_round_trip(&worker, &broker, "24");
}

#[test]
fn websocket_faults_are_typed_errors_within_seconds() {
    let (_pki, broker) = Mosquitto::with_user("dev1", "secret");
    // Nobody listening.
    let (error, took, _) = fault(
        &format!("ws://127.0.0.1:{}/mqtt", free_port()),
        broker.ca_path(),
    );
    eprintln!("ws refused port: {error} in {took:?}");
    assert_eq!(error["code"], "transport", "{error}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // A listener that is no WebSocket server (mosquitto's MQTT port): the upgrade fails.
    let (error, took, _) = fault(
        &format!("ws://127.0.0.1:{}/mqtt", broker.plain_addr().port()),
        broker.ca_path(),
    );
    eprintln!("ws to a non-HTTP port: {error} in {took:?}");
    assert_eq!(error["code"], "transport", "{error}");
    assert!(took < Duration::from_secs(8), "{took:?}");
    // wss:// to a bridge whose certificate the config does not trust.
    let other = TestPki::generate();
    let localhost = other.localhost();
    let bridge = BridgeProcess::quick(
        &broker.tls_addr().to_string(),
        broker.ca_path(),
        &[
            "--tls-cert".as_ref(),
            localhost.cert.as_os_str(),
            "--tls-key".as_ref(),
            localhost.key.as_os_str(),
        ],
    );
    let (error, took, _) = fault(&bridge.url, broker.ca_path());
    eprintln!("wss with an untrusted certificate: {error} in {took:?}");
    assert_eq!(error["code"], "tls", "{error}");
    assert_eq!(error["tls"], "unknown_issuer", "{error}");
    let good = BridgeProcess::quick(&broker.tls_addr().to_string(), broker.ca_path(), &[]);
    let (error, _, _) = fault(&good.url.replace("/mqtt", "/nope"), broker.ca_path());
    eprintln!("ws to another path: {error}");
    assert_eq!(error["code"], "transport", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("HTTP 404"),
        "{error}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

/// The publish worker against `url`: the error it answers with, and how long it took.
fn fault(url: &str, ca: &Path) -> (Value, Duration, String) {
    let worker = publish_worker(url, ca);
    let started = Instant::now();
    let (status, body) = worker.get_json("/?topic=dev1/x&message=1", LIMIT);
    let took = started.elapsed();
    assert_eq!(status, 502, "{body}");
    (body, took, worker.log_text())
}

#[test]
fn tls_and_network_faults_are_typed_errors_within_seconds() {
    let pki = TestPki::generate();
    let options = MosquittoOptions {
        wrong_name_listener: true,
        other_issuer_listener: true,
        expired_listener: true,
        mtls: true,
        users: vec![("dev1".into(), "secret".into())],
        ..MosquittoOptions::default()
    };
    let broker = Mosquitto::start(&pki, options);
    let ports = broker.ports();

    // A certificate from another CA: workerd's JavaScript sees "internal error; reference = ...";
    // the reason is in its log.
    let (error, took, log) = fault(&tls_url(ports.other_issuer), broker.ca_path());
    eprintln!("other CA: {error} in {took:?}");
    assert_eq!(error["code"], "tls", "{error}");
    assert_eq!(error["tls"], "unknown_issuer", "{error}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(log.contains("UnknownIssuer"), "{log}");

    // The wrong name (the listener presents wrong.test; we ask for broker.test).
    let (error, took, log) = fault(&tls_url(ports.wrong_name), broker.ca_path());
    eprintln!("wrong name: {error} in {took:?}");
    assert_eq!(error["code"], "tls", "{error}");
    assert_eq!(error["tls"], "name_mismatch", "{error}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(log.contains("not valid for name \"broker.test\""), "{log}");

    // An expired certificate (right CA, right name).
    let (error, took, log) = fault(&tls_url(ports.expired), broker.ca_path());
    eprintln!("expired: {error} in {took:?}");
    assert_eq!(error["code"], "tls", "{error}");
    assert_eq!(error["tls"], "expired", "{error}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(log.contains("xpired"), "{log}");

    // A broker that demands a client certificate (workerd has none to send).
    let (error, took, _) = fault(&tls_url(ports.mtls), broker.ca_path());
    eprintln!("client certificate required: {error} in {took:?}");
    assert_eq!(error["code"], "tls", "{error}");
    assert_eq!(error["tls"], "handshake_failed", "{error}");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // Nobody listening: unreachable, a transport error, not TLS.
    let (error, took, _) = fault(&tls_url(free_port()), broker.ca_path());
    eprintln!("refused port: {error} in {took:?}");
    assert_eq!(error["code"], "transport", "{error}");
    assert!(error["tls"].is_null(), "{error}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn client_certificates_and_skipped_verification_are_refused_in_workerd() {
    let pki = TestPki::generate();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("edge/workerd/options.js");
    let worker = Workerd::start(&WorkerSpec::new(script, &[], &pki.ca()));
    let (status, body) = worker.get_json("/", LIMIT);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["cert"], "invalid_options", "{body}");
    assert_eq!(body["rejectUnauthorized"], "invalid_options", "{body}");
    // A per-connection `ca` is accepted and ignored (the config's CA is what counts).
    assert_eq!(body["ca"], "accepted", "{body}");
}

/// The broker URL a Worker dials: mosquitto's TLS listener, or a ws-bridge in front of it.
struct Upstream {
    url: String,
    _bridge: Option<BridgeProcess>,
}

fn upstream(broker: &Mosquitto, via_bridge: bool) -> Upstream {
    let bridge = via_bridge
        .then(|| BridgeProcess::quick(&broker.tls_addr().to_string(), broker.ca_path(), &[]));
    let url = bridge
        .as_ref()
        .map_or_else(|| tls_url(broker.tls_addr().port()), |b| b.url.clone());
    Upstream {
        url,
        _bridge: bridge,
    }
}

/// Seed 000 from a Worker: activation (legacy, then silence, then `$provision`), then the
/// console: the device's value echoed, and a value written on the platform side arriving.
fn seed_000(via_bridge: bool) {
    let pki = TestPki::generate();
    let broker = Arc::new(Mutex::new(Mosquitto::start(
        &pki,
        MosquittoOptions::default(),
    )));
    let responder = Responder::for_mosquitto(&broker);
    let (link, ca, plain) = {
        let b = broker.lock().unwrap();
        (
            upstream(&b, via_bridge),
            b.ca_path().to_path_buf(),
            b.plain_addr(),
        )
    };
    let worker = Workerd::start(&WorkerSpec::new(
        example("activate-worker.js"),
        &[("MQTT_URL", &link.url), ("MQTT_SERVERNAME", BROKER_NAME)],
        &ca,
    ));
    let (status, body) = worker.get_json("/activate?identity=007", LIMIT);
    assert_eq!(status, 200, "{body}\n{}", worker.log_text());
    assert_eq!(body["username"], "007");
    let password = body["password"].as_str().unwrap().to_string();
    assert_eq!(password.len(), 40, "{body}");
    assert_eq!(
        responder.activated(),
        vec![("007".to_string(), password.clone())]
    );
    assert!(broker.lock().unwrap().can_login("007", &password));

    // Murano stays silent for an identity already activated.
    let (status, body) = worker.get_json("/activate?identity=007", LIMIT);
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["code"], "no_reply");

    // The current API: $provision/<identity>.
    let (status, body) = worker.get_json("/activate?identity=dev-42&provision=1", LIMIT);
    assert_eq!(status, 200, "{body}\n{}", worker.log_text());
    let token = body["password"].as_str().unwrap().to_string();
    assert!(broker.lock().unwrap().can_login("dev-42", &token));

    // The console: the platform writes 212 until the Worker has answered.
    let answered = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let answered = answered.clone();
        std::thread::spawn(move || {
            while !answered.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(300));
                tests::responder::platform_write(plain, "007/temperature", "212");
            }
        })
    };
    let path = format!("/console?identity=007&password={password}&resource=temperature&value=32");
    let (status, body) = worker.get_json(&path, LIMIT);
    answered.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.join().unwrap();
    assert_eq!(status, 200, "{body}\n{}", worker.log_text());
    let received: Vec<(&str, &str)> = body["received"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["topic"].as_str().unwrap(), m["payload"].as_str().unwrap()))
        .collect();
    assert_eq!(
        received,
        [("007/temperature", "32"), ("007/temperature", "212")],
        "{body}"
    );
}

#[test]
fn seed_000_activation_and_console_from_a_worker_over_direct_tls() {
    seed_000(false);
}

#[test]
fn seed_000_activation_and_console_from_a_worker_over_the_ws_bridge() {
    seed_000(true);
}

/// Seed 003: the echo host in a Durable Object, the device loop (`mqttws device`) beside it.
fn seed_003(via_bridge: bool) {
    let (_pki, broker) = Mosquitto::with_user("azuresphere", "sphere-secret");
    let link = upstream(&broker, via_bridge);
    let worker = Workerd::start(
        &WorkerSpec::new(
            example("echo-host-do.js"),
            &[
                ("MQTT_URL", &link.url),
                ("MQTT_SERVERNAME", BROKER_NAME),
                ("MQTT_USERNAME", "azuresphere"),
                ("MQTT_PASSWORD", "sphere-secret"),
            ],
            broker.ca_path(),
        )
        .with_durable_object("EchoHost", "ECHO_HOST"),
    );
    let (status, body) = worker.get_json("/start", LIMIT);
    assert_eq!(status, 200, "{body}\n{}", worker.log_text());
    assert_eq!(body["state"], "connected", "{body}");

    let url = cli::plain_url(&broker);
    let device = cli::run(
        &[
            "device",
            "-i",
            "device",
            "--interval-ms",
            "300",
            "--count",
            "6",
            "--url",
            &url,
            "-u",
            "azuresphere",
            "-P",
            "sphere-secret",
        ],
        "",
        LIMIT,
    );
    assert_eq!(device.code, Some(0), "{device:?}\n{}", worker.log_text());
    let received: Vec<&str> = device
        .lines()
        .into_iter()
        .filter_map(|l| l.strip_prefix("received: "))
        .collect();
    let mut text = b"Hello from Azure Sphere".to_vec();
    let want: Vec<String> = (0..6)
        .map(|_| {
            text = rotate(&text, Direction::Left);
            String::from_utf8(text.clone()).unwrap()
        })
        .collect();
    assert_eq!(received, want, "{device:?}");
    let (_, body) = worker.get_json("/start", LIMIT);
    assert!(body["echoed"].as_u64() >= Some(6), "{body}");
}

#[test]
fn seed_003_echo_host_in_a_durable_object_over_direct_tls() {
    seed_003(false);
}

#[test]
fn seed_003_echo_host_in_a_durable_object_over_the_ws_bridge() {
    seed_003(true);
}

/// Counts `topic payload` lines per payload.
fn tally(lines: &[String]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in lines {
        if let Some((_, payload)) = line.split_once(' ') {
            *counts.entry(payload.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn clean_false_session_on_durable_object_storage_survives_a_workerd_crash() {
    let (_pki, mut broker) = Mosquitto::with_user("dev1", "secret");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("edge/workerd/session-do.js");
    let mut worker = Workerd::start(
        &WorkerSpec::new(
            script,
            &[
                ("MQTT_URL", &tls_url(broker.tls_addr().port())),
                ("MQTT_SERVERNAME", BROKER_NAME),
                ("MQTT_USERNAME", "dev1"),
                ("MQTT_PASSWORD", "secret"),
                ("TOPIC_PREFIX", "dev1/session"),
            ],
            broker.ca_path(),
        )
        .with_durable_object("Session", "SESSION"),
    );
    // A persistent subscriber: its session keeps what arrives while it is away.
    let keep = ["-i", "counter", "--no-clean"];
    let sub = subscriber(&broker, "dev1/session/#", &keep);
    sub.signal("KILL");

    for (qos, tag, n) in [(2, "q2", 20), (1, "q1", 20)] {
        // The broker is down: every publish waits in the session, on the Durable Object's disk.
        broker.stop();
        let (status, body) = worker.get_json(&format!("/publish?n={n}&qos={qos}&tag={tag}"), LIMIT);
        assert_eq!(status, 200, "{body}\n{}", worker.log_text());
        assert_eq!(body["pending"], n, "{body}");
        assert!(body["saves"].as_u64() >= Some(1), "{body}");
        // A crash: nothing flushed, no goodbye.
        worker.restart();
        broker.restart();
        let (status, body) = worker.get_json("/drain", LIMIT);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["pending"], 0, "{body}\n{}", worker.log_text());
    }

    let mut sub = subscriber(&broker, "dev1/session/#", &keep);
    let deadline = Instant::now() + LIMIT;
    while sub.seen().len() < 40 && Instant::now() < deadline {
        let _ = sub.wait_line(Duration::from_millis(500), |_| false);
    }
    let _ = sub.wait_line(Duration::from_secs(1), |_| false); // and nothing more
    let counts = tally(sub.seen());
    for (tag, n) in [("q2", 20), ("q1", 20)] {
        for i in 0..n {
            let key = format!("{tag}-{i}");
            assert_eq!(counts.get(&key), Some(&1), "{key}: {counts:?}");
        }
    }
    assert_eq!(counts.values().sum::<usize>(), 40, "{counts:?}");
}

#[test]
fn durable_object_store_keeps_records_across_a_crash() {
    let pki = TestPki::generate();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("edge/workerd/store-do.js");
    let mut worker = Workerd::start(
        &WorkerSpec::new(script, &[], &pki.ca()).with_durable_object("Store", "STORE"),
    );
    let (_, body) = worker.get_json("/load?key=a", LIMIT);
    assert!(body["length"].is_null(), "{body}");
    let (_, body) = worker.get_json("/save?key=a&size=1000", LIMIT);
    assert_eq!(body["saved"], 1000, "{body}\n{}", worker.log_text());
    worker.restart();
    let (_, body) = worker.get_json("/load?key=a", LIMIT);
    assert_eq!(body["length"], 1000, "{body}");
    // workerd stores a 4 MB value (Cloudflare refuses values over 2 MiB / 128 KiB): the
    // QuotaExceededError mapping cannot be reached locally; this pins what workerd does.
    let (_, body) = worker.get_json("/save?key=b&size=4000000", LIMIT);
    assert_eq!(body["saved"], 4_000_000, "{body}");
    let (_, body) = worker.get_json("/delete?key=a", LIMIT);
    assert_eq!(body["deleted"], true, "{body}");
    worker.restart();
    let (_, body) = worker.get_json("/load?key=a", LIMIT);
    assert!(body["length"].is_null(), "{body}");
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{sig} {pid}");
}

#[test]
fn qos2_in_flight_when_workerd_crashes_arrives_exactly_once() {
    let (_pki, broker) = Mosquitto::with_user("dev1", "secret");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("edge/workerd/session-do.js");
    let mut worker = Workerd::start(
        &WorkerSpec::new(
            script,
            &[
                ("MQTT_URL", &tls_url(broker.tls_addr().port())),
                ("MQTT_SERVERNAME", BROKER_NAME),
                ("MQTT_USERNAME", "dev1"),
                ("MQTT_PASSWORD", "secret"),
                ("TOPIC_PREFIX", "dev1/flight"),
            ],
            broker.ca_path(),
        )
        .with_durable_object("Session", "SESSION"),
    );
    let keep = ["-i", "flight-counter", "--no-clean"];
    let sub = subscriber(&broker, "dev1/flight/#", &keep);
    sub.signal("KILL");
    let (_, body) = worker.get_json("/drain", LIMIT);
    assert_eq!(body["connected"], true, "{body}");

    // The broker freezes: the PUBLISHes go out on the connection, no PUBREC comes back.
    signal(broker.pid(), "STOP");
    let (status, body) = worker.get_json("/publish?n=20&qos=2&tag=f", LIMIT);
    worker.restart();
    signal(broker.pid(), "CONT");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pending"], 20, "{body}");
    // The broker now reads what the dead connection carried; the restored session resends
    // (DUP) what it has no PUBREC for, and the broker's session sees it once.
    let (_, body) = worker.get_json("/drain", LIMIT);
    assert_eq!(body["pending"], 0, "{body}\n{}", worker.log_text());

    let mut sub = subscriber(&broker, "dev1/flight/#", &keep);
    let deadline = Instant::now() + LIMIT;
    while sub.seen().len() < 20 && Instant::now() < deadline {
        let _ = sub.wait_line(Duration::from_millis(500), |_| false);
    }
    let _ = sub.wait_line(Duration::from_secs(1), |_| false);
    let counts = tally(sub.seen());
    for i in 0..20 {
        assert_eq!(counts.get(&format!("f-{i}")), Some(&1), "f-{i}: {counts:?}");
    }
    assert_eq!(counts.len(), 20, "{counts:?}");
}
