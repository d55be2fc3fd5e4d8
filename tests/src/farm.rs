//! A scale-out farm for the tests: mosquitto (TLS, persistence), three ws-bridge processes,
//! HAProxy in front (`crate::haproxy`, from the deployment example), a broker-side feeder and
//! observer, and the failover choreography `fail_over` (see `tests/tests/scale_out.rs`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mqtt_core::{qos_from_u8, Event, Options};
use mqttws::{Connector, Driver, Output, Step, TlsOptions};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

use crate::bridge::BridgeProcess;
use crate::certs::TestPki;
use crate::haproxy::{http_get_text, Haproxy, Setup};
use crate::mosquitto::{Mosquitto, BROKER_NAME, PLATFORM_PASSWORD, PLATFORM_USER};
use crate::procs::{free_port, loopback};

/// ws-bridge processes in the farm (only the first runs until [`Farm::scale_out`]).
pub const BRIDGES: usize = 3;
/// Feed messages per QoS published from the broker side into the client's topics.
pub const FEED: u32 = 60;
/// Pause between two feed pairs (one QoS 1, one QoS 2 message).
pub const FEED_INTERVAL: Duration = Duration::from_millis(25);
/// How long any single wait in the scenario may take before the test fails.
pub const LIMIT: Duration = Duration::from_secs(20);
/// The clients' broker user: the harness ACL lets a user read and write `<user>/#`, so every
/// topic here is under `scale/`.
pub const USER: &str = "scale";
/// The password of [`USER`].
pub const PASSWORD: &str = "scale-secret";

/// Wall-clock time in milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Polls `check` every 20 ms until it holds; after `limit`, panics naming `what` and
/// printing `context()` (logs, figures).
pub fn wait_until(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> bool,
    context: impl Fn() -> String,
) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

// --- the broker side: feeder and observer ---------------------------------------------------

enum FeedCommand {
    Publish(String, String, u8),
}

/// A platform client straight to mosquitto (plain TCP): records every payload under
/// `scale/#` and publishes what it is told to.
pub struct BrokerSide {
    tx: UnboundedSender<FeedCommand>,
    received: Arc<Mutex<Vec<String>>>,
    _thread: std::thread::JoinHandle<()>,
}

impl BrokerSide {
    /// Connects to `broker`'s plain port as the platform user, subscribes to `scale/#` (QoS 2)
    /// on a thread of its own, and returns once the subscription is acknowledged.
    pub fn start(broker: &Mosquitto) -> BrokerSide {
        let url = format!("mqtt://{}", broker.plain_addr());
        let connector = Connector::new(url.parse().expect("url"), &TlsOptions::default(), None)
            .expect("connector");
        let options =
            Options::new("scale-observer").with_credentials(PLATFORM_USER, PLATFORM_PASSWORD);
        let received = Arc::new(Mutex::new(Vec::new()));
        let (tx, mut rx) = unbounded_channel();
        let (ready_tx, ready) = mpsc::channel();
        let seen = received.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut driver = Driver::plain(connector, mqtt_core::Session::new(options));
                driver
                    .subscribe(&[("scale/#", mqtt_core::QoS::ExactlyOnce)])
                    .expect("subscribe");
                driver.connect();
                while let Some(step) = driver.next_or(&mut rx).await {
                    match step {
                        Step::Output(Output::Event(Event::Subscribed { .. })) => {
                            let _ = ready_tx.send(());
                        }
                        Step::Output(Output::Event(Event::Message(m))) => {
                            let text = String::from_utf8_lossy(&m.payload).to_string();
                            seen.lock().expect("received").push(text);
                        }
                        Step::External(Some(FeedCommand::Publish(topic, body, qos))) => {
                            let qos = qos_from_u8(qos).expect("qos");
                            driver
                                .publish(&topic, body.as_bytes(), qos, false)
                                .expect("feed publish");
                        }
                        Step::External(None) => driver.disconnect(),
                        _ => {}
                    }
                }
            });
        });
        ready
            .recv_timeout(Duration::from_secs(10))
            .expect("observer subscribed");
        BrokerSide {
            tx,
            received,
            _thread: thread,
        }
    }

    /// Publishes `"feed1 <n>"` (QoS 1) on `base/feed1` and `"feed2 <n>"` (QoS 2) on `base/feed2`,
    /// n = 1..=FEED, a pair every FEED_INTERVAL, from a thread of its own.
    pub fn feed(&self, base: &str) -> std::thread::JoinHandle<()> {
        let tx = self.tx.clone();
        let base = base.to_string();
        std::thread::spawn(move || {
            for n in 1..=FEED {
                for q in [1u8, 2] {
                    let _ = tx.send(FeedCommand::Publish(
                        format!("{base}/feed{q}"),
                        format!("feed{q} {n}"),
                        q,
                    ));
                }
                std::thread::sleep(FEED_INTERVAL);
            }
        })
    }

    /// Every payload received under `scale/#` so far, in arrival order.
    pub fn received(&self) -> Vec<String> {
        self.received.lock().expect("received").clone()
    }
}

