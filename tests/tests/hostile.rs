//! Hostile input the bridge refusal tests (`bridge_refusals.rs`) do not cover: a broker that
//! sends garbage (through the bridge and straight to the native client), malformed MQTT from the
//! browser side, fragmented WebSocket messages, request smuggling on the upgrade, odd Origins and
//! odd product ids. Each case is a row of SECURITY.md. Loopback only; every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mqtt_core::{ConnectionError, Event, Options, Session, TransportFailure};
use mqttws::{BrokerUrl, ConnectTo, Connector, Driver, Output, TlsOptions};
use tests::bridge::{
    config_for, expect_close, http_request, mqtt, read_packets, refused_status, route_to_broker,
    route_to_port, send_bin, start_in_process, ws_connect, WsOptions,
};
use tests::certs::TestPki;
use tests::mosquitto::{
    Mosquitto, MosquittoOptions, BROKER_NAME, PLATFORM_PASSWORD, PLATFORM_USER,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use ws_bridge::close;

const T: Duration = Duration::from_secs(10);

// ---- a fake broker ------------------------------------------------------------------------

/// A TLS "broker" (the `broker.test` certificate of the test PKI) that reads the client's first
/// bytes, answers with `script`, then keeps the connection open for a while, so that whatever
/// closes the session is the reaction to the garbage, not an EOF. With `tls = false` it speaks
/// no TLS at all and answers the ClientHello with `script` in clear.
async fn fake_broker(pki: &TestPki, script: Vec<u8>, tls: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind fake broker");
    let addr = listener.local_addr().expect("addr");
    let acceptor = {
        let files = pki.broker();
        let certs = ws_bridge::route::load_certs(&files.cert).expect("cert");
        let key = ws_bridge::route::load_key(&files.key).expect("key");
        let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
        tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
    };
    tokio::spawn(async move {
        // Bounded: a test opens a handful of connections at most.
        for _ in 0..32 {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(5), async move {
                    let mut buf = [0u8; 4096];
                    if tls {
                        let Ok(mut s) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let _ = s.read(&mut buf).await;
                        let _ = s.write_all(&script).await;
                        let _ = s.flush().await;
                        tokio::time::sleep(Duration::from_secs(4)).await;
                    } else {
                        let mut s = tcp;
                        let _ = s.read(&mut buf).await;
                        let _ = s.write_all(&script).await;
                        tokio::time::sleep(Duration::from_secs(4)).await;
                    }
                })
                .await;
            });
        }
    });
    addr
}

/// Runs a native client (reconnect off) until its first `ConnectionLost`; returns the error.
async fn first_error(connector: Connector) -> ConnectionError {
    let mut options = Options::new("hostile-client");
    options.reconnect.enabled = false;
    options.connect_timeout = Duration::from_secs(5);
    let mut driver = Driver::plain(connector, Session::new(options));
    driver.connect();
    tokio::time::timeout(T, async {
        loop {
            match driver.next().await {
                Some(Output::Event(Event::ConnectionLost { error, .. })) => return error,
                Some(_) => {}
                None => panic!("the session ended without reporting an error"),
            }
        }
    })
    .await
    .expect("the client reported the failure within 10 s")
}

fn ws_connector(url: &str) -> Connector {
    let url: BrokerUrl = url.parse().expect("url");
    Connector::new(url, &TlsOptions::default(), None).expect("connector")
}

fn mqtts_connector(addr: SocketAddr, ca: &std::path::Path) -> Connector {
    let url: BrokerUrl = format!("mqtts://{BROKER_NAME}:{}", addr.port())
        .parse()
        .expect("url");
    let tls = TlsOptions {
        ca_file: Some(ca.to_path_buf()),
        client_auth: None,
    };
    let to = ConnectTo {
        host: "127.0.0.1".into(),
        port: addr.port(),
    };
    Connector::new(url, &tls, Some(to)).expect("connector")
}

/// How the bridge and the client must react to one garbage script.
struct Case {
    name: &'static str,
    script: Vec<u8>,
    tls: bool,
    /// The bridge's close code, or `None` when the bridge relays the bytes (they are well
    /// framed) and only the client can judge them.
    bridge_close: Option<u16>,
}

