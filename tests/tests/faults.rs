//! Fault injection on loopback with the native client (`mqttws::Driver`, in
//! process): persistent sessions (`clean_session = false`, fixed client ids), reconnect on with
//! a short backoff, a continuous QoS 1 and QoS 2 stream, and faults in the middle of it.
//!
//! * `bridge_kill9_under_qos1_and_qos2_streams`: the real `ws-bridge` binary is killed with
//!   SIGKILL five times and restarted on the same port; publisher and subscriber both go through
//!   it and reconnect by themselves. QoS 1: none lost (duplicates counted); QoS 2: none lost,
//!   none duplicated.
//! * `mosquitto_restart_under_qos1_and_qos2_streams`: the broker (persistence on) stops for
//!   600 ms and restarts, three times, under the same stream (publisher through the bridge,
//!   subscriber direct over TLS); same guarantees.
//! * `network_stall_is_detected_within_1_5_keepalive_and_recovers`: a proxy stops forwarding
//!   without closing; the client declares the link dead within 1.5 keepalive intervals, and
//!   reconnects once the proxy forwards again, losing no QoS 1 message.
//!
//! Every wait is bounded; the tests in this file run one at a time (they measure timings).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mqtt_core::reconnect::ReconnectPolicy;
use mqtt_core::{CommandError, Event, Options, QoS, Session};
use mqttws::{BrokerUrl, ConnectTo, Connector, Driver, NoFlow, Output, Step, TlsOptions};
use tests::bridge::{toml_for_broker, BridgeProcess};
use tests::certs::TestPki;
use tests::mosquitto::{Mosquitto, BROKER_NAME};
use tests::procs::free_port;
use tests::stall_proxy::StallProxy;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::task::JoinHandle;

const USER: &str = "faults";
const PASSWORD: &str = "faults-secret";
const Q1: &str = "faults/q1";
const Q2: &str = "faults/q2";

/// The tests of this file measure timings: run them one at a time (an async lock: it is held
/// across awaits, and each test has its own runtime).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn broker() -> (TestPki, Mosquitto) {
    Mosquitto::with_user(USER, PASSWORD)
}

fn options(client_id: &str, keep_alive_secs: u16, seed: u64) -> Options {
    let mut o = Options::new(client_id).with_credentials(USER, PASSWORD);
    o.clean_session = false;
    o.keep_alive_secs = keep_alive_secs;
    o.connect_timeout = Duration::from_secs(2);
    o.max_queued = 2_000;
    o.reconnect = ReconnectPolicy {
        enabled: true,
        initial_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(800),
        seed,
        ..ReconnectPolicy::default()
    };
    o
}

/// A connector to `url` (for `mqtts`, dial `dial` and verify the URL's host against `ca`).
fn connector(
    url: &str,
    ca: Option<&std::path::Path>,
    dial: Option<std::net::SocketAddr>,
) -> Connector {
    let url: BrokerUrl = url.parse().expect("url");
    let tls = TlsOptions {
        ca_file: ca.map(std::path::Path::to_path_buf),
        client_auth: None,
    };
    let connect_to = dial.map(|a| ConnectTo {
        host: a.ip().to_string(),
        port: a.port(),
    });
    Connector::new(url, &tls, connect_to).expect("connector")
}

/// What one client saw.
#[derive(Debug, Default)]
struct ClientStats {
    connected: AtomicU64,
    lost: AtomicU64,
    subscribed: AtomicBool,
    /// Set when the session gave up (a `ConnectionLost` without a retry): the test fails.
    gave_up: Mutex<Option<String>>,
    errors: Mutex<Vec<String>>,
}

impl ClientStats {
    fn connected(&self) -> u64 {
        self.connected.load(Ordering::SeqCst)
    }
    fn note(&self, event: &Event) {
        match event {
            Event::Connected { .. } => {
                self.connected.fetch_add(1, Ordering::SeqCst);
            }
            Event::ConnectionLost {
                error,
                reconnect_in,
                ..
            } => {
                self.lost.fetch_add(1, Ordering::SeqCst);
                let mut errors = self.errors.lock().expect("errors");
                if errors.len() < 50 {
                    errors.push(error.to_string());
                }
                if reconnect_in.is_none() {
                    *self.gave_up.lock().expect("gave_up") = Some(error.to_string());
                }
            }
            Event::Subscribed { .. } => self.subscribed.store(true, Ordering::SeqCst),
            _ => {}
        }
    }
}

