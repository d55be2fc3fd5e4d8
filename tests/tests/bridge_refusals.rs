//! Every refusal of the bridge, asserted by HTTP status (before the upgrade) or WebSocket close
//! code (after it), against the real mosquitto TLS listeners. In-process bridges; loopback only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use tests::bridge::{
    config_for, expect_close, http_request, mqtt, read_packets, refused_status, route_to_broker,
    route_to_port, send_bin, start_in_process, ws_connect, WsOptions,
};
use tests::certs::TestPki;
use tests::mosquitto::{Mosquitto, MosquittoOptions, PLATFORM_PASSWORD, PLATFORM_USER};
use tests::procs::free_port;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tungstenite::Message;
use ws_bridge::close;

const T: Duration = Duration::from_secs(10);

fn broker() -> (TestPki, Mosquitto) {
    let pki = TestPki::generate();
    let m = Mosquitto::start(&pki, MosquittoOptions::all());
    (pki, m)
}

fn opts() -> WsOptions {
    WsOptions::default()
}

/// Connects and completes an MQTT CONNECT as the platform user (keepalive 30 s).
async fn connected(url: &str) -> tests::bridge::Ws {
    connected_with_keepalive(url, 30).await
}

/// As [`connected`], announcing `keepalive` seconds in CONNECT.
async fn connected_with_keepalive(url: &str, keepalive: u16) -> tests::bridge::Ws {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let id = format!(
        "refusals-{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let (mut ws, _) = ws_connect(url, &opts()).await.expect("upgrade");
    send_bin(
        &mut ws,
        mqtt::connect(&id, Some((PLATFORM_USER, PLATFORM_PASSWORD)), keepalive),
    )
    .await;
    let p = read_packets(&mut ws, 1, T).await;
    assert_eq!(mqtt::kind(&p[0]), mqtt::CONNACK);
    assert_eq!(p[0][3], 0, "CONNACK return code");
    ws
}

#[tokio::test]
async fn http_refusals_before_upgrade() {
    let (pki, m) = broker();
    let mut config = config_for(route_to_broker(&m));
    let mut tmpl = route_to_port(m.tls_addr().port(), &pki.ca());
    tmpl.sni = Some("{product}.test".into());
    config.routes.insert("tmpl".into(), tmpl);
    let mut strict = route_to_broker(&m);
    strict.allowed_origins = vec!["https://app.example.com".into()];
    config.routes.insert("strict".into(), strict);
    let (addr, h) = start_in_process(config).await;
    let base = format!("ws://{addr}");

    // unknown route
    assert_eq!(
        refused_status(ws_connect(&format!("{base}/mqtt/nope"), &opts()).await),
        404
    );
    assert_eq!(
        refused_status(ws_connect(&format!("{base}/mqtt/default/extra"), &opts()).await),
        404
    );
    // bad product ids
    assert_eq!(
        refused_status(ws_connect(&format!("{base}/mqtt/tmpl/../x"), &opts()).await),
        404
    );
    assert_eq!(
        refused_status(ws_connect(&format!("{base}/mqtt/tmpl/..%2Fx"), &opts()).await),
        400
    );
    assert_eq!(
        refused_status(ws_connect(&format!("{base}/mqtt/tmpl/a.b"), &opts()).await),
        400
    );
    let forty = "a".repeat(40);
    assert_eq!(
        refused_status(ws_connect(&format!("{base}/mqtt/tmpl/{forty}"), &opts()).await),
        400
    );
    assert_eq!(
        refused_status(ws_connect(&format!("{base}/mqtt/tmpl"), &opts()).await),
        404
    );
    // bad Origin; the allowed one passes
    let evil = WsOptions {
        origin: Some("https://evil.example".into()),
        ..opts()
    };
    assert_eq!(
        refused_status(ws_connect(&format!("{base}/mqtt/strict"), &evil).await),
        403
    );
    let good = WsOptions {
        origin: Some("https://app.example.com".into()),
        ..opts()
    };
    let (ws, resp) = ws_connect(&format!("{base}/mqtt/strict"), &good)
        .await
        .expect("allowed origin");
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        "mqtt"
    );
    drop(ws);
    // wrong subprotocol; mqttv3.1 accepted
    let chat = WsOptions {
        subprotocol: Some("chat".into()),
        ..opts()
    };
    assert_eq!(
        refused_status(ws_connect(&format!("{base}/mqtt"), &chat).await),
        400
    );
    let v31 = WsOptions {
        subprotocol: Some("mqttv3.1".into()),
        ..opts()
    };
    let (_ws, resp) = ws_connect(&format!("{base}/mqtt"), &v31)
        .await
        .expect("mqttv3.1");
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        "mqttv3.1"
    );
    // RFC 6455 4.1: the subprotocol comes back as the client spelled it, or the client fails.
    let upper = WsOptions {
        subprotocol: Some("MQTT".into()),
        ..opts()
    };
    let (_ws, resp) = ws_connect(&format!("{base}/mqtt"), &upper)
        .await
        .expect("MQTT offered");
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        "MQTT"
    );
    // RFC 6455 4.2.1: HTTP/1.1 or later, a Host header, a key of 16 bytes in base64.
    let upgrade = |version: &str, extra: &str| {
        format!(
            "GET /mqtt HTTP/{version}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n{extra}\r\n"
        )
    };
    let good_key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    for (what, request) in [
        ("no Host", upgrade("1.1", good_key)),
        (
            "HTTP/1.0",
            upgrade("1.0", &format!("Host: x\r\n{good_key}")),
        ),
        (
            "a 24-character key that is not 16 bytes",
            upgrade(
                "1.1",
                "Host: x\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQAA\r\n",
            ),
        ),
    ] {
        let (status, body) = http_request(addr, &request).await;
        assert_eq!(status, 400, "{what}: {}", String::from_utf8_lossy(&body));
    }
    // not an upgrade
    let (status, body) = http_request(addr, "GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(status, 426, "{}", String::from_utf8_lossy(&body));
    let (status, _) = http_request(
        addr,
        "POST /mqtt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    )
    .await;
    assert_eq!(status, 405);
    // garbage and oversized heads
    let (status, _) = http_request(addr, "\x16\x03\x01 nonsense\r\n\r\n").await;
    assert_eq!(status, 400);
    let big = format!("GET /mqtt HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(20_000));
    let (status, _) = http_request(addr, &big).await;
    assert_eq!(status, 431);
    // the template route works with a good product: sni "broker.test"
    let _ws = connected(&format!("{base}/mqtt/tmpl/broker")).await;
    h.shutdown().await;
}

#[tokio::test]
async fn upstream_failures_have_specific_close_codes() {
    let (pki, m) = broker();
    let p = m.ports();
    let mut config = config_for(route_to_broker(&m));
    let mut add = |name: &str, route| {
        config.routes.insert(name.to_string(), route);
    };
    add("down", route_to_port(free_port(), &pki.ca()));
    add("wrongca", route_to_port(p.tls, &pki.other_ca()));
    add("otherissuer", route_to_port(p.other_issuer, &pki.ca()));
    add("wrongname", route_to_port(p.wrong_name, &pki.ca()));
    add("expired", route_to_port(p.expired, &pki.ca()));
    let mut tmpl = route_to_port(p.tls, &pki.ca());
    tmpl.sni = Some("{product}.test".into());
    add("tmpl", tmpl);
    let (addr, h) = start_in_process(config).await;
    let cases = [
        ("down", close::UPSTREAM_UNREACHABLE, "upstream unreachable"),
        ("wrongca", close::TLS_UNKNOWN_ISSUER, "unknown issuer"),
        ("otherissuer", close::TLS_UNKNOWN_ISSUER, "unknown issuer"),
        (
            "wrongname",
            close::TLS_NAME_MISMATCH,
            "not valid for broker.test",
        ),
        ("expired", close::TLS_EXPIRED, "expired"),
        (
            "tmpl/wrong",
            close::TLS_NAME_MISMATCH,
            "not valid for wrong.test",
        ),
    ];
    for (route, code, text) in cases {
        let (mut ws, _) = ws_connect(&format!("ws://{addr}/mqtt/{route}"), &opts())
            .await
            .expect("upgrade happens before dialling");
        let (got, reason) = expect_close(&mut ws, T).await;
        assert_eq!(got, code, "{route}: {reason}");
        assert!(
            reason.contains(text),
            "{route}: {reason:?} should contain {text:?}"
        );
    }
    let metrics = h.metrics().render();
    assert!(
        metrics.contains("reason=\"tls_verification\"} 5"),
        "{metrics}"
    );
    assert!(
        metrics.contains("reason=\"upstream_unreachable\"} 1"),
        "{metrics}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn oversized_packets_both_directions() {
    let (_pki, m) = broker();
    let mut config = config_for(route_to_broker(&m));
    config.limits.max_packet_size = 1024;
    let (addr, h) = start_in_process(config).await;
    let url = format!("ws://{addr}/mqtt");

    // browser -> broker, whole packet in one message
    let mut ws = connected(&url).await;
    send_bin(&mut ws, mqtt::publish("platform/x", &[7u8; 2000], 0, 0)).await;
    let (code, reason) = expect_close(&mut ws, T).await;
    assert_eq!(code, close::MESSAGE_TOO_BIG, "{reason}");
    assert!(reason.contains("packet too large"), "{reason}");

    // browser -> broker, only the header of a big packet (split across messages)
    let mut ws = connected(&url).await;
    let big = mqtt::publish("platform/x", &[7u8; 5000], 0, 0);
    send_bin(&mut ws, big[..3].to_vec()).await;
    let (code, _) = expect_close(&mut ws, T).await;
    assert_eq!(code, close::MESSAGE_TOO_BIG);

    // any byte split of legal packets is fine
    let mut ws = connected(&url).await;
    let mut stream = mqtt::subscribe(1, "platform/split", 0);
    stream.extend(mqtt::publish("platform/split", b"hello", 0, 0));
    for b in stream {
        send_bin(&mut ws, vec![b]).await;
    }
    let pk = read_packets(&mut ws, 2, T).await;
    assert_eq!(mqtt::kind(&pk[0]), mqtt::SUBACK);
    assert_eq!(mqtt::publish_parts(&pk[1]).unwrap().1, b"hello");

    // broker -> browser
    send_bin(&mut ws, mqtt::subscribe(2, "platform/big", 0)).await;
    let pk = read_packets(&mut ws, 1, T).await;
    assert_eq!(mqtt::kind(&pk[0]), mqtt::SUBACK);
    let mut publisher = connected(&url).await;
    send_bin(
        &mut publisher,
        mqtt::publish("platform/big", &[1u8; 800], 0, 0),
    )
    .await;
    let ok = read_packets(&mut ws, 1, T).await;
    assert_eq!(mqtt::publish_parts(&ok[0]).unwrap().1.len(), 800);
    // A packet over the limit from the broker side (published straight to mosquitto).
    let status = std::process::Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &m.plain_addr().port().to_string()])
        .args([
            "-u",
            PLATFORM_USER,
            "-P",
            PLATFORM_PASSWORD,
            "-t",
            "platform/big",
        ])
        .args(["-m", &"z".repeat(3000)])
        .status()
        .expect("mosquitto_pub");
    assert!(status.success());
    let (code, reason) = expect_close(&mut ws, T).await;
    assert_eq!(code, close::MESSAGE_TOO_BIG, "{reason}");
    assert!(reason.contains("from broker"), "{reason}");
    h.shutdown().await;
}

#[tokio::test]
async fn text_frames_are_refused() {
    let (_pki, m) = broker();
    let (addr, h) = start_in_process(config_for(route_to_broker(&m))).await;
    let mut ws = connected(&format!("ws://{addr}/mqtt")).await;
    ws.send(Message::Text("hello".into())).await.unwrap();
    let (code, reason) = expect_close(&mut ws, T).await;
    assert_eq!(code, close::UNSUPPORTED_DATA, "{reason}");
    h.shutdown().await;
}

#[tokio::test]
async fn slowloris_is_cut_at_the_handshake_timeout() {
    let (_pki, m) = broker();
    let mut config = config_for(route_to_broker(&m));
    config.limits.handshake_timeout_ms = 500;
    let (addr, h) = start_in_process(config).await;
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /mqtt HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(T, async {
        // keep dribbling header bytes: the deadline is absolute, not per read
        loop {
            tokio::select! {
                r = s.read_to_end(&mut buf) => {
                    // a reset is acceptable too: the point is that the bridge hung up
                    if let Err(e) = r { assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset); }
                    break;
                }
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    let _ = s.write_all(b"X-Slow: 1\r\n").await;
                }
            }
        }
    })
    .await
    .expect("the bridge must close a slow handshake");
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2000), "{elapsed:?}");
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text:?}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn connection_caps_global_and_per_address() {
    let (_pki, m) = broker();
    // per address
    let mut config = config_for(route_to_broker(&m));
    config.limits.max_connections_per_ip = 2;
    let (addr, h) = start_in_process(config).await;
    let url = format!("ws://{addr}/mqtt");
    let a = connected(&url).await;
    let _b = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(refused_status(ws_connect(&url, &opts()).await), 429);
    drop(a);
    // the slot comes back once the session ends
    let deadline = Instant::now() + T;
    loop {
        match ws_connect(&url, &opts()).await {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("slot not released: {e}"),
        }
    }
    h.shutdown().await;
    // global
    let mut config = config_for(route_to_broker(&m));
    config.limits.max_connections = 1;
    let (addr, h) = start_in_process(config).await;
    let url = format!("ws://{addr}/mqtt");
    let _a = connected(&url).await;
    assert_eq!(refused_status(ws_connect(&url, &opts()).await), 503);
    assert!(h
        .metrics()
        .render()
        .contains("ws_bridge_connections_refused_total 1"));
    h.shutdown().await;
}

