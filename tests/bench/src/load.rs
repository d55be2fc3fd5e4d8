//! The load client: the same native MQTT client (client-wasm's `native::Driver`) for every path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mqtt_core::{Event, Options, QoS, Session};
use mqttws::{Connector, Driver, Output};
use tests::mosquitto::{PLATFORM_PASSWORD, PLATFORM_USER};

/// How a path is reached.
#[derive(Clone)]
pub struct Target {
    pub name: &'static str,
    pub connector: Connector,
}

/// Totals of one throughput run.
#[derive(Debug, Default)]
pub struct Totals {
    pub messages: AtomicU64,
    pub bytes: AtomicU64,
    pub failures: AtomicU64,
}

/// Every bench client logs in as the harness's privileged user (the ACL allows it `#`).
fn options(id: &str) -> Options {
    let mut options = Options::new(id).with_credentials(PLATFORM_USER, PLATFORM_PASSWORD);
    options.keep_alive_secs = 120;
    options.reconnect.enabled = false;
    options.max_inflight = 1024;
    options.max_queued = 1024;
    options.max_incoming_packet = 1 << 20;
    options
}

/// One session publishing QoS 0 messages to a topic it subscribes to, keeping `window` in
/// flight (sent and not yet received back), until `until`. Counts what comes back after `from`.
pub async fn round_trip_session(
    target: Target,
    id: String,
    size: usize,
    window: usize,
    from: Instant,
    until: Instant,
    totals: Arc<Totals>,
) {
    let topic = format!("bench/{id}");
    let payload = vec![0x42u8; size];
    let mut driver = Driver::plain(target.connector, Session::new(options(&id)));
    driver.connect();
    let deadline = tokio::time::Instant::from_std(until);
    loop {
        let next = tokio::time::timeout_at(deadline, driver.next()).await;
        let Ok(Some(output)) = next else { break };
        match output {
            Output::Event(Event::Connected { .. }) => {
                let subscribed = driver.subscribe(&[(&topic, QoS::AtMostOnce)]);
                if subscribed.is_err() {
                    totals.failures.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            Output::Event(Event::Subscribed { .. }) => {
                for _ in 0..window {
                    let _ = driver.publish(&topic, &payload, QoS::AtMostOnce, false);
                }
            }
            Output::Event(Event::Message(m)) => {
                if Instant::now() >= from {
                    totals.messages.fetch_add(1, Ordering::Relaxed);
                    totals
                        .bytes
                        .fetch_add(m.payload.len() as u64, Ordering::Relaxed);
                }
                let _ = driver.publish(&topic, &payload, QoS::AtMostOnce, false);
            }
            Output::Event(Event::ConnectionLost { .. }) => {
                totals.failures.fetch_add(1, Ordering::Relaxed);
                return;
            }
            _ => {}
        }
    }
    driver.disconnect();
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while driver.next().await.is_some() {}
    })
    .await;
}

/// Publish → receive round trips with one message in flight: `samples` latencies, or fewer if
/// `budget` runs out.
pub async fn latency_samples(target: Target, samples: usize, budget: Duration) -> Vec<Duration> {
    let topic = "bench/latency";
    let payload = vec![0x42u8; 64];
    let mut driver = Driver::plain(target.connector, Session::new(options("bench-latency")));
    driver.connect();
    let deadline = tokio::time::Instant::now() + budget;
    let mut out = Vec::with_capacity(samples);
    let mut sent_at = Instant::now();
    let warmup = 200;
    let mut seen = 0usize;
    while out.len() < samples {
        let Ok(Some(output)) = tokio::time::timeout_at(deadline, driver.next()).await else {
            break;
        };
        match output {
            Output::Event(Event::Connected { .. }) => {
                let _ = driver.subscribe(&[(topic, QoS::AtMostOnce)]);
            }
            Output::Event(Event::Subscribed { .. }) => {
                sent_at = Instant::now();
                let _ = driver.publish(topic, &payload, QoS::AtMostOnce, false);
            }
            Output::Event(Event::Message(_)) => {
                if seen >= warmup {
                    out.push(sent_at.elapsed());
                }
                seen += 1;
                sent_at = Instant::now();
                let _ = driver.publish(topic, &payload, QoS::AtMostOnce, false);
            }
            Output::Event(Event::ConnectionLost { .. }) => break,
            _ => {}
        }
    }
    driver.disconnect();
    out
}

/// Connection handshakes (TCP, WebSocket, the relay's TLS to the broker, CONNECT/CONNACK) in
/// progress at once while opening idle sessions. Starting all 5,000 together queued them behind
/// one another (and behind mosquitto's listen backlog) until many overran the client's 10 s
/// connect timeout; a bounded number in flight keeps each one short.
const CONNECTING: usize = 64;
/// Time allowed to open all idle sessions.
const IDLE_ALLOWANCE: Duration = Duration::from_secs(90);

/// Opens `count` idle sessions (CONNECT, CONNACK) and keeps them open until stdin closes; a
/// session whose connection fails is opened again (after 100 ms) until the allowance is spent.
/// Returns how many are connected; failures are summarised on stderr.
pub async fn hold_idle_sessions(target: Target, count: usize) -> usize {
    let connected = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<
        &'static str,
        (u64, String),
    >::new()));
    let gate = Arc::new(tokio::sync::Semaphore::new(CONNECTING));
    let start = Instant::now();
    let deadline = start + IDLE_ALLOWANCE;
    for i in 0..count {
        let connector = target.connector.clone();
        let (connected, failures, gate) = (connected.clone(), failures.clone(), gate.clone());
        tokio::spawn(async move {
            while Instant::now() < deadline {
                let Ok(permit) = gate.clone().acquire_owned().await else {
                    return;
                };
                let mut permit = Some(permit);
                let mut options = options(&format!("idle-{i}"));
                options.keep_alive_secs = 600;
                let mut driver = Driver::plain(connector.clone(), Session::new(options));
                driver.connect();
                let mut up = false;
                while let Some(output) = driver.next().await {
                    match output {
                        Output::Event(Event::Connected { .. }) => {
                            connected.fetch_add(1, Ordering::Relaxed);
                            up = true;
                            permit = None;
                        }
                        Output::Event(Event::ConnectionLost { error, .. }) => {
                            if up {
                                connected.fetch_sub(1, Ordering::Relaxed);
                            }
                            if let Ok(mut f) = failures.lock() {
                                let entry = f.entry(error.code()).or_insert((0, String::new()));
                                entry.0 += 1;
                                entry.1 = error.to_string();
                            }
                            break;
                        }
                        _ => {}
                    }
                }
                drop(permit);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }
    while (connected.load(Ordering::Relaxed) as usize) < count && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let n = connected.load(Ordering::Relaxed) as usize;
    eprintln!(
        "idle: {n} of {count} sessions connected in {:.1} s ({CONNECTING} handshakes at a time)",
        start.elapsed().as_secs_f64()
    );
    if let Ok(f) = failures.lock() {
        for (code, (times, last)) in f.iter() {
            eprintln!("idle: {times} connection failures ({code}), last: {last}");
        }
    }
    n
}
