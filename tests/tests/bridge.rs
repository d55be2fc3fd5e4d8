//! The bridge end to end: a third-party client (Python paho-mqtt over ws:// and wss://), raw
//! clients, mutual TLS, the slow-consumer memory bound, idle session cost, SIGTERM drain,
//! `/healthz`, `/metrics` and static files. Real mosquitto; real `ws-bridge` binary where the
//! process matters (build it first: `cargo build -p ws-bridge`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::ffi::OsStr;
use std::time::{Duration, Instant};

use tests::bridge::{
    config_for, expect_close, http_get, http_request, mqtt, read_packets, route_to_broker,
    run_python_client, send_bin, start_in_process, toml_for_broker, ws_connect, BridgeProcess, Ws,
    WsOptions,
};
use tests::certs::{TempDir, TestPki};
use tests::mosquitto::{Mosquitto, MosquittoOptions, PLATFORM_PASSWORD, PLATFORM_USER};
use tokio::io::AsyncWriteExt;
use ws_bridge::close;

const T: Duration = Duration::from_secs(10);

fn broker_with_paho_user() -> (TestPki, Mosquitto) {
    let pki = TestPki::generate();
    let opts = MosquittoOptions {
        mtls: true,
        users: vec![("paho".into(), "paho-secret".into())],
        ..MosquittoOptions::default()
    };
    let m = Mosquitto::start(&pki, opts);
    (pki, m)
}

fn quick_form(m: &Mosquitto, extra: &[&OsStr]) -> BridgeProcess {
    let upstream = format!("127.0.0.1:{}", m.tls_addr().port());
    BridgeProcess::quick(&upstream, m.ca_path(), extra)
}

fn paho(
    mode: &str,
    bridge: &BridgeProcess,
    ca: Option<&std::path::Path>,
    extra: &[&str],
) -> String {
    let mut args: Vec<String> = vec![
        mode.into(),
        "--port".into(),
        bridge.addr.port().to_string(),
        "--username".into(),
        "paho".into(),
        "--password".into(),
        "paho-secret".into(),
        "--topic".into(),
        "paho".into(),
    ];
    if let Some(ca) = ca {
        args.push("--ca".into());
        args.push(ca.display().to_string());
    }
    args.extend(extra.iter().map(ToString::to_string));
    let (ok, out, err) = run_python_client("paho_ws.py", &args, Duration::from_secs(180));
    assert!(
        ok,
        "paho {mode} failed\nstdout: {out}\nstderr: {err}\nbridge log:\n{}",
        bridge.log_text()
    );
    out
}

async fn platform_session(url: &str, id: &str) -> Ws {
    let (mut ws, _) = ws_connect(url, &WsOptions::default())
        .await
        .expect("upgrade");
    send_bin(
        &mut ws,
        mqtt::connect(id, Some((PLATFORM_USER, PLATFORM_PASSWORD)), 60),
    )
    .await;
    let p = read_packets(&mut ws, 1, T).await;
    assert_eq!(mqtt::kind(&p[0]), mqtt::CONNACK);
    assert_eq!(p[0][3], 0, "CONNACK return code");
    ws
}

#[test]
fn paho_over_ws_qos_0_1_2_round_trip() {
    let (_pki, m) = broker_with_paho_user();
    let b = quick_form(&m, &[]);
    let out = paho("roundtrip", &b, None, &[]);
    assert!(out.contains("\"ok\": true"), "{out}");
}

#[test]
fn paho_over_wss_qos_0_1_2_round_trip() {
    let (pki, m) = broker_with_paho_user();
    let lh = pki.localhost();
    let b = quick_form(
        &m,
        &[
            "--tls-cert".as_ref(),
            lh.cert.as_os_str(),
            "--tls-key".as_ref(),
            lh.key.as_os_str(),
        ],
    );
    assert!(b.url.starts_with("wss://"), "{}", b.url);
    let out = paho("roundtrip", &b, Some(&pki.ca()), &[]);
    assert!(out.contains("\"ok\": true"), "{out}");
}