/// The framing cases start with a valid CONNACK, so the garbage reaches a connected session.
fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "reserved packet type 0",
            script: vec![0x20, 0x02, 0x00, 0x00, 0x00, 0x00],
            tls: true,
            bridge_close: Some(close::INTERNAL_ERROR),
        },
        Case {
            name: "remaining length longer than 4 bytes",
            script: vec![0x20, 0x02, 0x00, 0x00, 0x30, 0xff, 0xff, 0xff, 0xff, 0x7f],
            tls: true,
            bridge_close: Some(close::INTERNAL_ERROR),
        },
        Case {
            name: "a 256 MB packet announced",
            script: vec![
                0x20, 0x02, 0x00, 0x00, 0x30, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3,
            ],
            tls: true,
            bridge_close: Some(close::MESSAGE_TOO_BIG),
        },
        Case {
            name: "CONNACK with no body (mqttrs 0.4.1 panics on it)",
            script: vec![0x20, 0x00],
            tls: true,
            bridge_close: None,
        },
        Case {
            name: "PUBLISH whose topic runs past the packet",
            script: vec![0x20, 0x02, 0x00, 0x00, 0x30, 0x03, 0x00, 0x09, b'a'],
            tls: true,
            bridge_close: None,
        },
        Case {
            name: "SUBACK before CONNACK",
            script: vec![0x90, 0x03, 0x00, 0x01, 0x00],
            tls: true,
            bridge_close: None,
        },
        Case {
            name: "not TLS at all",
            script: b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(),
            tls: false,
            bridge_close: Some(close::TLS_HANDSHAKE_FAILED),
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_side_garbage_closes_with_a_clear_code_and_a_typed_client_error() {
    let pki = TestPki::generate();
    for case in cases() {
        let fake = fake_broker(&pki, case.script.clone(), case.tls).await;
        let (addr, bridge) =
            start_in_process(config_for(route_to_port(fake.port(), &pki.ca()))).await;
        let url = format!("ws://{addr}/mqtt");

        // A raw WebSocket client sees the bridge's close code (or the relayed garbage).
        let (mut ws, _) = ws_connect(&url, &WsOptions::default())
            .await
            .expect("upgrade");
        send_bin(&mut ws, mqtt::connect("hostile-raw", None, 30)).await;
        if let Some(code) = case.bridge_close {
            let (got, reason) = expect_close(&mut ws, T).await;
            assert_eq!(got, code, "{}: close reason {reason:?}", case.name);
            assert!(
                !reason.is_empty(),
                "{}: the close carries a reason",
                case.name
            );
            println!(
                "hostile broker, {}: bridge closed {got} {reason:?}",
                case.name
            );
        }
        drop(ws);

        // The native client through the bridge gets a typed error, and does not panic.
        let error = first_error(ws_connector(&url)).await;
        match (case.bridge_close, &error) {
            (
                Some(code),
                ConnectionError::Transport(TransportFailure::Closed { code: got, .. }),
            ) => {
                assert_eq!(*got, code, "{}: {error}", case.name);
            }
            (None, ConnectionError::Protocol(_) | ConnectionError::Violation(_)) => {}
            _ => panic!(
                "{}: unexpected error through the bridge: {error:?}",
                case.name
            ),
        }
        println!(
            "hostile broker, {}: client through the bridge: {error}",
            case.name
        );

        // Straight to the fake broker (mqtts): the core refuses the bytes itself.
        if case.tls {
            let error = first_error(mqtts_connector(fake, &pki.ca())).await;
            let framing = case.bridge_close.is_some();
            assert!(
                matches!(error, ConnectionError::Protocol(_))
                    || (!framing && matches!(error, ConnectionError::Violation(_))),
                "{}: unexpected error straight from the broker: {error:?}",
                case.name
            );
            println!("hostile broker, {}: client direct: {error}", case.name);
        }
        bridge.shutdown().await;
    }
}

// ---- the browser side -----------------------------------------------------------------------

fn broker() -> (TestPki, Mosquitto) {
    let pki = TestPki::generate();
    let m = Mosquitto::start(&pki, MosquittoOptions::default());
    (pki, m)
}

#[tokio::test]
async fn browser_side_malformed_mqtt_is_closed_with_1002() {
    let (_pki, m) = broker();
    let (addr, h) = start_in_process(config_for(route_to_broker(&m))).await;
    let url = format!("ws://{addr}/mqtt");
    for (name, bytes) in [
        ("reserved packet type 0", vec![0x00, 0x00]),
        (
            "remaining length longer than 4 bytes",
            vec![0x10, 0xff, 0xff, 0xff, 0xff, 0x7f],
        ),
    ] {
        let (mut ws, _) = ws_connect(&url, &WsOptions::default())
            .await
            .expect("upgrade");
        send_bin(&mut ws, bytes).await;
        let (code, reason) = expect_close(&mut ws, T).await;
        assert_eq!(code, close::PROTOCOL_ERROR, "{name}: {reason}");
        assert!(reason.contains("malformed"), "{name}: {reason}");
    }
    h.shutdown().await;
}

// ---- raw WebSocket frames -------------------------------------------------------------------

/// Opens a raw upgraded connection (no WebSocket library): returns the socket after the 101.
async fn raw_upgrade(addr: SocketAddr, path: &str, extra_headers: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol: mqtt\r\n{extra_headers}\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(T, async {
        while !head.ends_with(b"\r\n\r\n") {
            let n = s.read(&mut byte).await.expect("read");
            assert!(n == 1, "closed during the 101");
            head.push(byte[0]);
        }
    })
    .await
    .expect("101 in time");
    let text = String::from_utf8_lossy(&head);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
    s
}

/// A masked client frame.
fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![(if fin { 0x80 } else { 0 }) | opcode];
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    match payload.len() {
        n if n < 126 => f.push(0x80 | n as u8),
        n if n < 65536 => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(0x80 | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}

/// Reads one unmasked server frame: (opcode, payload).
async fn read_frame(s: &mut TcpStream) -> (u8, Vec<u8>) {
    tokio::time::timeout(T, async {
        let mut h = [0u8; 2];
        s.read_exact(&mut h).await.expect("frame header");
        let len = match h[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                s.read_exact(&mut b).await.expect("len16");
                usize::from(u16::from_be_bytes(b))
            }
            127 => {
                let mut b = [0u8; 8];
                s.read_exact(&mut b).await.expect("len64");
                usize::try_from(u64::from_be_bytes(b)).expect("len")
            }
            n => usize::from(n),
        };
        let mut p = vec![0u8; len];
        s.read_exact(&mut p).await.expect("payload");
        (h[0] & 0x0f, p)
    })
    .await
    .expect("a frame in time")
}

/// Reads frames until a close frame; returns its code.
async fn read_close(s: &mut TcpStream) -> (u16, String) {
    for _ in 0..64 {
        let (op, p) = read_frame(s).await;
        if op == 8 {
            let code = p
                .get(..2)
                .map_or(1005, |c| u16::from_be_bytes([c[0], c[1]]));
            return (
                code,
                String::from_utf8_lossy(p.get(2..).unwrap_or(&[])).into_owned(),
            );
        }
    }
    panic!("no close frame in 64 frames");
}

#[tokio::test]
async fn fragmented_messages_are_reassembled_and_fragmented_oversize_is_refused() {
    let (_pki, m) = broker();
    let mut config = config_for(route_to_broker(&m));
    config.limits.max_packet_size = 1024;
    let (addr, h) = start_in_process(config).await;

    // CONNECT in three fragments, with a ping between two of them (control frames may
    // interleave): the bridge reassembles and the broker answers.
    let mut s = raw_upgrade(addr, "/mqtt", "").await;
    let connect = mqtt::connect("hostile-frag", Some((PLATFORM_USER, PLATFORM_PASSWORD)), 30);
    let (a, rest) = connect.split_at(3);
    let (b, c) = rest.split_at(5);
    s.write_all(&frame(false, 2, a)).await.expect("write");
    s.write_all(&frame(false, 0, b)).await.expect("write");
    s.write_all(&frame(true, 9, b"ping")).await.expect("write");
    s.write_all(&frame(true, 0, c)).await.expect("write");
    let mut got_connack = false;
    for _ in 0..4 {
        let (op, p) = read_frame(&mut s).await;
        if op == 2 {
            assert_eq!(mqtt::kind(&p), mqtt::CONNACK, "{p:?}");
            assert_eq!(p.get(3), Some(&0), "CONNACK accepted");
            got_connack = true;
            break;
        }
    }
    assert!(got_connack, "no CONNACK after a fragmented CONNECT");

    // A PUBLISH of 3,000 bytes in 500-byte fragments: refused at the packet limit (1,024).
    let publish = mqtt::publish("platform/frag", &[7u8; 3000], 0, 0);
    let chunks: Vec<&[u8]> = publish.chunks(500).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let op = if i == 0 { 2 } else { 0 };
        if s.write_all(&frame(i + 1 == chunks.len(), op, chunk))
            .await
            .is_err()
        {
            break; // already closed
        }
    }
    let (code, reason) = read_close(&mut s).await;
    assert_eq!(code, close::MESSAGE_TOO_BIG, "{reason}");

    // A fragmented text message is refused like a text frame.
    let mut s = raw_upgrade(addr, "/mqtt", "").await;
    s.write_all(&frame(false, 1, b"hel")).await.expect("write");
    s.write_all(&frame(true, 0, b"lo")).await.expect("write");
    let (code, reason) = read_close(&mut s).await;
    assert_eq!(code, close::UNSUPPORTED_DATA, "{reason}");

    // An unmasked client frame is a WebSocket protocol violation.
    let mut s = raw_upgrade(addr, "/mqtt", "").await;
    s.write_all(&[0x82, 0x02, 0xc0, 0x00]).await.expect("write");
    let (code, reason) = read_close(&mut s).await;
    assert_eq!(code, close::PROTOCOL_ERROR, "{reason}");
    h.shutdown().await;
}

