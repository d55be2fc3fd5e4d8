//! Large MQTT packets through the real bridge (issue 16, "big messages"): a third-party client
//! (Eclipse paho-mqtt 2.1.0 over WebSockets, which sends each MQTT packet as one unfragmented
//! WebSocket frame however large) publishes and receives 1 MiB and 16 MiB payloads through the
//! `ws-bridge` binary to a real mosquitto over TLS, both directions, compared by SHA-256.
//!
//! MQTT 3.1.1 §6.0: an MQTT packet may span WebSocket frames and messages, and a message may
//! hold several packets; the bridge relies on it to stream a large packet in bounded pieces, so
//! its memory per session does not grow with the packet (RFC 6455 §5.4 fragmentation is the
//! client's choice; the bridge cuts even one huge frame into bounded reads).
//!
//! Needs `cargo build -p ws-bridge`, mosquitto and paho-mqtt (`tests::bridge::PAHO_INSTALL`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use tests::bridge::{
    expect_close, http_get, mqtt, read_packets, run_python_client, send_bin, toml_for_broker,
    ws_connect, BridgeProcess, WsOptions,
};
use tests::certs::TestPki;
use tests::mosquitto::{Mosquitto, MosquittoOptions};
use tests::procs::rss_kib;
use tokio::io::AsyncWriteExt;
use ws_bridge::close;

const MIB: usize = 1 << 20;

fn broker() -> (TestPki, Mosquitto) {
    let pki = TestPki::generate();
    let opts = MosquittoOptions {
        users: vec![("paho".into(), "paho-secret".into())],
        ..MosquittoOptions::default()
    };
    let m = Mosquitto::start(&pki, opts);
    (pki, m)
}

/// One paho subscriber and one paho publisher (two bridge sessions) move `size` random bytes at
/// QoS 1; returns the client's JSON line after checking the SHA-256 of what arrived.
fn paho_large(bridge: &BridgeProcess, size: usize, tag: &str) -> String {
    let args: Vec<String> = [
        "--port",
        &bridge.addr.port().to_string(),
        "--username",
        "paho",
        "--password",
        "paho-secret",
        "--topic",
        &format!("paho/{tag}"),
        "--size",
        &size.to_string(),
        "--timeout",
        "200",
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    let (ok, out, err) = run_python_client("paho_large.py", &args, Duration::from_secs(240));
    let log = bridge.log_text();
    let tail: String = log
        .lines()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        ok,
        "paho {size}-byte message through the bridge failed\nstdout: {out}\nstderr: {err}\nbridge log (tail):\n{tail}"
    );
    let line = out.lines().last().unwrap_or_default().to_string();
    let field = |name: &str| {
        line.split(&format!("\"{name}\": \""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default()
            .to_string()
    };
    assert!(line.contains("\"ok\": true"), "{line}");
    assert!(line.contains(&format!("\"size\": {size}")), "{line}");
    assert_eq!(field("sent_sha256").len(), 64, "{line}");
    assert_eq!(field("sent_sha256"), field("received_sha256"), "{line}");
    line
}

/// Samples the process's RSS every few milliseconds until dropped; `peak` is the highest seen.
struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<u64>>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid).unwrap_or(0));
                thread::sleep(Duration::from_millis(3));
            }
            peak.max(rss_kib(pid).unwrap_or(0))
        });
        RssSampler {
            stop,
            thread: Some(thread),
        }
    }

    fn peak(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or(0)
    }
}

/// Runs `pairs` paho publisher/subscriber pairs at once, each moving `size` bytes; returns the
/// bridge's peak RSS growth (KiB) over `base` while they ran.
fn streamed_growth(bridge: &BridgeProcess, pairs: usize, size: usize, base: u64) -> u64 {
    let sampler = RssSampler::start(bridge.child.pid());
    thread::scope(|s| {
        let runs: Vec<_> = (0..pairs)
            .map(|i| s.spawn(move || paho_large(bridge, size, &format!("p{pairs}-{i}"))))
            .collect();
        for r in runs {
            let line = r.join().expect("paho run");
            println!("  {line}");
        }
    });
    sampler.peak().saturating_sub(base)
}

/// The default bridge carries a 1 MiB payload from a standard client, both ways (before: the
/// 1 MiB default limit counted the packet's header too, and the publish was closed with 1009).
#[test]
fn a_1_mib_payload_passes_through_the_default_bridge_both_ways() {
    let (_pki, m) = broker();
    let b = BridgeProcess::with_config_toml(&toml_for_broker(&m, ""));
    let base = b.rss_kib();
    let growth = streamed_growth(&b, 1, MIB, base);
    println!("1 MiB payload through the default bridge: bridge RSS base {base} KiB, peak growth {growth} KiB (one publisher + one subscriber session)");
    assert!(
        growth < 4 * 1024,
        "bridge RSS grew by {growth} KiB for a 1 MiB payload"
    );
}

