//! 10,000 messages at QoS 1 and at QoS 2 through mosquitto with the native driver in process:
//! none lost, and at QoS 2 none duplicated. Plus `mqttws pub -n` / `sub -C` through the CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqtt_core::{Event, Options, QoS, Session};
use mqttws::{Connector, Driver, Output, Step, TlsOptions};
use tests::bridge::{toml_for_broker, BridgeProcess};
use tests::certs::TestPki;
use tests::cli;
use tests::mosquitto::{Mosquitto, MosquittoOptions, PLATFORM_PASSWORD, PLATFORM_USER};

const MESSAGES: u64 = 10_000;
/// The publisher stays at most this many messages ahead of the subscriber.
const AHEAD: u64 = 2_000;

fn driver(addr: SocketAddr, client_id: &str) -> Driver<mqttws::NoFlow> {
    let url = format!("mqtt://{addr}").parse().expect("url");
    let connector = Connector::new(url, &TlsOptions::default(), None).expect("connector");
    // The platform user may use any topic under the Murano-like ACL.
    let mut options = Options::new(client_id).with_credentials(PLATFORM_USER, PLATFORM_PASSWORD);
    options.keep_alive_secs = 30;
    // mosquitto 2.0 accepts 20 QoS 2 messages in flight from an MQTT 3.1.1 client (its
    // max_inflight_messages) and silently drops the ones beyond (PUBREC "quota exceeded").
    options.max_inflight = 20;
    Driver::plain(connector, Session::new(options))
}

fn continue_publishing(
    publisher: &mut Driver<mqttws::NoFlow>,
    next: &mut u64,
    connected: bool,
    received: &AtomicU64,
    qos: QoS,
    topic: &str,
) {
    while connected
        && *next < MESSAGES
        && publisher.session().pending_count() < 500
        && *next < received.load(Ordering::Relaxed) + AHEAD
    {
        publisher
            .publish(topic, next.to_string().as_bytes(), qos, false)
            .expect("publish");
        *next += 1;
    }
}

/// Returns (received count per index, duplicates flagged by the broker, elapsed).
async fn stream(addr: SocketAddr, qos: QoS, topic: &str) -> (Vec<u32>, u64, Duration) {
    let received = Arc::new(AtomicU64::new(0));
    let mut sub = driver(addr, &format!("sub-{topic}"));
    sub.subscribe(&[(topic, qos)]).expect("filter");
    sub.connect();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let counter = received.clone();
    let (progress_tx, mut progress) = tokio::sync::mpsc::unbounded_channel::<()>();
    let _open = progress_tx.clone(); // the channel stays open while the publisher runs
    let subscriber = tokio::spawn(async move {
        let mut ready = Some(ready_tx);
        let mut seen = vec![0u32; MESSAGES as usize];
        let mut dups = 0u64;
        while let Some(output) = sub.next().await {
            match output {
                Output::Event(Event::Subscribed { .. }) => {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(());
                    }
                }
                Output::Event(Event::Message(m)) => {
                    let index: usize = std::str::from_utf8(&m.payload)
                        .ok()
                        .and_then(|t| t.parse().ok())
                        .expect("index");
                    seen[index] += 1;
                    dups += u64::from(m.dup);
                    let count = counter.fetch_add(1, Ordering::Relaxed) + 1;
                    if count.is_multiple_of(100) {
                        let _ = progress_tx.send(()); // wakes a publisher waiting for us
                    }
                    if count >= MESSAGES && seen.iter().all(|&n| n > 0) {
                        sub.disconnect();
                    }
                }
                Output::Event(Event::ConnectionLost { error, .. }) => {
                    panic!("subscriber lost: {error}")
                }
                _ => {}
            }
        }
        (seen, dups)
    });
    ready_rx.await.expect("subscribed");

    let started = Instant::now();
    let mut publisher = driver(addr, &format!("pub-{topic}"));
    publisher.connect();
    let (mut next, mut acked) = (0u64, 0u64);
    let mut connected = false;
    while let Some(step) = publisher.next_or(&mut progress).await {
        let Step::Output(output) = step else {
            // Progress from the subscriber (or its end): publish more below.
            continue_publishing(&mut publisher, &mut next, connected, &received, qos, topic);
            continue;
        };
        match output {
            Output::Event(Event::Connected { .. }) => connected = true,
            Output::Event(Event::Published { .. }) => {
                acked += 1;
                if acked == MESSAGES {
                    publisher.disconnect();
                }
            }
            Output::Event(Event::ConnectionLost { error, .. }) => panic!("publisher lost: {error}"),
            _ => {}
        }
        continue_publishing(&mut publisher, &mut next, connected, &received, qos, topic);
    }
    let (seen, dups) = subscriber.await.expect("subscriber task");
    (seen, dups, started.elapsed())
}