// --- the farm: broker, bridges, HAProxy -------------------------------------------------------

/// mosquitto, [`BRIDGES`] ws-bridge processes on fixed loopback ports, HAProxy in front of
/// them and a [`BrokerSide`]; the processes are killed on drop.
pub struct Farm {
    broker: Mosquitto,
    ports: Vec<u16>,
    bridges: Vec<Option<BridgeProcess>>,
    /// The load balancer in front.
    pub lb: Haproxy,
    /// The broker-side feeder and observer.
    pub observer: BrokerSide,
    site: Option<PathBuf>,
    _pki: TestPki,
}

impl Farm {
    /// mosquitto (TLS, persistence), bridge 1 of three, HAProxy with all three; bridges 2 and 3
    /// are down until [`Farm::scale_out`].
    pub fn start(site: Option<&Path>) -> Farm {
        let (pki, broker) = Mosquitto::with_user(USER, PASSWORD);
        assert!(
            std::fs::read_to_string(broker.dir().join("mosquitto.conf"))
                .unwrap_or_default()
                .contains("persistence true"),
            "the broker keeps sessions on disk"
        );
        let observer = BrokerSide::start(&broker);
        let ports: Vec<u16> = (0..BRIDGES).map(|_| free_port()).collect();
        let servers = ports
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("bridge{}", i + 1), loopback(*p)))
            .collect();
        let lb = Haproxy::start(&Setup::new(servers));
        let mut farm = Farm {
            broker,
            ports,
            bridges: (0..BRIDGES).map(|_| None).collect(),
            lb,
            observer,
            site: site.map(Path::to_path_buf),
            _pki: pki,
        };
        farm.start_bridge(0);
        farm.lb.wait_state("bridge1", "UP", LIMIT);
        farm.lb.wait_state("bridge2", "DOWN", LIMIT);
        farm.lb.wait_state("bridge3", "DOWN", LIMIT);
        farm
    }

    fn start_bridge(&mut self, i: usize) {
        let static_line = self
            .site
            .as_ref()
            .map(|d| format!("static_dir = \"{}\"\n", d.display()))
            .unwrap_or_default();
        let toml = format!(
            "listen = \"127.0.0.1:{port}\"\ndefault_route = \"local\"\n{static_line}\
             [limits]\ndrain_timeout_ms = 2000\n\
             [routes.local]\nhost = \"127.0.0.1\"\nport = {up}\nsni = \"{BROKER_NAME}\"\nca_file = \"{ca}\"\n",
            port = self.ports[i],
            up = self.broker.tls_addr().port(),
            ca = self.broker.ca_path().display(),
        );
        self.bridges[i] = Some(BridgeProcess::with_config_toml(&toml));
    }

    /// Starts bridges 2 and 3 and waits until HAProxy's health checks see them up.
    pub fn scale_out(&mut self) {
        for i in 1..BRIDGES {
            self.start_bridge(i);
        }
        for i in 1..BRIDGES {
            self.lb.wait_state(&format!("bridge{}", i + 1), "UP", LIMIT);
        }
    }

    /// `ws://<HAProxy>/mqtt`, the URL the clients use.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/mqtt", self.lb.addr())
    }

    fn bridge_addr(&self, i: usize) -> SocketAddr {
        loopback(self.ports[i])
    }

    /// `ws_bridge_sessions_open` of a running bridge (0 when it is not running).
    pub fn sessions(&self, i: usize) -> i64 {
        if self.bridges[i].is_none() {
            return 0;
        }
        http_get_text(self.bridge_addr(i), "/metrics")
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("ws_bridge_sessions_open "))
                    .and_then(|v| v.trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// [`Farm::sessions`] of every bridge, bridge 1 first.
    pub fn placement(&self) -> Vec<i64> {
        (0..BRIDGES).map(|i| self.sessions(i)).collect()
    }

    /// Waits up to [`LIMIT`] until `check(placement)` holds; returns that placement.
    pub fn wait_placement(&self, what: &str, check: impl Fn(&[i64]) -> bool) -> Vec<i64> {
        let mut last = Vec::new();
        wait_until(
            what,
            LIMIT,
            || {
                last = self.placement();
                check(&last)
            },
            || {
                format!(
                    "sessions per bridge: {:?}\n{}",
                    self.placement(),
                    self.logs()
                )
            },
        );
        last
    }

    /// SIGKILL: no close frame, no drain; HAProxy sees the server connection reset.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut b) = self.bridges[i].take() {
            b.child.kill();
        }
    }

    /// SIGTERM: the bridge stops listening, closes its sessions with 1001 and exits.
    pub fn drain(&mut self, i: usize) -> String {
        let mut b = self.bridges[i].take().expect("bridge running");
        b.child.signal("TERM");
        let status = b.child.wait_timeout(Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "bridge {} did not exit cleanly after SIGTERM: {status:?}\n{}",
            i + 1,
            b.log_text()
        );
        b.log_text()
    }

    /// The last lines of every running bridge's, HAProxy's and mosquitto's logs, for failure
    /// messages.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for (i, b) in self.bridges.iter().enumerate() {
            if let Some(b) = b {
                s.push_str(&format!(
                    "--- bridge{} ---\n{}\n",
                    i + 1,
                    tail(&b.log_text(), 30)
                ));
            }
        }
        s.push_str(&format!(
            "--- haproxy ---\n{}\n",
            tail(&self.lb.log_text(), 30)
        ));
        s.push_str(&format!(
            "--- mosquitto ---\n{}\n",
            tail(&self.broker.log_text(), 40)
        ));
        s
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// --- the failover choreography -----------------------------------------------------------------