#[tokio::test]
async fn idle_sessions_are_closed() {
    let (_pki, m) = broker();
    let mut config = config_for(route_to_broker(&m));
    config.limits.idle_timeout_ms = 700;
    let (addr, h) = start_in_process(config).await;
    // No keepalive announced: the configured limit applies.
    let mut ws = connected_with_keepalive(&format!("ws://{addr}/mqtt"), 0).await;
    let start = Instant::now();
    let (code, reason) = expect_close(&mut ws, T).await;
    assert_eq!(
        (code, reason.as_str()),
        (close::NORMAL, close::IDLE_TIMEOUT)
    );
    assert!(start.elapsed() < Duration::from_secs(3));
    h.shutdown().await;
}

/// [MQTT-3.1.2-24]: the broker allows 1.5 keepalives of silence, so the bridge does too: a
/// session announcing 2 s outlives a configured idle limit of 700 ms.
#[tokio::test]
async fn the_idle_limit_follows_the_connect_keepalive() {
    let (_pki, m) = broker();
    let mut config = config_for(route_to_broker(&m));
    config.limits.idle_timeout_ms = 700;
    let (addr, h) = start_in_process(config).await;
    let mut ws = connected_with_keepalive(&format!("ws://{addr}/mqtt"), 2).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    send_bin(&mut ws, mqtt::pingreq()).await;
    let p = read_packets(&mut ws, 1, T).await;
    assert_eq!(
        p[0],
        vec![0xd0, 0x00],
        "PINGRESP: still open after 1.5 s of silence"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn pings_keep_a_responsive_client_alive() {
    use futures_util::StreamExt;
    let (_pki, m) = broker();
    let mut config = config_for(route_to_broker(&m));
    config.limits.ping_interval_ms = 100;
    let (addr, h) = start_in_process(config).await;
    // Keepalive 0: pings are how the bridge finds a dead client (with a keepalive, MQTT does;
    // see bridge.rs::paho_with_a_keepalive_outlives_many_ping_intervals).
    let mut ws = connected_with_keepalive(&format!("ws://{addr}/mqtt"), 0).await;
    let mut pings = 0;
    let end = Instant::now() + Duration::from_millis(1200);
    while Instant::now() < end {
        // reading lets tungstenite answer each ping with a pong
        match tokio::time::timeout(Duration::from_millis(300), ws.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(Some(Ok(Message::Close(f)))) => panic!("closed: {f:?}"),
            Ok(Some(Ok(_))) | Err(_) => {}
            Ok(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(pings >= 5, "{pings} pings");
    // still relaying
    send_bin(&mut ws, mqtt::pingreq()).await;
    let p = read_packets(&mut ws, 1, T).await;
    assert_eq!(mqtt::kind(&p[0]), mqtt::PINGRESP);
    h.shutdown().await;
}