/// Counts of one QoS stream.
#[derive(Debug, Default)]
struct Tally {
    /// Publishes the session accepted (sequence numbers 0..sent).
    sent: u64,
    /// `Published` events (PUBACK / PUBCOMP).
    acked: u64,
    /// Receptions per sequence number.
    received: HashMap<u64, u32>,
}

impl Tally {
    fn lost(&self) -> u64 {
        (0..self.sent)
            .filter(|n| !self.received.contains_key(n))
            .count() as u64
    }
    fn duplicated(&self) -> u64 {
        self.received.values().map(|c| u64::from(c - 1)).sum()
    }
    fn total_received(&self) -> u64 {
        self.received.values().map(|&c| u64::from(c)).sum()
    }
    fn complete(&self) -> bool {
        self.lost() == 0
    }
}

#[derive(Debug, Default)]
struct Figures {
    q1: Mutex<Tally>,
    q2: Mutex<Tally>,
}

enum Cmd {
    Tick,
    Stop,
}

/// The publisher: on each tick, one QoS 1 and one QoS 2 message (sequence numbers as payload),
/// unless too many wait already; on `Stop`, waits until every accepted message is acknowledged,
/// then disconnects. Returns the session's pending count at the end (0 when all went out).
fn spawn_publisher(
    mut driver: Driver<NoFlow>,
    figures: Arc<Figures>,
    stats: Arc<ClientStats>,
) -> (UnboundedSender<Cmd>, JoinHandle<usize>) {
    let (tx, mut rx) = unbounded_channel::<Cmd>();
    let mut q1_ids = std::collections::HashSet::new();
    let mut q2_ids = std::collections::HashSet::new();
    let task = tokio::spawn(async move {
        driver.connect();
        let mut stopping = false;
        let mut channel_open = true;
        loop {
            if stopping && driver.session().pending_count() == 0 {
                driver.disconnect();
            }
            let step = if channel_open {
                driver.next_or(&mut rx).await
            } else {
                driver.next().await.map(Step::Output)
            };
            match step {
                None => break,
                Some(Step::External(None)) => channel_open = false,
                Some(Step::External(Some(Cmd::Stop))) => stopping = true,
                Some(Step::External(Some(Cmd::Tick))) if !stopping => {
                    if driver.session().pending_count() >= 400 {
                        continue;
                    }
                    for (topic, qos, tally, ids) in [
                        (Q1, QoS::AtLeastOnce, &figures.q1, &mut q1_ids),
                        (Q2, QoS::ExactlyOnce, &figures.q2, &mut q2_ids),
                    ] {
                        let seq = tally.lock().expect("tally").sent;
                        match driver.publish(topic, seq.to_string().as_bytes(), qos, false) {
                            Ok(id) => {
                                ids.insert(id);
                                tally.lock().expect("tally").sent += 1;
                            }
                            Err(CommandError::QueueFull(_)) => {}
                            Err(e) => panic!("publish refused: {e}"),
                        }
                    }
                }
                Some(Step::External(Some(Cmd::Tick))) => {}
                Some(Step::Output(Output::Event(event))) => {
                    stats.note(&event);
                    if let Event::Published { id } = &event {
                        if q1_ids.remove(id) {
                            figures.q1.lock().expect("tally").acked += 1;
                        } else if q2_ids.remove(id) {
                            figures.q2.lock().expect("tally").acked += 1;
                        }
                    }
                    if stats.gave_up.lock().expect("gave_up").is_some() {
                        break;
                    }
                }
                Some(Step::Output(_)) => {}
            }
        }
        driver.session().pending_count()
    });
    (tx, task)
}

/// The subscriber: QoS 1 on `Q1`, QoS 2 on `Q2`; records every message; disconnects on `Stop`.
fn spawn_subscriber(
    mut driver: Driver<NoFlow>,
    figures: Arc<Figures>,
    stats: Arc<ClientStats>,
) -> (UnboundedSender<Cmd>, JoinHandle<()>) {
    let (tx, mut rx) = unbounded_channel::<Cmd>();
    let task = tokio::spawn(async move {
        driver.connect();
        driver
            .subscribe(&[(Q1, QoS::AtLeastOnce), (Q2, QoS::ExactlyOnce)])
            .expect("subscribe");
        let mut channel_open = true;
        loop {
            let step = if channel_open {
                driver.next_or(&mut rx).await
            } else {
                driver.next().await.map(Step::Output)
            };
            match step {
                None => break,
                Some(Step::External(None)) => channel_open = false,
                Some(Step::External(Some(Cmd::Stop))) => driver.disconnect(),
                Some(Step::External(Some(Cmd::Tick))) => {}
                Some(Step::Output(Output::Event(event))) => {
                    stats.note(&event);
                    if let Event::Message(m) = &event {
                        let seq: u64 = std::str::from_utf8(&m.payload)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or_else(|| panic!("unexpected payload {:?}", m.payload));
                        let tally = if m.topic == Q1 {
                            &figures.q1
                        } else {
                            &figures.q2
                        };
                        *tally
                            .lock()
                            .expect("tally")
                            .received
                            .entry(seq)
                            .or_default() += 1;
                    }
                    if stats.gave_up.lock().expect("gave_up").is_some() {
                        break;
                    }
                }
                Some(Step::Output(_)) => {}
            }
        }
    });
    (tx, task)
}