/// What the scenario reads from its client.
pub trait Probe {
    /// Wall-clock times (ms) of the client's connections so far, with session present.
    fn connections(&mut self) -> Vec<(u64, bool)>;
    /// Messages acknowledged or received so far (traffic is flowing while it grows).
    fn progress(&mut self) -> usize;
    /// `progress` once everything is done.
    fn total(&self) -> usize;
    /// WebSocket sessions the scenario's clients hold now.
    fn sessions(&mut self) -> i64 {
        1
    }
    /// Pauses (true) or resumes the clients' sending, so that a fast sender is still sending
    /// when its bridge is killed.
    fn hold(&mut self, _on: bool) {}
}

/// Waits until `probe` shows 20 more messages, or all of them.
pub fn wait_traffic(what: &str, farm: &Farm, probe: &mut dyn Probe) {
    let (base, total) = (probe.progress(), probe.total());
    wait_until(
        what,
        LIMIT,
        || {
            let p = probe.progress();
            p >= base + 20 || p >= total
        },
        || farm.logs(),
    );
}

/// The figures [`fail_over`] measured.
pub struct Failover {
    /// From SIGKILL to the client's next CONNACK.
    pub after_kill_ms: u64,
    /// From SIGTERM to the client's next CONNACK (or to every session having moved).
    pub after_drain_ms: u64,
    /// The drained bridge, 1-based.
    pub drained: usize,
}

/// Steps 1-4 of the scenario in `tests/tests/scale_out.rs`: clients on bridge 1, scale out,
/// SIGKILL bridge 1, then drain the busier survivor; asserts each step and times the two
/// failovers.
pub fn fail_over(farm: &mut Farm, probe: &mut dyn Probe) -> Failover {
    let sessions = probe.sessions();
    let placed = farm.wait_placement("the clients on bridge 1", |p| p[0] == sessions);
    assert_eq!(placed, vec![sessions, 0, 0]);
    wait_traffic("traffic", farm, probe);
    probe.hold(true);
    farm.scale_out();
    probe.hold(false);

    let killed_at = now_ms();
    farm.kill(0);
    wait_until(
        "a reconnection after SIGKILL",
        LIMIT,
        || probe.connections().len() >= 2,
        || farm.logs(),
    );
    let (back, present) = probe.connections()[1];
    assert!(present, "session present after the failover (MQTT-3.2.2-2)");
    let after_kill_ms = back.saturating_sub(killed_at);
    let placed = wait_sessions(farm, probe, "the clients on bridges 2 and 3", |p, n| {
        p[0] == 0 && p[1] + p[2] == n
    });
    // Drain a bridge carrying the client (the one with most sessions when there are several).
    let drained = if placed[1] >= placed[2] { 1 } else { 2 };
    wait_traffic("traffic after the failover", farm, probe);

    let drained_at = now_ms();
    let log = farm.drain(drained);
    assert!(
        log.contains("draining sessions"),
        "the bridge drained:\n{log}"
    );
    let last = 3 - drained;
    wait_sessions(farm, probe, "the clients on the last bridge", |p, n| {
        p[drained] == 0 && p[last] == n
    });
    let moved_at = now_ms();
    // The primary client's own reconnection time when it was on the drained bridge; else when
    // every session had moved.
    let connections = probe.connections();
    let after_drain_ms = match connections.get(2) {
        Some(&(back, present)) => {
            assert!(present, "session present after the drain (MQTT-3.2.2-2)");
            back.saturating_sub(drained_at)
        }
        None => moved_at.saturating_sub(drained_at),
    };
    Failover {
        after_kill_ms,
        after_drain_ms,
        drained: drained + 1,
    }
}

/// Waits until the placement of sessions satisfies `check(placement, live sessions)`.
pub fn wait_sessions(
    farm: &Farm,
    probe: &mut dyn Probe,
    what: &str,
    check: impl Fn(&[i64], i64) -> bool,
) -> Vec<i64> {
    let mut last = Vec::new();
    wait_until(
        what,
        LIMIT,
        || {
            last = farm.placement();
            check(&last, probe.sessions())
        },
        || {
            format!(
                "sessions per bridge: {:?}\n{}",
                farm.placement(),
                farm.logs()
            )
        },
    );
    last
}
