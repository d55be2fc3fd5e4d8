//! Seed 003: `mqttws echo-host` and `mqttws device` side by side for about five seconds, over
//! mutual TLS as in the sample (CA file, client certificate and key), against mosquitto.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use mqtt_flows::rotate::{rotate, Direction};
use tests::certs::TestPki;
use tests::cli;
use tests::mosquitto::{Mosquitto, MosquittoOptions, BROKER_NAME};

const LIMIT: Duration = Duration::from_secs(30);
const FIRST: &str = "Hello from Azure Sphere";

fn sequence(lines: &[&str], prefix: &str) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix(prefix))
        .map(str::to_string)
        .collect()
}

fn rotated(times: usize, direction: Direction) -> String {
    let mut text = FIRST.as_bytes().to_vec();
    for _ in 0..times {
        text = rotate(&text, direction);
    }
    String::from_utf8(text).unwrap_or_default()
}

fn run_pair(direction: &str, expected: Direction) {
    let pki = TestPki::generate();
    // The ACL gives a user its own tree: user `azuresphere` may use `azuresphere/#`.
    let users = vec![("azuresphere".to_string(), "sphere-secret".to_string())];
    let broker = Mosquitto::start(
        &pki,
        MosquittoOptions {
            mtls: true,
            users,
            ..MosquittoOptions::default()
        },
    );
    let addr = broker.mtls_addr().expect("mutual TLS listener");
    let url = format!("mqtts://{BROKER_NAME}:{}", addr.port());
    let (connect_to, ca) = (addr.to_string(), broker.ca_path().display().to_string());
    let client = pki.client();
    let (cert, key) = (
        client.cert.display().to_string(),
        client.key.display().to_string(),
    );
    let tls = [
        "--url",
        &url,
        "--connect-to",
        &connect_to,
        "--cafile",
        &ca,
        "--cert",
        &cert,
        "--key",
        &key,
        "-u",
        "azuresphere",
        "-P",
        "sphere-secret",
    ];

    let mut host_args = vec!["echo-host", "-d", "-i", "echo-host", "--rotate", direction];
    host_args.extend(tls);
    let mut host = cli::spawn(&host_args);
    let ready = host.wait_stderr(LIMIT, |l| {
        l.contains("subscribed to azuresphere/sample/host")
    });
    assert!(ready.is_some(), "echo host not subscribed");

    let started = Instant::now();
    let mut device_args = vec![
        "device",
        "-i",
        "device",
        "--interval-ms",
        "500",
        "--count",
        "10",
    ];
    device_args.extend(tls);
    let device = cli::run(&device_args, "", LIMIT);
    let elapsed = started.elapsed();
    let host = host.wait(Duration::ZERO);

    assert_eq!(device.code, Some(0), "{device:?}\nhost: {host:?}");
    let lines = device.lines();
    let sent = sequence(&lines, "sent: ");
    let received = sequence(&lines, "received: ");
    // Every round trip turns the message by one more character.
    let want: Vec<String> = (1..=10).map(|k| rotated(k, expected)).collect();
    assert_eq!(received, want, "{device:?}");
    assert_eq!(sent.first().map(String::as_str), Some(FIRST));
    for (k, s) in sent.iter().enumerate() {
        assert_eq!(s, &rotated(k, expected), "sent #{k}: {device:?}");
    }
    // What the device printed alternates: sent, received, sent, received...
    let kinds: Vec<bool> = lines.iter().map(|l| l.starts_with("sent: ")).collect();
    assert!(kinds.windows(2).all(|w| w[0] != w[1]), "{lines:?}");
    assert!(
        elapsed >= Duration::from_millis(4_400) && elapsed < Duration::from_secs(15),
        "{elapsed:?}"
    );

    // The echo host printed each pair.
    let host_lines = host.lines();
    let host_received = sequence(&host_lines, "received: ");
    let host_sent = sequence(&host_lines, "sent: ");
    assert!(host_received.len() >= 10, "{host:?}");
    for (r, s) in host_received.iter().zip(&host_sent) {
        assert_eq!(s.as_bytes(), rotate(r.as_bytes(), expected), "{host:?}");
    }
    eprintln!(
        "seed 003 pair ({direction}): 10 round trips in {elapsed:?}: {}",
        received.join(" | ")
    );
}

#[test]
fn seed_003_device_sees_its_message_rotate_left_once_per_round_trip() {
    run_pair("left", Direction::Left);
}

#[test]
fn echo_host_can_rotate_right_like_the_sample_code() {
    run_pair("right", Direction::Right);
}