#[test]
fn paho_10000_qos1_messages_none_lost() {
    let (_pki, m) = broker_with_paho_user();
    let b = quick_form(&m, &[]);
    let out = paho("flood", &b, None, &["--count", "10000", "--timeout", "150"]);
    println!("paho flood through the bridge: {out}");
    assert!(out.contains("\"received\": 10000"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_round_trip_and_mutual_tls_route() {
    let (pki, m) = broker_with_paho_user();
    let mut config = config_for(route_to_broker(&m));
    let mut mtls = tests::bridge::route_to_port(m.mtls_addr().unwrap().port(), &pki.ca());
    let client = pki.client();
    mtls.client_cert = Some(client.cert.clone());
    mtls.client_key = Some(client.key.clone());
    config.routes.insert("mtls".into(), mtls);
    let (addr, h) = start_in_process(config).await;
    for path in ["/mqtt", "/mqtt/mtls"] {
        let url = format!("ws://{addr}{path}");
        let mut ws = platform_session(&url, &format!("raw{}", path.len())).await;
        send_bin(&mut ws, mqtt::subscribe(1, "platform/raw", 1)).await;
        assert_eq!(
            mqtt::kind(&read_packets(&mut ws, 1, T).await[0]),
            mqtt::SUBACK
        );
        send_bin(&mut ws, mqtt::publish("platform/raw", b"hi", 1, 7)).await;
        let pk = read_packets(&mut ws, 2, T).await;
        let kinds: Vec<u8> = pk.iter().map(|p| mqtt::kind(p)).collect();
        assert!(
            kinds.contains(&mqtt::PUBACK) && kinds.contains(&mqtt::PUBLISH),
            "{kinds:?}"
        );
        send_bin(&mut ws, mqtt::pingreq()).await;
        assert_eq!(
            mqtt::kind(&read_packets(&mut ws, 1, T).await[0]),
            mqtt::PINGRESP
        );
        send_bin(&mut ws, mqtt::disconnect()).await;
        let (code, reason) = expect_close(&mut ws, T).await;
        assert_eq!((code, reason.as_str()), (close::NORMAL, "upstream closed"));
    }
    let metrics = h.metrics().render();
    assert!(metrics.contains("ws_bridge_sessions_total 2"), "{metrics}");
    assert!(
        metrics.contains("ws_bridge_upstream_connect_seconds_count 2"),
        "{metrics}"
    );
    h.shutdown().await;
}

/// Publishes QoS 0 messages straight to mosquitto's plain port as fast as possible until `stop`.
async fn flood(addr: std::net::SocketAddr, topic: &str, size: usize, stop: Duration) -> usize {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(&mqtt::connect(
        "flooder",
        Some((PLATFORM_USER, PLATFORM_PASSWORD)),
        60,
    ))
    .await
    .unwrap();
    let payload = vec![b'f'; size];
    let packet = mqtt::publish(topic, &payload, 0, 0);
    let mut batch = Vec::new();
    for _ in 0..16 {
        batch.extend_from_slice(&packet);
    }
    let end = Instant::now() + stop;
    let mut sent = 0;
    while Instant::now() < end {
        s.write_all(&batch).await.unwrap();
        sent += batch.len();
        tokio::task::yield_now().await;
    }
    sent
}

fn metric(text: &str, name: &str) -> i64 {
    text.lines()
        .find(|l| l.starts_with(name) && l.as_bytes().get(name.len()) == Some(&b' '))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_stays_bounded_while_another_session_runs_at_full_speed() {
    let (_pki, m) = broker_with_paho_user();
    let b = BridgeProcess::with_config_toml(&toml_for_broker(
        &m,
        "ping_interval_ms = 600000\nmax_packet_size = 65536",
    ));
    let url = b.url.clone();
    // warm up, then take the baseline
    let _warm = platform_session(&url, "warm").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let base = b.rss_kib();

    // the slow consumer: subscribes to the flood, then never reads again
    let slow_opts = WsOptions {
        read_buffer: Some(1024),
        ..WsOptions::default()
    };
    let (mut slow, _) = ws_connect(&url, &slow_opts).await.unwrap();
    send_bin(
        &mut slow,
        mqtt::connect("slow", Some((PLATFORM_USER, PLATFORM_PASSWORD)), 600),
    )
    .await;
    send_bin(&mut slow, mqtt::subscribe(1, "flood/#", 0)).await;
    let pk = read_packets(&mut slow, 2, T).await;
    assert_eq!(mqtt::kind(&pk[1]), mqtt::SUBACK);

    // the fast session: echo loop on its own topic
    let mut fast = platform_session(&url, "fast").await;
    send_bin(&mut fast, mqtt::subscribe(1, "fast/echo", 0)).await;
    read_packets(&mut fast, 1, T).await;

    let flooder = tokio::spawn(flood(
        m.plain_addr(),
        "flood/x",
        1024,
        Duration::from_secs(4),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut max_rss = 0;
    let mut max_buffered = 0;
    let start = Instant::now();
    let mut echoes = 0u32;
    while start.elapsed() < Duration::from_secs(3) {
        for _ in 0..50 {
            send_bin(&mut fast, mqtt::publish("fast/echo", b"ping", 0, 0)).await;
            read_packets(&mut fast, 1, T).await;
            echoes += 1;
        }
        max_rss = max_rss.max(b.rss_kib());
        let (_, body) = http_get(b.addr, "/metrics").await;
        max_buffered = max_buffered.max(metric(
            &String::from_utf8_lossy(&body),
            "ws_bridge_buffered_bytes",
        ));
    }
    let elapsed = start.elapsed();
    let sent = flooder.await.unwrap();
    let growth = max_rss.saturating_sub(base);
    println!(
        "slow consumer: flood sent {} MiB; bridge RSS base {base} KiB, max {max_rss} KiB (growth {growth} KiB); max buffered {max_buffered} B; fast session {echoes} echoes in {elapsed:?} ({:.0}/s)",
        sent / (1024 * 1024),
        f64::from(echoes) / elapsed.as_secs_f64()
    );
    assert!(
        sent > 20 * 1024 * 1024,
        "flood too small to prove anything: {sent} bytes"
    );
    assert!(growth < 16 * 1024, "bridge RSS grew by {growth} KiB");
    assert!(max_buffered <= 2 * 65536 + 8192, "buffered {max_buffered}");
    assert!(
        echoes >= 300,
        "fast session starved: {echoes} echoes in {elapsed:?}"
    );
    // the slow session was held back, not dropped: it still receives the flood when it reads
    let (_, body) = http_get(b.addr, "/metrics").await;
    let down = metric(
        &String::from_utf8_lossy(&body),
        "ws_bridge_bytes_down_total",
    );
    println!("slow consumer: bridge relayed {down} bytes down in total");
    assert!((down as usize) < sent / 4, "down {down} vs sent {sent}");
    let pk = read_packets(&mut slow, 10, T).await;
    assert!(pk.iter().all(|p| mqtt::kind(p) == mqtt::PUBLISH));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_are_cheap() {
    let (_pki, m) = broker_with_paho_user();
    let b = BridgeProcess::with_config_toml(&toml_for_broker(&m, "max_connections_per_ip = 1000"));
    let url = b.url.clone();
    let mut warm = Vec::new();
    for i in 0..20 {
        warm.push(platform_session(&url, &format!("warm{i}")).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let base = b.rss_kib();
    const N: usize = 200;
    let mut sessions = Vec::new();
    for i in 0..N {
        sessions.push(platform_session(&url, &format!("idle{i}")).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = b.rss_kib();
    let per = after.saturating_sub(base) as f64 / N as f64;
    println!("idle sessions: RSS {base} KiB -> {after} KiB for {N} sessions: {per:.1} KiB per session (WS + upstream TLS)");
    assert!(per < 96.0, "{per} KiB per idle session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_sessions_with_going_away_and_exits_in_time() {
    let (_pki, m) = broker_with_paho_user();
    let mut b = BridgeProcess::with_config_toml(&toml_for_broker(&m, "drain_timeout_ms = 2000"));
    let url = b.url.clone();
    let mut sessions = Vec::new();
    for i in 0..3 {
        sessions.push(platform_session(&url, &format!("term{i}")).await);
    }
    let start = Instant::now();
    b.child.signal("TERM");
    for ws in &mut sessions {
        let (code, reason) = expect_close(ws, T).await;
        assert_eq!((code, reason.as_str()), (close::GOING_AWAY, "going away"));
    }
    let status = tokio::task::spawn_blocking(move || {
        let s = b.child.wait_timeout(Duration::from_secs(5));
        (s, b)
    })
    .await
    .unwrap();
    let elapsed = start.elapsed();
    let st = status
        .0
        .unwrap_or_else(|| panic!("bridge still running; log:\n{}", status.1.log_text()));
    assert!(st.success(), "{st:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    // nothing listens any more
    assert!(tokio::net::TcpStream::connect(status.1.addr).await.is_err());
}

#[tokio::test]
async fn healthz_metrics_and_static_files() {
    let (_pki, m) = broker_with_paho_user();
    let site = TempDir::new("site");
    std::fs::write(
        site.path().join("index.html"),
        "<!doctype html><title>app</title>",
    )
    .unwrap();
    std::fs::write(site.path().join("app_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(site.path().join("app.js"), "export default 1;").unwrap();
    std::fs::write(site.path().join("..secret"), "no").unwrap();
    let mut config = config_for(route_to_broker(&m));
    config.static_dir = Some(site.path().to_path_buf());
    let (addr, h) = start_in_process(config).await;

    let (status, body) = http_get(addr, "/healthz").await;
    assert_eq!((status, body.as_slice()), (200, &b"ok\n"[..]));
    let (status, body) = http_get(addr, "/metrics").await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 200);
    for name in [
        "ws_bridge_sessions_open",
        "ws_bridge_sessions_total",
        "ws_bridge_bytes_up_total",
        "ws_bridge_bytes_down_total",
        "ws_bridge_upstream_connect_seconds_bucket",
        "ws_bridge_session_end_total",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let raw = |path: &'static str| {
        let req = get(path);
        async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(req.as_bytes()).await.unwrap();
            let mut v = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut s, &mut v)
                .await
                .unwrap();
            String::from_utf8_lossy(&v).into_owned()
        }
    };
    let index = raw("/").await;
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(index.contains("Content-Type: text/html"), "{index}");
    assert!(index.ends_with("<title>app</title>"), "{index}");
    let wasm = raw("/app_bg.wasm").await;
    assert!(wasm.contains("Content-Type: application/wasm"), "{wasm}");
    let js = raw("/app.js?v=1").await;
    assert!(js.contains("Content-Type: text/javascript"), "{js}");
    for (path, want) in [
        ("/../../../../etc/passwd", 400),
        ("/%2e%2e/%2e%2e/etc/passwd", 400),
        ("/..secret", 400),
        ("/nope.js", 404),
    ] {
        let (status, _) = http_request(addr, &get(path)).await;
        assert_eq!(status, want, "{path}");
    }
    h.shutdown().await;
}

#[test]
fn cli_refuses_bad_configuration_with_exit_status_2() {
    let bin = tests::bridge::bridge_binary();
    let dir = TempDir::new("bad-config");
    let cases = [
        ("listen = 5\n", "invalid configuration"),
        ("listen = \"127.0.0.1:0\"\n[routes.a]\nhost = \"h\"\nca_file = \"/nonexistent/ca.pem\"\n", "/nonexistent/ca.pem"),
        ("listen = \"127.0.0.1:0\"\n[routes.a]\nhost = \"x-{tenant}.example\"\n", "{product}"),
    ];
    for (toml, want) in cases {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, toml).unwrap();
        let out = std::process::Command::new(&bin)
            .arg("--config")
            .arg(&path)
            .arg("--log-format")
            .arg("json")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "{err:?} should contain {want:?}");
    }
}

/// paho-mqtt 2.1.0 answers WebSocket pings with unmasked pongs, which RFC 6455 §5.1 makes the
/// server close (1002): every paho session through the bridge died at its first ping. A session
/// whose CONNECT announced a keepalive gets no WebSocket pings: the MQTT keepalive already finds
/// a dead peer (the broker drops a client silent for 1.5 keepalives [MQTT-3.1.2-24]).
#[test]
fn paho_with_a_keepalive_outlives_many_ping_intervals() {
    let (_pki, m) = broker_with_paho_user();
    let b = BridgeProcess::with_config_toml(&toml_for_broker(&m, "ping_interval_ms = 300"));
    let out = paho("steady", &b, None, &["--seconds", "3"]);
    assert!(out.contains("\"ok\": true"), "{out}");
}
