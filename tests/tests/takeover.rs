//! Takeover by another client ([MQTT-3.1.4-2]: the broker drops the older connection of a
//! client id): a raw MQTT client keeps reconnecting with the id of a running `mqttws sub`. The
//! CLI must not flap with it forever: after 3 connections dropped within 5 s of CONNACK
//! (`mqtt_core::takeover`) it exits with status 9 and says "connected elsewhere", having sent
//! a bounded number of CONNECTs (counted in mosquitto's log).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tests::bridge::mqtt;
use tests::cli;
use tests::mosquitto::Mosquitto;

const USER: &str = "dev1";
const PASSWORD: &str = "dev1-secret";

/// Connects as `client_id` again 100 ms after each drop, until `stop`; counts its CONNECTs.
fn other_client(
    broker: std::net::SocketAddr,
    client_id: String,
    stop: Arc<AtomicBool>,
    connects: Arc<AtomicU32>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            if let Ok(mut stream) = TcpStream::connect(broker) {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                if stream
                    .write_all(&mqtt::connect(&client_id, Some((USER, PASSWORD)), 30))
                    .is_ok()
                {
                    connects.fetch_add(1, Ordering::Relaxed);
                    let mut buf = [0u8; 256];
                    while !stop.load(Ordering::Relaxed) {
                        match stream.read(&mut buf) {
                            Ok(0) => break,
                            Ok(_) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                            Err(_) => break,
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    })
}

#[test]
fn repeated_takeovers_make_mqttws_exit_9_not_flap() {
    let (_pki, broker) = Mosquitto::with_user(USER, PASSWORD);
    let client_id = "takeover-cli";
    let url = cli::plain_url(&broker);
    let mut sub = cli::spawn(&[
        "sub",
        "--url",
        &url,
        "-t",
        &format!("{USER}/takeover"),
        "-i",
        client_id,
        "-u",
        USER,
        "-P",
        PASSWORD,
        "--debug",
    ]);
    assert!(
        sub.wait_stderr(Duration::from_secs(10), |l| l.contains("connected to"))
            .is_some(),
        "mqttws connected: {:?}",
        sub.seen()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let connects = Arc::new(AtomicU32::new(0));
    let other = other_client(
        broker.plain_addr(),
        client_id.to_string(),
        stop.clone(),
        connects.clone(),
    );
    let started = Instant::now();
    let run = sub.wait(Duration::from_secs(30));
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let _ = other.join();
    assert_eq!(run.code, Some(9), "exit status; stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("connected elsewhere"),
        "stderr: {}",
        run.stderr
    );
    let needle = format!(" as {client_id} (");
    let total = broker
        .log_text()
        .lines()
        .filter(|l| l.contains("New client connected") && l.contains(&needle))
        .count();
    let cli_connects = total - connects.load(Ordering::Relaxed) as usize;
    eprintln!(
        "gave up after {took:?}; CONNECTs: mqttws {cli_connects}, the other client {}",
        connects.load(Ordering::Relaxed)
    );
    assert!(cli_connects <= 4, "mqttws sent {cli_connects} CONNECTs");
}
