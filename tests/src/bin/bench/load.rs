//! The load client: the same native MQTT client (client-wasm's `native::Driver`) for every path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use client_wasm::native::{Connector, Driver, Output};
use client_wasm::{Event, Options, QoS, Session};
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

/// Opens `count` idle sessions (CONNECT, CONNACK) and keeps them open until stdin closes.
pub async fn hold_idle_sessions(target: Target, count: usize) -> usize {
    let connected = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let connector = target.connector.clone();
        let connected = connected.clone();
        tasks.push(tokio::spawn(async move {
            let mut options = options(&format!("idle-{i}"));
            options.keep_alive_secs = 600;
            let mut driver = Driver::plain(connector, Session::new(options));
            driver.connect();
            while let Some(output) = driver.next().await {
                match output {
                    Output::Event(Event::Connected { .. }) => {
                        connected.fetch_add(1, Ordering::Relaxed);
                    }
                    Output::Event(Event::ConnectionLost { .. }) => return,
                    _ => {}
                }
            }
        }));
        if i % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let start = Instant::now();
    while (connected.load(Ordering::Relaxed) as usize) < count
        && start.elapsed() < Duration::from_secs(90)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    connected.load(Ordering::Relaxed) as usize
}