// ---- HTTP request smuggling -----------------------------------------------------------------

/// Everything the bridge writes back until it closes (or 5 s pass).
async fn exchange(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(raw).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    out
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

#[tokio::test]
async fn request_smuggling_on_the_upgrade_goes_nowhere() {
    let (_pki, m) = broker();
    let (addr, h) = start_in_process(config_for(route_to_broker(&m))).await;
    let smuggled = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

    // Content-Length and Transfer-Encoding both, with a second request as the "body": the
    // bytes after the head are WebSocket frames to the bridge (here: invalid ones), never a
    // second HTTP request. At most one HTTP status line comes back, and no metrics.
    let raw = format!(
        "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Protocol: mqtt\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n{smuggled}",
        smuggled.len()
    );
    let out = exchange(addr, raw.as_bytes()).await;
    let text = String::from_utf8_lossy(&out);
    assert_eq!(count(&out, b"HTTP/1.1 "), 1, "{text}");
    assert!(
        !text.contains("sessions_open") && !text.contains("# TYPE"),
        "{text}"
    );
    if text.starts_with("HTTP/1.1 101") {
        // The "body" was read as a WebSocket frame: 'G' = 0x47 has RSV bits set -> 1002.
        let after = &out[out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("head end")
            + 4..];
        assert_eq!(
            after.first().map(|b| b & 0x0f),
            Some(8),
            "a close frame follows: {after:?}"
        );
        let code = u16::from_be_bytes([after[2], after[3]]);
        assert_eq!(code, close::PROTOCOL_ERROR);
    } else {
        assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    }

    // A plain request with a pipelined second one: one answer, then the connection closes.
    let raw = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{smuggled}",
        smuggled.len()
    );
    let out = exchange(addr, raw.as_bytes()).await;
    assert_eq!(
        count(&out, b"HTTP/1.1 "),
        1,
        "{}",
        String::from_utf8_lossy(&out)
    );

    // Obfuscated Transfer-Encoding and a duplicated Content-Length: no second response either.
    let raw = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: {}\r\nTransfer-Encoding : xchunked\r\n\r\n{smuggled}",
        smuggled.len()
    );
    let out = exchange(addr, raw.as_bytes()).await;
    assert!(
        count(&out, b"HTTP/1.1 ") <= 1,
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(!String::from_utf8_lossy(&out).contains("# TYPE"));
    h.shutdown().await;
}