/// 16 MiB payloads (one WebSocket frame each from paho) stream through with memory per session
/// bounded by a constant: one pair, then 8 pairs at once (8 sessions uploading, 8 downloading).
#[test]
fn a_16_mib_payload_streams_through_with_bounded_memory_per_session() {
    let (_pki, m) = broker();
    // The packet limit fits a 16 MiB payload; memory must not depend on it.
    let b = BridgeProcess::with_config_toml(&toml_for_broker(
        &m,
        "max_packet_size = 33554432\nmax_connections_per_ip = 1000",
    ));
    // Warm up (TLS, allocator arenas, buffer stocks), then take the baseline.
    paho_large(&b, 256 * 1024, "warm");
    thread::sleep(Duration::from_millis(300));
    let base = b.rss_kib();

    let one = streamed_growth(&b, 1, 16 * MIB, base);
    thread::sleep(Duration::from_millis(300));
    let base8 = b.rss_kib();
    let eight = streamed_growth(&b, 8, 16 * MIB, base8);
    let per_session = eight / 8;
    println!(
        "16 MiB payloads through the bridge: RSS base {base} KiB; 1 pair (1 session up, 1 down): peak growth {one} KiB; \
         8 pairs at once (8 sessions up, 8 down; base {base8} KiB): peak growth {eight} KiB = {per_session} KiB per streaming session"
    );
    assert!(
        one < 2 * 1024 * 2,
        "one 16 MiB publish grew the bridge by {one} KiB (the bound is 2 MiB per session)"
    );
    assert!(
        per_session < 2 * 1024,
        "8 concurrent 16 MiB publishes grew the bridge by {eight} KiB ({per_session} KiB per session; the bound is 2 MiB)"
    );
}

/// Our own native client (`mqttws`, the same sans-IO core as the browser client) reassembles a
/// packet that the bridge streams as several WebSocket messages: the core's decoder reads the
/// MQTT byte stream across reads (MQTT 3.1.1 §6.0). A 1 MiB payload (Murano's largest value),
/// under the core's default `max_incoming_packet` (2 MiB, the bridge's default packet limit; it
/// was 1 MiB, which refused this packet).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_native_client_reassembles_a_packet_streamed_in_several_messages() {
    let (_pki, m) = broker();
    let b = BridgeProcess::with_config_toml(&toml_for_broker(&m, ""));
    let url = format!("ws://{}/mqtt", b.addr);
    let args = [
        "sub",
        "--url",
        &url,
        "-t",
        "paho/native",
        "-q",
        "1",
        "-C",
        "1",
        "-u",
        "paho",
        "-P",
        "paho-secret",
        "-d",
    ];
    let mut sub = tests::cli::spawn(&args);
    tokio::task::block_in_place(|| {
        sub.wait_stderr(Duration::from_secs(15), |l| l.contains("subscribed"))
    })
    .expect("subscribed");
    let payload: String = (0..1024 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let dir = tests::certs::TempDir::new("large-native");
    let file = dir.path().join("payload");
    std::fs::write(&file, &payload).expect("payload file");
    let status = std::process::Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &m.plain_addr().port().to_string()])
        .args([
            "-u",
            "paho",
            "-P",
            "paho-secret",
            "-t",
            "paho/native",
            "-q",
            "1",
        ])
        .arg("-f")
        .arg(&file)
        .status()
        .expect("mosquitto_pub");
    assert!(status.success());
    let finished = tokio::task::block_in_place(|| sub.wait(Duration::from_secs(20)));
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    let lines = finished.lines();
    assert_eq!(lines.len(), 1, "one message");
    assert!(
        lines[0] == payload,
        "payload differs ({} bytes)",
        lines[0].len()
    );
    let (_, body) = http_get(b.addr, "/metrics").await;
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("ws_bridge_large_packets_down_total 1"),
        "the packet went out in pieces: {text}"
    );
}

/// One WebSocket frame announcing 1 GiB whose MQTT packet announces more than the limit: the
/// bridge closes 1009 from the packet's header as soon as the piece carrying it (at most
/// `max_batch` bytes) is in, without waiting for (or buffering) the rest of the frame (RFC 6455
/// §5.2 allows the 64-bit length; the size limit is MQTT's, checked per packet).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_frame_carrying_an_oversized_packet_is_refused_from_its_header() {
    let (_pki, m) = broker();
    let b = BridgeProcess::with_config_toml(&toml_for_broker(&m, ""));
    let (mut ws, _) = ws_connect(&b.url, &WsOptions::default())
        .await
        .expect("upgrade");
    send_bin(
        &mut ws,
        mqtt::connect("huge", Some(("paho", "paho-secret")), 30),
    )
    .await;
    assert_eq!(
        mqtt::kind(&read_packets(&mut ws, 1, Duration::from_secs(10)).await[0]),
        mqtt::CONNACK
    );
    // A masked binary frame header with a 64-bit length, then the start of its payload: a
    // PUBLISH announcing 200 MiB (mask key 0: the payload bytes are sent as they are).
    let mut raw = vec![0x82, 0x80 | 127];
    raw.extend((1u64 << 30).to_be_bytes());
    raw.extend([0, 0, 0, 0]);
    raw.extend([0x30, 0x80, 0x80, 0xC0, 0x64]);
    raw.extend(vec![0u8; 70_000]);
    ws.get_mut().write_all(&raw).await.expect("raw frame");
    let (code, reason) = expect_close(&mut ws, Duration::from_secs(10)).await;
    assert_eq!(code, close::MESSAGE_TOO_BIG, "{reason}");
    assert!(reason.contains("packet too large"), "{reason}");
}