/// Polls `cond` every 20 ms until it holds; false after `timeout`.
async fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

fn gave_up(stats: &[(&str, &ClientStats)]) -> Option<String> {
    stats.iter().find_map(|(name, s)| {
        s.gave_up
            .lock()
            .expect("gave_up")
            .clone()
            .map(|e| format!("{name} stopped reconnecting after: {e}"))
    })
}

/// A running stream: publisher, subscriber and a ticker.
struct Stream {
    figures: Arc<Figures>,
    pub_stats: Arc<ClientStats>,
    sub_stats: Arc<ClientStats>,
    pub_tx: UnboundedSender<Cmd>,
    sub_tx: UnboundedSender<Cmd>,
    publisher: JoinHandle<usize>,
    subscriber: JoinHandle<()>,
    ticker: JoinHandle<()>,
}

impl Stream {
    /// Starts the subscriber, waits for its SUBACK, then starts publishing every `period`.
    async fn start(
        publisher: Driver<NoFlow>,
        subscriber: Driver<NoFlow>,
        period: Duration,
    ) -> Stream {
        let figures = Arc::new(Figures::default());
        let pub_stats = Arc::new(ClientStats::default());
        let sub_stats = Arc::new(ClientStats::default());
        let (sub_tx, subscriber) = spawn_subscriber(subscriber, figures.clone(), sub_stats.clone());
        assert!(
            wait_until(Duration::from_secs(15), || sub_stats
                .subscribed
                .load(Ordering::SeqCst))
            .await,
            "subscriber not subscribed within 15 s: {:?}",
            sub_stats.errors.lock().expect("errors")
        );
        let (pub_tx, publisher) = spawn_publisher(publisher, figures.clone(), pub_stats.clone());
        let tick_tx = pub_tx.clone();
        let ticker = tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                interval.tick().await;
                if tick_tx.send(Cmd::Tick).is_err() {
                    return;
                }
            }
        });
        Stream {
            figures,
            pub_stats,
            sub_stats,
            pub_tx,
            sub_tx,
            publisher,
            subscriber,
            ticker,
        }
    }

    fn clients(&self) -> [(&str, &ClientStats); 2] {
        [
            ("publisher", &self.pub_stats),
            ("subscriber", &self.sub_stats),
        ]
    }

    fn sent(&self) -> (u64, u64) {
        (
            self.figures.q1.lock().expect("tally").sent,
            self.figures.q2.lock().expect("tally").sent,
        )
    }

    /// Waits until both clients connected more often than `before` and `extra` more messages of
    /// each QoS were accepted by the publisher.
    async fn wait_recovered(&self, before: (u64, u64), extra: u64, what: &str) {
        let sent_before = self.sent();
        let ok = wait_until(Duration::from_secs(20), || {
            self.pub_stats.connected() > before.0
                && self.sub_stats.connected() > before.1
                && self.sent().0 >= sent_before.0 + extra
                || gave_up(&self.clients()).is_some()
        })
        .await;
        if let Some(e) = gave_up(&self.clients()) {
            panic!("after {what}: {e}");
        }
        assert!(
            ok,
            "after {what}: clients did not reconnect and resume within 20 s (connected {}/{}, before {:?}); publisher errors {:?}; subscriber errors {:?}",
            self.pub_stats.connected(),
            self.sub_stats.connected(),
            before,
            self.pub_stats.errors.lock().expect("errors"),
            self.sub_stats.errors.lock().expect("errors"),
        );
    }

    fn connected(&self) -> (u64, u64) {
        (self.pub_stats.connected(), self.sub_stats.connected())
    }

    /// Stops publishing, waits until everything is acknowledged and received, stops both
    /// clients, checks the guarantees and prints the figures.
    async fn finish(mut self, label: &str, faults: u32, started: Instant) {
        self.ticker.abort();
        let _ = self.pub_tx.send(Cmd::Stop);
        let pending = tokio::time::timeout(Duration::from_secs(30), &mut self.publisher)
            .await
            .expect("publisher drained its in-flight messages within 30 s")
            .expect("publisher task");
        if let Some(e) = gave_up(&self.clients()) {
            panic!("{label}: {e}");
        }
        assert_eq!(
            pending, 0,
            "{label}: publisher ended with messages unacknowledged"
        );
        let figures = self.figures.clone();
        let all_in = wait_until(Duration::from_secs(20), || {
            figures.q1.lock().expect("tally").complete()
                && figures.q2.lock().expect("tally").complete()
        })
        .await;
        // A little longer, so late duplicates are counted too.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = self.sub_tx.send(Cmd::Stop);
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.subscriber).await;
        let q1 = figures.q1.lock().expect("tally");
        let q2 = figures.q2.lock().expect("tally");
        println!(
            "FIGURES {label}: faults injected {faults}; QoS1 sent {} acked {} received {} lost {} duplicated {}; \
             QoS2 sent {} acked {} received {} lost {} duplicated {}; reconnects publisher {} subscriber {}; {:.1} s",
            q1.sent,
            q1.acked,
            q1.total_received(),
            q1.lost(),
            q1.duplicated(),
            q2.sent,
            q2.acked,
            q2.total_received(),
            q2.lost(),
            q2.duplicated(),
            self.pub_stats.connected().saturating_sub(1),
            self.sub_stats.connected().saturating_sub(1),
            started.elapsed().as_secs_f64(),
        );
        for (name, stats) in [
            ("publisher", &self.pub_stats),
            ("subscriber", &self.sub_stats),
        ] {
            let mut seen: Vec<String> = stats.errors.lock().expect("errors").clone();
            seen.sort();
            seen.dedup();
            println!("{label}: {name} saw {seen:?}");
        }
        assert!(q1.sent > 0 && q2.sent > 0, "{label}: nothing was published");
        assert_eq!(
            q1.acked, q1.sent,
            "{label}: every QoS 1 publish acknowledged"
        );
        assert_eq!(q2.acked, q2.sent, "{label}: every QoS 2 publish completed");
        assert!(
            all_in,
            "{label}: QoS 1 lost {} / QoS 2 lost {} (of {} / {})",
            q1.lost(),
            q2.lost(),
            q1.sent,
            q2.sent
        );
        assert_eq!(q1.lost(), 0, "{label}: QoS 1 messages lost");
        assert_eq!(q2.lost(), 0, "{label}: QoS 2 messages lost");
        assert_eq!(q2.duplicated(), 0, "{label}: QoS 2 messages duplicated");
    }
}