fn run(qos: QoS, topic: &str) -> (Vec<u32>, u64, Duration) {
    let pki = TestPki::generate();
    let broker = Mosquitto::start(&pki, MosquittoOptions::default());
    let addr = broker.plain_addr();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(120), stream(addr, qos, topic))
            .await
            .expect("stream within 120 s")
    })
}

#[test]
fn qos1_10k_messages_none_lost() {
    let (seen, dups, elapsed) = run(QoS::AtLeastOnce, "load/q1");
    let lost = seen.iter().filter(|&&n| n == 0).count();
    assert_eq!(lost, 0, "lost {lost} of {MESSAGES}");
    let extra: u32 = seen.iter().map(|n| n.saturating_sub(1)).sum();
    eprintln!(
        "QoS 1: {MESSAGES} messages in {elapsed:?} ({extra} redelivered, {dups} flagged DUP)"
    );
}

#[test]
fn qos2_10k_messages_none_lost_none_duplicated() {
    let (seen, _dups, elapsed) = run(QoS::ExactlyOnce, "load/q2");
    let lost = seen.iter().filter(|&&n| n == 0).count();
    let duplicated = seen.iter().filter(|&&n| n > 1).count();
    assert_eq!(
        (lost, duplicated),
        (0, 0),
        "QoS 2: lost {lost}, duplicated {duplicated}"
    );
    eprintln!("QoS 2: {MESSAGES} messages in {elapsed:?}, exactly once each");
}

/// `mqttws pub -n` and `sub -C` over mqtt://, and over ws:// through the real ws-bridge (Debian's
/// mosquitto 2.0.11 cannot bind a websockets listener to 127.0.0.1 only, so the harness has none).
#[test]
fn cli_pub_n_and_sub_c_over_tcp_and_websocket() {
    let pki = TestPki::generate();
    let broker = Mosquitto::start(
        &pki,
        MosquittoOptions {
            websockets: true,
            ..MosquittoOptions::default()
        },
    );
    let bridge = BridgeProcess::with_config_toml(&toml_for_broker(&broker, ""));
    let mut urls = vec![cli::plain_url(&broker), bridge.url.clone()];
    if let Some(ws) = broker.ws_addr() {
        urls.push(format!("ws://{ws}/mqtt"));
    }
    let creds = ["-u", PLATFORM_USER, "-P", PLATFORM_PASSWORD];
    for url in urls {
        let count = "2000";
        let mut args = vec![
            "sub",
            "--url",
            &url,
            "-t",
            "cli/load",
            "-q",
            "1",
            "-C",
            count,
            "-d",
            "--timeout",
            "60",
        ];
        args.extend(creds);
        let mut sub = cli::spawn(&args);
        let ready = sub.wait_stderr(Duration::from_secs(20), |l| l.contains("subscribed to"));
        assert!(ready.is_some(), "{url}: not subscribed");
        let started = Instant::now();
        let mut args = vec![
            "pub", "--url", &url, "-t", "cli/load", "-m", "msg", "-q", "1", "-n", count,
        ];
        args.extend(creds);
        let publish = cli::run(&args, "", Duration::from_secs(60));
        assert_eq!(publish.code, Some(0), "{url}: {publish:?}");
        let got = sub.wait(Duration::from_secs(60));
        assert_eq!(got.code, Some(0), "{url}: {got:?}");
        let lines = got.lines();
        let want: Vec<String> = (1..=2000).map(|i| format!("msg {i}")).collect();
        assert_eq!(lines, want, "{url}: in order, none lost");
        eprintln!(
            "{url}: pub -n 2000 / sub -C 2000 at QoS 1 in {:?}",
            started.elapsed()
        );

        // A retained message and -v.
        let mut args = vec!["pub", "--url", &url, "-t", "cli/state", "-m", "on", "-r"];
        args.extend(creds);
        let retained = cli::run(&args, "", Duration::from_secs(20));
        assert_eq!(retained.code, Some(0), "{retained:?}");
        let mut args = vec![
            "sub",
            "--url",
            &url,
            "-t",
            "cli/+",
            "-v",
            "-C",
            "1",
            "--timeout",
            "10",
        ];
        args.extend(creds);
        let read = cli::run(&args, "", Duration::from_secs(20));
        assert_eq!(
            (read.code, read.stdout.as_str()),
            (Some(0), "cli/state on\n"),
            "{read:?}"
        );
    }
}
