//! The npm package as a user installs it (`npm install ./client-wasm-0.2.0.tgz`), run by Node,
//! Deno and Bun against the real mosquitto (direct TLS: `mqtts://127.0.0.1:PORT` with `ca` and
//! `servername` = `broker.test`) and through the real ws-bridge (`ws://`): the seed flows
//! (Murano activation legacy and `$provision`, the console with a platform write arriving back,
//! the echo host + device loop), the typed faults, a link cut mid-packet, and a `clean: false`
//! session on `fileStore` that survives SIGKILL.
//!
//! Needs `bash scripts/setup.sh` (the runtimes), `bash scripts/build-pkg.sh` (the tarball) and
//! `cargo build -p ws-bridge` (the bridge binary).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use mqtt_flows::rotate::{rotate, Direction};
use serde_json::Value;
use tests::certs::TempDir;
use tests::edge::world::{publisher, publisher_env, tokio_runtime, with, Counter, Path, World};
use tests::edge::{Finished, Runtime, Scenario, Script};
use tests::mosquitto::MosquittoOptions;
use tests::procs::free_port;
use tests::responder::platform_write;
use tests::stall_proxy::StallProxy;

const LIMIT: Duration = Duration::from_secs(30);

fn run(runtime: Runtime, script: Script, env: &[(&str, &str)]) -> Finished {
    Scenario::spawn(runtime, script, env).finish(LIMIT)
}

// --- the seed flows -------------------------------------------------------------------------

/// Seed 000 in one runtime over one path: activation (legacy and `$provision`), then the
/// console with the activated credentials: its own publish echoed, a platform write arriving.
fn activation_and_console(world: &World, runtime: Runtime, path: Path) -> usize {
    let env = world.env(path);
    let mut runs = 0;
    let mut password = String::new();
    for mode in ["legacy", "provision"] {
        let identity = format!("{}-{path:?}-{mode}", runtime.name()).to_lowercase();
        let done = run(
            runtime,
            Script::Example("activate.mjs"),
            &with(&env, &[("IDENTITY", &identity), ("MODE", mode)]),
        );
        let activated = done.named("activated");
        assert_eq!(
            done.code,
            Some(0),
            "{runtime:?} {path:?} {mode}: {done:?}\nbroker:\n{}",
            world.log()
        );
        let token = activated[0]["password"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            token.len() == 40 && token.chars().all(|c| c.is_ascii_hexdigit()),
            "{token}"
        );
        if mode == "legacy" {
            password = token;
        }
        runs += 1;
    }
    let identity = format!("{}-{path:?}-legacy", runtime.name()).to_lowercase();
    let mut console = Scenario::spawn(
        runtime,
        Script::Example("publish.mjs"),
        &with(
            &env,
            &[
                ("IDENTITY", &identity),
                ("PASSWORD", &password),
                ("VALUE", "32"),
                ("LISTEN", "2"),
            ],
        ),
    );
    let echo = console.wait_event("message", LIMIT);
    assert_eq!(
        echo.as_ref().map(|m| m["payload"].clone()),
        Some("32".into()),
        "{runtime:?} {path:?}: {:?}",
        console.events()
    );
    platform_write(world.plain, &format!("{identity}/temperature"), "212");
    let write = console.wait_event("message", LIMIT);
    assert_eq!(
        write.map(|m| m["payload"].clone()),
        Some("212".into()),
        "{:?}",
        console.events()
    );
    let done = console.finish(LIMIT);
    assert_eq!(done.code, Some(0), "{done:?}");
    runs + 1
}