/// A bridge config on a fixed port, so a restarted bridge is found at the same URL.
fn bridge_toml(broker: &Mosquitto, port: u16) -> String {
    toml_for_broker(broker, "drain_timeout_ms = 500").replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    )
}

fn start_bridge(toml: &str) -> BridgeProcess {
    // The port was just released by a killed bridge: retry a few times if it is not free yet.
    let mut last = None;
    for _ in 0..5 {
        match std::panic::catch_unwind(|| BridgeProcess::with_config_toml(toml)) {
            Ok(b) => return b,
            Err(e) => {
                last = Some(e);
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    std::panic::resume_unwind(last.expect("an error"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_kill9_under_qos1_and_qos2_streams() {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let (_pki, broker) = broker();
    let port = free_port();
    let toml = bridge_toml(&broker, port);
    let mut bridge = start_bridge(&toml);
    let url = format!("ws://127.0.0.1:{port}/mqtt");
    let publisher = Driver::plain(
        connector(&url, None, None),
        Session::new(options("faults-kill-pub", 10, 1)),
    );
    let subscriber = Driver::plain(
        connector(&url, None, None),
        Session::new(options("faults-kill-sub", 10, 2)),
    );
    let stream = Stream::start(publisher, subscriber, Duration::from_millis(4)).await;
    stream.wait_recovered((0, 0), 100, "start").await;

    const FAULTS: u32 = 5;
    for fault in 1..=FAULTS {
        let before = stream.connected();
        tokio::task::block_in_place(|| {
            bridge.child.signal("KILL");
            let _ = bridge.child.wait_timeout(Duration::from_secs(5));
        });
        // Down long enough for the clients to notice and fail at least one reconnect.
        tokio::time::sleep(Duration::from_millis(300)).await;
        bridge = tokio::task::block_in_place(|| start_bridge(&toml));
        stream
            .wait_recovered(before, 150, &format!("bridge kill -9 #{fault}"))
            .await;
    }
    stream.finish("bridge kill -9", FAULTS, started).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_restart_under_qos1_and_qos2_streams() {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let (_pki, mut broker) = broker();
    // Publisher through the bridge (its upstream dies with the broker: "upstream closed", then
    // "upstream unreachable" while the broker is down), subscriber straight to the broker.
    let bridge = start_bridge(&bridge_toml(&broker, 0));
    let direct = format!("mqtts://{BROKER_NAME}:{}", broker.tls_addr().port());
    let ca = broker.ca_path().to_path_buf();
    let publisher = Driver::plain(
        connector(&bridge.url, None, None),
        Session::new(options("faults-restart-pub", 10, 3)),
    );
    let subscriber = Driver::plain(
        connector(&direct, Some(&ca), Some(broker.tls_addr())),
        Session::new(options("faults-restart-sub", 10, 4)),
    );
    let stream = Stream::start(publisher, subscriber, Duration::from_millis(4)).await;
    stream.wait_recovered((0, 0), 100, "start").await;

    const FAULTS: u32 = 3;
    for fault in 1..=FAULTS {
        let before = stream.connected();
        // Down for 600 ms: reconnects meanwhile are refused (direct) or closed with 4502
        // "upstream unreachable" (bridge), and must be retried.
        tokio::task::block_in_place(|| {
            broker.stop();
            std::thread::sleep(Duration::from_millis(600));
            broker.restart();
        });
        stream
            .wait_recovered(before, 150, &format!("mosquitto restart #{fault}"))
            .await;
    }
    stream.finish("mosquitto restart", FAULTS, started).await;
    drop(bridge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_stall_is_detected_within_1_5_keepalive_and_recovers() {
    let _serial = SERIAL.lock().await;
    let started = Instant::now();
    let (_pki, broker) = broker();
    let proxy = StallProxy::start(broker.plain_addr()).await;
    const KEEPALIVE: u16 = 2;
    let stalled_url = format!("mqtt://{}", proxy.addr());
    let direct_url = format!("mqtt://{}", broker.plain_addr());
    let mut pub_options = options("faults-stall-pub", KEEPALIVE, 5);
    pub_options.connect_timeout = Duration::from_millis(1_000);
    let publisher = Driver::plain(
        connector(&stalled_url, None, None),
        Session::new(pub_options),
    );
    let subscriber = Driver::plain(
        connector(&direct_url, None, None),
        Session::new(options("faults-stall-sub", 10, 6)),
    );
    // A slower stream: the stall must be detected by keepalive, not hidden by a full window.
    let stream = Stream::start(publisher, subscriber, Duration::from_millis(20)).await;
    stream.wait_recovered((0, 0), 20, "start").await;

    let keepalive = Duration::from_secs(u64::from(KEEPALIVE));
    let bound = keepalive * 3 / 2;
    let mut detections = Vec::new();
    const FAULTS: u32 = 2;
    for fault in 1..=FAULTS {
        let before = stream.connected();
        let lost_before = stream.pub_stats.lost.load(Ordering::SeqCst);
        proxy.stall();
        let stalled_at = Instant::now();
        let detected = wait_until(bound + Duration::from_secs(2), || {
            stream.pub_stats.lost.load(Ordering::SeqCst) > lost_before
        })
        .await;
        let took = stalled_at.elapsed();
        assert!(
            detected,
            "stall #{fault} not detected within {:?}",
            bound + Duration::from_secs(2)
        );
        let reason = stream
            .pub_stats
            .errors
            .lock()
            .expect("errors")
            .last()
            .cloned()
            .unwrap_or_default();
        assert!(
            reason.contains("keepalive"),
            "stall #{fault} detected as {reason:?}"
        );
        // 250 ms of slack for timer and scheduler jitter on a loaded machine.
        assert!(
            took <= bound + Duration::from_millis(250),
            "stall #{fault} detected after {took:?}, more than 1.5 keepalive ({bound:?})"
        );
        detections.push(took);
        // Still stalled: reconnect attempts get no CONNACK and time out. Then forward again.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert!(
            stream.pub_stats.connected() == before.0,
            "reconnected through a stalled proxy"
        );
        if fault % 2 == 0 {
            // Variant: the stalled connections are cut instead of resumed.
            proxy.cut();
        }
        proxy.resume();
        stream
            .wait_recovered((before.0, 0), 20, &format!("stall #{fault}"))
            .await;
    }
    println!(
        "FIGURES stall: keepalive {keepalive:?}, bound {bound:?}, detected after {detections:?}, proxy connections {}",
        proxy.accepted()
    );
    stream.finish("network stall", FAULTS, started).await;
}