// ---- Origin and product ids -----------------------------------------------------------------

#[tokio::test]
async fn origin_allow_list_is_exact() {
    let (pki, m) = broker();
    let mut strict = route_to_port(m.tls_addr().port(), &pki.ca());
    strict.allowed_origins = vec!["https://app.example.com".into()];
    let (addr, h) = start_in_process(config_for(strict)).await;
    let url = format!("ws://{addr}/mqtt");
    for origin in [
        "null",
        "https://app.example.com.evil.example",
        "https://evil.example/https://app.example.com",
        "http://app.example.com",
        "https://app.example.com:8443",
        "https://xapp.example.com",
        "",
    ] {
        let o = WsOptions {
            origin: Some(origin.into()),
            ..WsOptions::default()
        };
        assert_eq!(
            refused_status(ws_connect(&url, &o).await),
            403,
            "origin {origin:?}"
        );
    }
    // Exact match (any case, trailing slash) passes; no Origin at all is a non-browser client
    // (a browser always sends one), which the allow-list cannot and does not refuse.
    for origin in [
        Some("https://APP.example.com"),
        Some("https://app.example.com/"),
        None,
    ] {
        let o = WsOptions {
            origin: origin.map(String::from),
            ..WsOptions::default()
        };
        let (mut ws, _) = ws_connect(&url, &o)
            .await
            .unwrap_or_else(|e| panic!("{origin:?}: {e}"));
        send_bin(
            &mut ws,
            mqtt::connect(
                "hostile-origin",
                Some((PLATFORM_USER, PLATFORM_PASSWORD)),
                30,
            ),
        )
        .await;
        let p = read_packets(&mut ws, 1, T).await;
        assert_eq!(mqtt::kind(&p[0]), mqtt::CONNACK);
    }
    h.shutdown().await;
}