/// Seed 003: the echo host example and the device loop, both in `runtime`, over `path`.
fn echo_host_and_device(world: &World, runtime: Runtime, path: Path) -> usize {
    let mut env = world.env(path);
    env.push(("MQTT_USERNAME".into(), "azuresphere".into()));
    env.push(("MQTT_PASSWORD".into(), "sphere-secret".into()));
    let host_id = format!("echo-{}-{path:?}", runtime.name());
    let mut host = Scenario::spawn(
        runtime,
        Script::Example("echo-host.mjs"),
        &with(&env, &[("CLIENT_ID", &host_id)]),
    );
    assert!(
        host.wait_event("subscribed", LIMIT).is_some(),
        "{runtime:?} {path:?}: {:?}",
        host.events()
    );
    let device_id = format!("device-{}-{path:?}", runtime.name());
    let done = run(
        runtime,
        Script::Scenario("device.mjs"),
        &with(
            &env,
            &[
                ("CLIENT_ID", &device_id),
                ("ROUNDS", "4"),
                ("INTERVAL_MS", "100"),
            ],
        ),
    );
    assert_eq!(
        done.code,
        Some(0),
        "{runtime:?} {path:?}: {done:?}\nhost: {:?}",
        host.events()
    );
    let turned: Vec<String> = done
        .named("turned")
        .iter()
        .map(|e| e["payload"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut text = b"Hello from Azure Sphere".to_vec();
    let expected: Vec<String> = (0..4)
        .map(|_| {
            text = rotate(&text, Direction::Left);
            String::from_utf8(text.clone()).unwrap()
        })
        .collect();
    assert_eq!(turned, expected, "{runtime:?} {path:?}");
    2
}

fn seed_flows(runtime: Runtime) {
    let world = World::start(MosquittoOptions {
        mtls: true,
        users: vec![("azuresphere".into(), "sphere-secret".into())],
        ..MosquittoOptions::default()
    });
    let mut runs = 0;
    for path in [Path::Tls, Path::Bridge] {
        runs += activation_and_console(&world, runtime, path);
        runs += echo_host_and_device(&world, runtime, path);
    }
    runs += echo_host_and_device(&world, runtime, Path::MutualTls);
    // The device again with TLS inside the package (issue 29): its client certificate is
    // presented by rustls in the wasm, over the runtime's plain socket.
    runs += echo_host_and_device(&world, runtime, Path::PackageTls);
    println!(
        "{}: {runs} seed-flow runs passed (TLS, bridge, mutual TLS, mutual TLS in the package)",
        runtime.name()
    );
}

#[test]
fn node_runs_the_seed_flows_over_tls_and_the_bridge() {
    seed_flows(Runtime::Node);
}

#[test]
fn deno_runs_the_seed_flows_over_tls_and_the_bridge() {
    seed_flows(Runtime::Deno);
}

#[test]
fn bun_runs_the_seed_flows_over_tls_and_the_bridge() {
    seed_flows(Runtime::Bun);
}

// --- the file store -------------------------------------------------------------------------

/// fileStore (and memoryStore) keep the store contract in every runtime (see store.mjs).
#[test]
fn file_store_keeps_its_contract_in_every_runtime() {
    for runtime in Runtime::ALL {
        let dir = TempDir::new("edge-store-contract");
        let store = dir.path().join("sessions").display().to_string();
        let done = run(
            runtime,
            Script::Scenario("store.mjs"),
            &[("STORE_DIR", store.as_str())],
        );
        assert_eq!(done.code, Some(0), "{runtime:?}: {done:?}");
        assert_eq!(done.named("done").len(), 1, "{runtime:?}: {done:?}");
    }
}

/// A full store refuses a QoS 1 publish with "storage_full" (see quota.mjs).
#[test]
fn a_full_store_refuses_publishes_with_storage_full_in_every_runtime() {
    let url = format!("mqtt://127.0.0.1:{}", free_port());
    for runtime in Runtime::ALL {
        let done = run(
            runtime,
            Script::Scenario("quota.mjs"),
            &[("MQTT_URL", url.as_str())],
        );
        assert_eq!(done.code, Some(0), "{runtime:?}: {done:?}");
        assert_eq!(done.named("done").len(), 1, "{runtime:?}: {done:?}");
    }
}

// --- faults ---------------------------------------------------------------------------------

fn fault(runtime: Runtime, env: &[(&str, &str)]) -> Value {
    let done = run(runtime, Script::Scenario("fault.mjs"), env);
    done.named("error")
        .first()
        .map(|e| (*e).clone())
        .unwrap_or_else(|| panic!("{runtime:?}: no error: {done:?}"))
}

/// A fault: its name, the environment that makes it, the error code and `tls` kind expected.
struct FaultCase(
    &'static str,
    Vec<(String, String)>,
    &'static str,
    Option<&'static str>,
);

fn faults(runtime: Runtime) {
    let world = World::start(MosquittoOptions {
        wrong_name_listener: true,
        expired_listener: true,
        users: vec![("edge".into(), "right".into())],
        ..MosquittoOptions::default()
    });
    let ports = world.broker.lock().unwrap().ports();
    let other_ca = world.pki.other_ca().display().to_string();
    let tls = world.tls_env(world.tls_port);
    let cases: Vec<FaultCase> = vec![
        FaultCase(
            "wrong CA",
            replace(&tls, "MQTT_CA", &other_ca),
            "tls",
            Some("unknown_issuer"),
        ),
        FaultCase(
            "wrong name",
            world.tls_env(ports.wrong_name),
            "tls",
            Some("name_mismatch"),
        ),
        FaultCase(
            "wrong SNI",
            replace(&tls, "MQTT_SERVERNAME", "other.test"),
            "tls",
            Some("name_mismatch"),
        ),
        FaultCase(
            "expired",
            world.tls_env(ports.expired),
            "tls",
            Some("expired"),
        ),
        FaultCase(
            "refused credentials",
            [
                tls.clone(),
                vec![
                    ("MQTT_USERNAME".into(), "edge".into()),
                    ("MQTT_PASSWORD".into(), "wrong".into()),
                ],
            ]
            .concat(),
            "not_authorized",
            None,
        ), // mosquitto 2.0 answers a wrong password with CONNACK 5
        FaultCase("unreachable", world.tls_env(free_port()), "transport", None),
        FaultCase(
            "unreachable over ws",
            vec![(
                "MQTT_URL".into(),
                format!("ws://127.0.0.1:{}/mqtt", free_port()),
            )],
            "transport",
            None,
        ),
    ];
    for FaultCase(name, env, code, tls_kind) in &cases {
        let error = fault(runtime, &with(env, &[]));
        assert_eq!(error["code"], *code, "{runtime:?} {name}: {error}");
        if let Some(kind) = tls_kind {
            assert_eq!(error["tls"], *kind, "{runtime:?} {name}: {error}");
        }
        assert!(
            error["ms"].as_u64().unwrap_or(u64::MAX) < 5_000,
            "{runtime:?} {name} took too long: {error}"
        );
    }
    println!(
        "{}: {} fault cases gave their typed error within 5 s",
        runtime.name(),
        cases.len()
    );
}

fn replace(env: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| (k.clone(), if k == key { value.into() } else { v.clone() }))
        .collect()
}

#[test]
fn node_reports_typed_faults_within_seconds() {
    faults(Runtime::Node);
}

#[test]
fn deno_reports_typed_faults_within_seconds() {
    faults(Runtime::Deno);
}

#[test]
fn bun_reports_typed_faults_within_seconds() {
    faults(Runtime::Bun);
}

// --- delivery across cuts and crashes -------------------------------------------------------

/// A link cut under a stream of QoS 1 publishes (clean: false), twice, lands in the middle of
/// packets: every message still arrives. (A third quick drop would read as another client
/// taking the id over: the client then stops, state "elsewhere", as it should.)
fn cut_mid_packet(runtime: Runtime) {
    let world = World::start(publisher());
    let tokio = tokio_runtime();
    let proxy = tokio.block_on(StallProxy::start(std::net::SocketAddr::from((
        [127, 0, 0, 1],
        world.tls_port,
    ))));
    let topic = format!("edge/cut/{}", runtime.name());
    let mut counter = Counter::start(&world, &format!("cut-counter-{}", runtime.name()), &topic);
    let env = publisher_env(&world, proxy.addr().port());
    let count = 300;
    let mut stream = Scenario::spawn(
        runtime,
        Script::Scenario("stream.mjs"),
        &with(
            &env,
            &[
                ("TOPIC", &topic),
                ("COUNT", "300"),
                ("CLIENT_ID", &format!("cut-{}", runtime.name())),
            ],
        ),
    );
    assert!(
        stream.wait_event("started", LIMIT).is_some(),
        "{:?}",
        stream.events()
    );
    let mut cuts = 0;
    for _ in 0..2 {
        let before = proxy.bytes().0;
        let deadline = Instant::now() + Duration::from_secs(5);
        while proxy.bytes().0 < before + 20_000 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        proxy.cut();
        cuts += 1;
    }
    let done = stream.finish(Duration::from_secs(60));
    assert_eq!(done.code, Some(0), "{runtime:?}: {done:?}");
    let counts = counter.collect(count, LIMIT);
    let lost: Vec<u32> = (1..=count as u32)
        .filter(|n| !counts.contains_key(n))
        .collect();
    assert!(
        lost.is_empty(),
        "{runtime:?}: lost {} ({lost:?}) after {cuts} cuts",
        lost.len()
    );
    println!(
        "{}: {count} QoS 1 publishes across {cuts} cuts, none lost ({} copies)",
        runtime.name(),
        counts.values().sum::<u32>()
    );
}

#[test]
fn node_loses_nothing_when_the_link_is_cut_mid_packet() {
    cut_mid_packet(Runtime::Node);
}

#[test]
fn deno_loses_nothing_when_the_link_is_cut_mid_packet() {
    cut_mid_packet(Runtime::Deno);
}

#[test]
fn bun_loses_nothing_when_the_link_is_cut_mid_packet() {
    cut_mid_packet(Runtime::Bun);
}

/// clean: false on fileStore: publish while the link is held (no ack can come), SIGKILL, start
/// again on the same folder: QoS 2 exactly once, QoS 1 at least once, nothing lost.
fn survives_sigkill(runtime: Runtime, qos: u8) {
    let world = World::start(publisher());
    let tokio = tokio_runtime();
    let proxy = tokio.block_on(StallProxy::start(std::net::SocketAddr::from((
        [127, 0, 0, 1],
        world.tls_port,
    ))));
    let topic = format!("edge/session/{}/q{qos}", runtime.name());
    let mut counter = Counter::start(
        &world,
        &format!("session-counter-{}-{qos}", runtime.name()),
        &topic,
    );
    let dir = TempDir::new("edge-file-store");
    let store = dir.path().join("store").display().to_string();
    let go = dir.path().join("go");
    let go_file = go.display().to_string();
    let (qos_text, client_id) = (qos.to_string(), format!("session-{}-{qos}", runtime.name()));
    let env = publisher_env(&world, proxy.addr().port());
    let common = [
        ("TOPIC", topic.as_str()),
        ("QOS", qos_text.as_str()),
        ("STORE_DIR", store.as_str()),
        ("CLIENT_ID", client_id.as_str()),
        ("COUNT", "20"),
    ];
    let mut first = Scenario::spawn(
        runtime,
        Script::Scenario("session.mjs"),
        &with(
            &env,
            &[
                &common[..],
                &[("PHASE", "publish"), ("GO_FILE", go_file.as_str())],
            ]
            .concat(),
        ),
    );
    let connected = first.wait_for(LIMIT, |e| {
        e["event"] == "state" && e["state"] == "connected"
    });
    assert!(
        connected.is_some(),
        "{runtime:?}: {:?}\n{}",
        first.events(),
        world.log()
    );
    proxy.stall();
    std::fs::write(&go, "").unwrap();
    let stored = first.wait_event("stored", LIMIT);
    assert!(stored.is_some(), "{runtime:?}: {:?}", first.events());
    assert_eq!(
        first
            .events()
            .iter()
            .filter(|e| e["event"] == "acked")
            .count(),
        0,
        "acked while held"
    );
    first.kill();
    let _ = first.finish(Duration::from_secs(5));
    proxy.cut();
    proxy.resume();
    let second = Scenario::spawn(
        runtime,
        Script::Scenario("session.mjs"),
        &with(&env, &[&common[..], &[("PHASE", "resume")]].concat()),
    );
    let done = second.finish(LIMIT);
    assert_eq!(
        done.code,
        Some(0),
        "{runtime:?} q{qos}: {done:?}\nfirst: {stored:?}"
    );
    let counts = counter.collect(20, LIMIT);
    let lost: Vec<u32> = (1..=20).filter(|n| !counts.contains_key(n)).collect();
    assert!(
        lost.is_empty(),
        "{runtime:?} q{qos}: lost {lost:?} ({counts:?})"
    );
    if qos == 2 {
        assert!(
            counts.values().all(|&c| c == 1),
            "{runtime:?}: QoS 2 doubled: {counts:?}"
        );
    }
    println!(
        "{} q{qos}: 20 publishes survived SIGKILL on fileStore, {} deliveries",
        runtime.name(),
        counts.values().sum::<u32>()
    );
}

#[test]
fn node_file_store_session_survives_sigkill_qos1_and_qos2() {
    survives_sigkill(Runtime::Node, 1);
    survives_sigkill(Runtime::Node, 2);
}

#[test]
fn deno_file_store_session_survives_sigkill_qos1_and_qos2() {
    survives_sigkill(Runtime::Deno, 1);
    survives_sigkill(Runtime::Deno, 2);
}

#[test]
fn bun_file_store_session_survives_sigkill_qos1_and_qos2() {
    survives_sigkill(Runtime::Bun, 1);
    survives_sigkill(Runtime::Bun, 2);
}
