//! The world the edge tests run in: mosquitto with Murano's ACL, the activation responder, the
//! real ws-bridge in front of the TLS listener, and a `mosquitto_sub` counter of deliveries.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use crate::bridge::BridgeProcess;
use crate::certs::TestPki;
use crate::mosquitto::{
    Mosquitto, MosquittoOptions, BROKER_NAME, PLATFORM_PASSWORD, PLATFORM_USER,
};
use crate::procs::ChildGuard;
use crate::responder::Responder;

const LIMIT: Duration = Duration::from_secs(30);

/// How a scenario reaches the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// `mqtts://127.0.0.1:<tls port>`, `ca` and `servername` = `broker.test`.
    Tls,
    /// `ws://` to the real ws-bridge, which dials the TLS listener.
    Bridge,
    /// Like [`Path::Tls`] to the mutual-TLS listener, with the client certificate and key
    /// (`MQTT_CERT`, `MQTT_KEY`), as seed 003's sample connects.
    MutualTls,
    /// [`Path::MutualTls`] with TLS inside the package: scenarios that honour
    /// `CLIENT_WASM_ENTRY` load `client-wasm/tls` (rustls in the wasm over a plain socket).
    PackageTls,
}

/// mosquitto (TLS, Murano's ACL), the activation responder and a bridge in front of it.
pub struct World {
    /// The broker (shared with the responder, which adds activated users).
    pub broker: Arc<Mutex<Mosquitto>>,
    _responder: Responder,
    /// The real ws-bridge in front of the TLS listener.
    pub bridge: BridgeProcess,
    /// The run's certificates.
    pub pki: TestPki,
    /// The plain listener (platform writes, counters).
    pub plain: SocketAddr,
    /// The TLS listener's port (`broker.test`).
    pub tls_port: u16,
    /// The CA file trusting the broker.
    pub ca: String,
}

impl World {
    /// Starts the broker with `options`, the responder and the bridge.
    pub fn start(options: MosquittoOptions) -> World {
        let pki = TestPki::generate();
        let broker = Mosquitto::start(&pki, options);
        let (plain, tls_port) = (broker.plain_addr(), broker.tls_addr().port());
        let ca = broker.ca_path().display().to_string();
        let bridge = BridgeProcess::quick(&broker.tls_addr().to_string(), broker.ca_path(), &[]);
        let broker = Arc::new(Mutex::new(broker));
        let responder = Responder::for_mosquitto(&broker);
        World {
            broker,
            _responder: responder,
            bridge,
            pki,
            plain,
            tls_port,
            ca,
        }
    }

    /// The environment that points a scenario at the broker along `path`.
    pub fn env(&self, path: Path) -> Vec<(String, String)> {
        match path {
            Path::Tls => self.tls_env(self.tls_port),
            Path::Bridge => vec![("MQTT_URL".into(), self.bridge.url.clone())],
            Path::MutualTls | Path::PackageTls => {
                let port = self.broker.lock().map_or(0, |b| b.ports().mtls);
                let client = self.pki.client();
                let mut env = self.tls_env(port);
                env.push(("MQTT_CERT".into(), client.cert.display().to_string()));
                env.push(("MQTT_KEY".into(), client.key.display().to_string()));
                if path == Path::PackageTls {
                    env.push(("CLIENT_WASM_ENTRY".into(), "client-wasm/tls".into()));
                }
                env
            }
        }
    }

    /// `mqtts://127.0.0.1:<port>` with `MQTT_CA` and `MQTT_SERVERNAME` = `broker.test`.
    pub fn tls_env(&self, port: u16) -> Vec<(String, String)> {
        vec![
            ("MQTT_URL".into(), format!("mqtts://127.0.0.1:{port}")),
            ("MQTT_CA".into(), self.ca.clone()),
            ("MQTT_SERVERNAME".into(), BROKER_NAME.into()),
        ]
    }

    /// The broker's log so far.
    pub fn log(&self) -> String {
        self.broker.lock().map(|b| b.log_text()).unwrap_or_default()
    }
}

/// `base` and `extra` as the `(key, value)` list `Scenario::spawn` takes.
pub fn with<'a>(
    base: &'a [(String, String)],
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut all: Vec<(&str, &str)> = base.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(extra);
    all
}

/// `mosquitto_sub` as the platform user with a persistent QoS 2 session on `topic`: every
/// payload it prints, collected.
pub struct Counter {
    _child: ChildGuard,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Counter {
    /// Starts it with client id `id` and waits until it is subscribed.
    pub fn start(world: &World, id: &str, topic: &str) -> Counter {
        let mut child = ChildGuard::spawn(
            "mosquitto_sub",
            Command::new("mosquitto_sub")
                .args(["-h", "127.0.0.1", "-p", &world.plain.port().to_string()])
                .args([
                    "-u",
                    PLATFORM_USER,
                    "-P",
                    PLATFORM_PASSWORD,
                    "-i",
                    id,
                    "-c",
                    "-q",
                    "2",
                    "-t",
                    topic,
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let stdout = child
            .child_mut()
            .and_then(|c| c.stdout.take())
            .expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Subscribed once the broker logged this client's connection.
        let deadline = Instant::now() + LIMIT;
        while !world.log().contains(&format!("as {id} ")) {
            assert!(Instant::now() < deadline, "mosquitto_sub did not connect");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        Counter {
            _child: child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Collects until `count` distinct ids arrived (or `limit`), then a little longer for copies.
    pub fn collect(&mut self, count: usize, limit: Duration) -> BTreeMap<u32, u32> {
        let deadline = Instant::now() + limit;
        while self.counts().len() < count && Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(line);
            }
        }
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            self.seen.push(line);
        }
        self.counts()
    }

    /// How often each id `n` of payloads `"<class> <n> ..."` arrived so far.
    pub fn counts(&self) -> BTreeMap<u32, u32> {
        let mut counts = BTreeMap::new();
        for line in &self.seen {
            if let Some(n) = line.split(' ').nth(1).and_then(|n| n.parse().ok()) {
                *counts.entry(n).or_insert(0) += 1;
            }
        }
        counts
    }
}

/// A broker where the user `edge` may publish on `edge/#` (the ACL's `%u/#`; anonymous
/// clients may only activate, and mosquitto drops their other publishes silently).
pub fn publisher() -> MosquittoOptions {
    MosquittoOptions {
        users: vec![("edge".into(), "right".into())],
        ..MosquittoOptions::default()
    }
}

/// [`World::tls_env`] logged in as `edge`.
pub fn publisher_env(world: &World, port: u16) -> Vec<(String, String)> {
    let mut env = world.tls_env(port);
    env.push(("MQTT_USERNAME".into(), "edge".into()));
    env.push(("MQTT_PASSWORD".into(), "right".into()));
    env
}

/// A one-worker tokio runtime for the stall proxy (its tasks run while the test thread waits).
pub fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}
