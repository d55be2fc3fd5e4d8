//! Throughput of the sans-IO core alone, natively: decoding and delivering 1 KiB QoS 1 publishes
//! from the broker, and encoding 1 KiB QoS 1 publishes to it (acknowledged as they go). Shows the
//! core is never the bottleneck of a bridge or browser path.
//!
//! `cargo bench -p mqtt-core --bench core [-- OUTPUT.json]` prints figures and optionally
//! writes them as JSON for scripts/bench.sh. Each case runs a fixed number of messages several
//! times and reports the median and range.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::Instant as Clock;

use mqtt_core::codec::encode;
use mqtt_core::packet::{Connack, ConnectReturnCode, Packet, Pid, QosPid};
use mqtt_core::{Event, Instant, Options, QoS, Session, TransportAction};

const MESSAGES: usize = 200_000;
const RUNS: usize = 7;
const PAYLOAD: usize = 1024;

fn connected_session() -> Session {
    let mut options = Options::new("bench");
    options.max_inflight = 1024;
    options.max_queued = MESSAGES;
    let mut session = Session::new(options);
    let now = Instant::from_millis(0);
    session.connect(now);
    assert_eq!(session.poll_transport(), Some(TransportAction::Open));
    session.handle_transport_open(now);
    let connack = Packet::Connack(Connack {
        session_present: false,
        code: ConnectReturnCode::Accepted,
    });
    session.handle_bytes(now, &encode(&connack).unwrap_or_default());
    while session.poll_event().is_some() {}
    while session.poll_transmit().is_some() {}
    session
}

/// Broker → client: a stream of QoS 1 publishes in 16 KiB chunks; every message delivered and
/// acknowledged.
fn decode_and_deliver() -> f64 {
    let payload = vec![0x5a; PAYLOAD];
    let mut wire = Vec::with_capacity(MESSAGES * (PAYLOAD + 32));
    for i in 0..MESSAGES {
        let pid = Pid::try_from((i % 65_535) as u16 + 1).unwrap_or_default();
        let packet = Packet::Publish(mqtt_core::packet::Publish {
            dup: false,
            qospid: QosPid::AtLeastOnce(pid),
            retain: false,
            topic_name: "007/temperature",
            payload: &payload,
        });
        wire.extend(encode(&packet).expect("encodable"));
    }
    let mut session = connected_session();
    let now = Instant::from_millis(1);
    let start = Clock::now();
    let mut delivered = 0;
    for chunk in wire.chunks(16 * 1024) {
        session.handle_bytes(now, chunk);
        while let Some(event) = session.poll_event() {
            if matches!(event, Event::Message(_)) {
                delivered += 1;
            }
        }
        while session.poll_transmit().is_some() {}
    }
    assert_eq!(delivered, MESSAGES);
    MESSAGES as f64 / start.elapsed().as_secs_f64()
}

/// Client → broker: publish, transmit, and acknowledge each message.
fn encode_and_acknowledge() -> f64 {
    let payload = vec![0x5a; PAYLOAD];
    let mut session = connected_session();
    let now = Instant::from_millis(1);
    let start = Clock::now();
    for acked in 0..MESSAGES {
        session
            .publish(now, "007/temperature", &payload, QoS::AtLeastOnce, false)
            .expect("accepted");
        while let Some(bytes) = session.poll_transmit() {
            // The broker's PUBACK carries the packet id at bytes 2..4 of the sent PUBLISH frame's
            // variable header; here the ids are known to be sequential.
            std::hint::black_box(&bytes);
        }
        let pid = Pid::try_from((acked % 65_535) as u16 + 1).unwrap_or_default();
        session.handle_bytes(now, &encode(&Packet::Puback(pid)).expect("encodable"));
        while session.poll_event().is_some() {}
    }
    assert_eq!(session.pending_count(), 0);
    MESSAGES as f64 / start.elapsed().as_secs_f64()
}

fn summarize(name: &str, mut rates: Vec<f64>) -> String {
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    let mib = median * PAYLOAD as f64 / (1024.0 * 1024.0);
    println!(
        "{name:<28} median {median:>12.0} msg/s ({mib:>7.1} MiB/s payload)  min {:>12.0}  max {:>12.0}",
        rates[0],
        rates[rates.len() - 1]
    );
    format!(
        "{{\"case\":\"{name}\",\"median\":{median:.0},\"min\":{:.0},\"max\":{:.0},\"payload_bytes\":{PAYLOAD}}}",
        rates[0],
        rates[rates.len() - 1]
    )
}

fn main() {
    let output = std::env::args().skip(1).find(|a| a.ends_with(".json"));
    let decode: Vec<f64> = (0..RUNS).map(|_| decode_and_deliver()).collect();
    let encode_rates: Vec<f64> = (0..RUNS).map(|_| encode_and_acknowledge()).collect();
    let rows = [
        summarize("decode + deliver (QoS 1)", decode),
        summarize("encode + ack (QoS 1)", encode_rates),
    ];
    if let Some(path) = output {
        let json = format!("[{}]\n", rows.join(","));
        if let Err(e) = std::fs::write(&path, json) {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(1);
        }
    }
}