#[tokio::test]
async fn odd_product_ids_never_reach_a_host_name() {
    let (pki, m) = broker();
    let mut config = config_for(route_to_broker(&m));
    let mut tmpl = route_to_port(m.tls_addr().port(), &pki.ca());
    tmpl.sni = Some("{product}.test".into());
    config.routes.insert("tmpl".into(), tmpl);
    let (addr, h) = start_in_process(config).await;
    for (path, expected) in [
        ("/mqtt/tmpl/%2e%2e", 400),
        ("/mqtt/tmpl/broker%00", 400),
        ("/mqtt/tmpl/br%C3%B6ker", 400),
        ("/mqtt/tmpl/broker;evil", 400),
        ("/mqtt/tmpl/broker.evil", 400),
        ("/mqtt/tmpl/BROKER", 400),
        ("/mqtt/tmpl/broker%20", 400),
        ("/mqtt/tmpl/@evil.example", 400),
        ("/mqtt/tmpl/broker/..", 404),
        ("/mqtt/tmpl//broker", 404),
        ("/mqtt/../mqtt/tmpl/broker", 404),
        ("/mqtt/tmpl\\broker", 404),
        ("//evil.example/mqtt/tmpl/broker", 404),
        ("http://evil.example/mqtt/tmpl/broker", 404),
    ] {
        let raw = format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Protocol: mqtt\r\n\r\n"
        );
        let (status, body) = http_request(addr, &raw).await;
        // 400 (bad product, or a request line the parser refuses) or 404 (no such route): the
        // exact one depends on where the path breaks; what matters is that nothing is dialled.
        assert!(
            status == expected || matches!(status, 400 | 404),
            "{path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
    }
    // Raw bytes outside ASCII in the request line are refused before routing.
    let out = exchange(
        addr,
        b"GET /mqtt/tmpl/br\xc3\xb6ker HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.starts_with("HTTP/1.1 400") || text.starts_with("HTTP/1.1 404"),
        "{text}"
    );
    // The good product still works: `broker` -> SNI `broker.test`.
    let (_ws, _) = ws_connect(
        &format!("ws://{addr}/mqtt/tmpl/broker"),
        &WsOptions::default(),
    )
    .await
    .expect("good product");
    h.shutdown().await;
}
