//! The `bench idle` process: opens idle sessions through a relay and holds them.
//!
//! Each session is real: a TCP connection from one of several loopback source addresses
//! (127.0.0.2, 127.0.0.3, ...; Linux routes all of 127/8 to `lo`), the WebSocket upgrade, an
//! MQTT CONNECT relayed to the broker and its CONNACK relayed back. Binding the source address
//! before connecting gives every address its own ephemeral ports: from one address, ports run
//! out near 28,000 (`ip_local_port_range` 32768-60999). Sessions then stay open, answering the
//! relay's WebSocket pings, until stdin closes.
//!
//! Talks to the runner on stdout, one line each:
//! `progress <connected> <elapsed ms>` every second while opening; then `connected <n> <ms until
//! the last one>`, `failure <times> <reason>` per kind of failed attempt, `end`. Each line read
//! on stdin is answered with `alive <n>`, `lost <times> <reason>` per kind of session closed
//! after its CONNACK, `end`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ::tests::bridge::mqtt;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// Handshakes (TCP, WebSocket, the relay's TLS to the broker, CONNECT/CONNACK) in flight at
/// once: starting thousands together queues them behind one another (and behind mosquitto's
/// listen backlog of 100) until they overrun their timeouts; a bounded number keeps each short.
const CONNECTING: usize = 64;
/// Time allowed for one attempt, from connect to CONNACK.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Keepalive announced in CONNECT: longer than any bench run, so neither the broker (1.5x) nor
/// the bridge's idle limit closes a session while it is measured.
const KEEPALIVE_SECS: u16 = 1800;

/// What the holder is asked to open.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Relay URLs (`ws://host:port/path`); session `i` uses `urls[i % len]`.
    pub urls: Vec<String>,
    pub count: usize,
    /// Index of this holder's first session: sessions are numbered across holders, so client
    /// ids stay unique (a second CONNECT with a client id already connected makes the broker
    /// close the first, [MQTT-3.1.4-2]) and addresses and routes keep rotating.
    pub first: usize,
    /// Source addresses 127.0.0.2 ... 127.0.0.(1 + sources); session `i` uses `i % sources`.
    pub sources: usize,
    pub subprotocol: bool,
    pub allowance: Duration,
}

/// Failure reasons and how many times each happened.
#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, u64>>);

impl Tally {
    fn add(&self, reason: String) {
        if let Ok(mut t) = self.0.lock() {
            *t.entry(reason).or_insert(0) += 1;
        }
    }

    fn lines(&self, tag: &str) -> Vec<String> {
        self.0
            .lock()
            .map(|t| {
                t.iter()
                    .map(|(reason, n)| format!("{tag} {n} {reason}"))
                    .collect()
            })
            .unwrap_or_default()
    }
}

struct Shared {
    connected: AtomicU64,
    alive: AtomicU64,
    failures: Tally,
    lost: Tally,
}

/// The source address of session `i`.
pub(crate) fn source(i: usize, sources: usize) -> Ipv4Addr {
    let n = 2 + (i % sources.max(1)) as u32;
    Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 0)) + n)
}

/// The error's kind without the OS's wording varying by attempt (ports, addresses).
fn io_reason(stage: &str, e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => format!("{stage}: {e} (errno {code})"),
        None => format!("{stage}: {e}"),
    }
}

/// One attempt: connect from `from`, upgrade, CONNECT, wait for CONNACK.
async fn open(
    url: &str,
    from: Ipv4Addr,
    id: &str,
    subprotocol: bool,
) -> Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, String> {
    let mut request = url
        .into_client_request()
        .map_err(|e| format!("url {url}: {e}"))?;
    if subprotocol {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    }
    let host: Ipv4Addr = request
        .uri()
        .host()
        .and_then(|h| h.parse().ok())
        .ok_or_else(|| format!("url {url}: the host must be an IPv4 address"))?;
    let port = request.uri().port_u16().unwrap_or(80);
    let socket = TcpSocket::new_v4().map_err(|e| io_reason("socket", &e))?;
    socket
        .bind(SocketAddr::V4(SocketAddrV4::new(from, 0)))
        .map_err(|e| io_reason(&format!("bind {from}"), &e))?;
    let tcp = socket
        .connect(SocketAddr::V4(SocketAddrV4::new(host, port)))
        .await
        .map_err(|e| io_reason("connect", &e))?;
    let _ = tcp.set_nodelay(true);
    // Small buffers: the sessions are idle, and the holder's memory is not what is measured.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
        .await
        .map_err(|e| format!("upgrade: {e}"))?;
    ws.send(Message::Binary(
        mqtt::connect(id, None, KEEPALIVE_SECS).into(),
    ))
    .await
    .map_err(|e| format!("send CONNECT: {e}"))?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) if mqtt::kind(&b) == mqtt::CONNACK => {
                return match b.get(3) {
                    Some(0) => Ok(ws),
                    code => Err(format!("CONNACK refused: return code {code:?}")),
                };
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(format!(
                    "closed before CONNACK: {}",
                    frame.map_or("no close frame".into(), |f| format!(
                        "{} {}",
                        u16::from(f.code),
                        f.reason
                    ))
                ));
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("before CONNACK: {e}")),
            None => return Err("connection ended before CONNACK".into()),
        }
    }
}

/// Holds one open session until it closes; records why.
async fn hold(
    mut ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    shared: Arc<Shared>,
) {
    // Reading answers the relay's pings (tungstenite queues the pong and sends it on the next
    // read); nothing else should arrive on an idle session.
    let reason = loop {
        match ws.next().await {
            Some(Ok(Message::Close(frame))) => {
                break format!(
                    "closed by the relay: {}",
                    frame.map_or("no close frame".into(), |f| format!(
                        "{} {}",
                        u16::from(f.code),
                        f.reason
                    ))
                )
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => break format!("error: {e}"),
            None => break "connection ended".into(),
        }
    };
    shared.alive.fetch_sub(1, Ordering::Relaxed);
    shared.lost.add(reason);
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Opens the plan's sessions (a failed attempt is retried after 100 ms until the allowance is
/// spent), reports, then answers `alive` queries until stdin closes.
pub(crate) async fn run(plan: Plan) {
    let shared = Arc::new(Shared {
        connected: AtomicU64::new(0),
        alive: AtomicU64::new(0),
        failures: Tally::default(),
        lost: Tally::default(),
    });
    let gate = Arc::new(tokio::sync::Semaphore::new(CONNECTING));
    let start = Instant::now();
    let deadline = start + plan.allowance;
    let last_connect = Arc::new(Mutex::new(Duration::ZERO));
    for i in plan.first..plan.first + plan.count {
        let url = plan.urls[i % plan.urls.len()].clone();
        let from = source(i, plan.sources);
        let (shared, gate, last_connect) = (shared.clone(), gate.clone(), last_connect.clone());
        let subprotocol = plan.subprotocol;
        tokio::spawn(async move {
            let id = format!("idle-{i}");
            while Instant::now() < deadline {
                let Ok(permit) = gate.acquire().await else {
                    return;
                };
                let attempt =
                    tokio::time::timeout(ATTEMPT_TIMEOUT, open(&url, from, &id, subprotocol))
                        .await
                        .unwrap_or_else(|_| {
                            Err(format!("no CONNACK within {} s", ATTEMPT_TIMEOUT.as_secs()))
                        });
                drop(permit);
                match attempt {
                    Ok(ws) => {
                        shared.connected.fetch_add(1, Ordering::Relaxed);
                        shared.alive.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut at) = last_connect.lock() {
                            *at = start.elapsed();
                        }
                        hold(ws, shared).await;
                        return;
                    }
                    Err(reason) => {
                        shared.failures.add(reason);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
    }
    let mut next_report = start + Duration::from_secs(1);
    while (shared.connected.load(Ordering::Relaxed) as usize) < plan.count
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(1);
            say(&format!(
                "progress {} {}",
                shared.connected.load(Ordering::Relaxed),
                start.elapsed().as_millis()
            ));
        }
    }
    let took = last_connect.lock().map(|d| *d).unwrap_or_default();
    say(&format!(
        "connected {} {}",
        shared.connected.load(Ordering::Relaxed),
        took.as_millis()
    ));
    for line in shared.failures.lines("failure") {
        say(&line);
    }
    say("end");
    // Answer queries until stdin closes.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    std::thread::spawn(move || {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
            line.clear();
            if tx.send(()).is_err() {
                return;
            }
        }
    });
    while rx.recv().await.is_some() {
        say(&format!("alive {}", shared.alive.load(Ordering::Relaxed)));
        for line in shared.lost.lines("lost") {
            say(&line);
        }
        say("end");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_cycle_from_127_0_0_2() {
        assert_eq!(source(0, 4), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(source(3, 4), Ipv4Addr::new(127, 0, 0, 5));
        assert_eq!(source(4, 4), Ipv4Addr::new(127, 0, 0, 2));
        assert_eq!(source(299, 300), Ipv4Addr::new(127, 0, 1, 45));
    }
}
