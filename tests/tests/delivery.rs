//! Delivery guarantees on real components (mosquitto with TLS and the ws-bridge binary): the
//! paths the core's simulator (client-wasm/core/tests/simulation) checks against its model
//! broker, walked here against the real ones.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as Clock};

use futures_util::StreamExt;
use mqtt_core::{
    Event, Instant, Options, PublishFailure, QoS, Session, TransportAction, TransportFailure,
};
use mqttws::{Connector, Driver, Output, TlsOptions};
use tests::bridge::{read_packets, send_bin, ws_connect, BridgeProcess, Ws, WsOptions};
use tests::certs::TestPki;
use tests::mosquitto::Mosquitto;
use tokio::sync::oneshot;

const USER: &str = "delivery";
const PASSWORD: &str = "delivery-secret";
const TOPIC: &str = "delivery/q2";

fn broker() -> (TestPki, Mosquitto) {
    Mosquitto::with_user(USER, PASSWORD)
}

/// A subscriber straight to the broker (plain TCP on loopback) that records every payload on
/// `TOPIC`. Resolves `subscribed` once its SUBACK arrived.
/// Every payload a subscriber received, in order.
type Received = Arc<Mutex<Vec<Vec<u8>>>>;

fn spawn_subscriber(broker: &Mosquitto) -> (oneshot::Receiver<()>, Received) {
    let url = format!("mqtt://{}", broker.plain_addr());
    let connector =
        Connector::new(url.parse().expect("url"), &TlsOptions::default(), None).expect("connector");
    let options = Options::new("delivery-sub").with_credentials(USER, PASSWORD);
    let mut driver = Driver::plain(connector, Session::new(options));
    let received = Arc::new(Mutex::new(Vec::new()));
    let (subscribed_tx, subscribed) = oneshot::channel();
    let seen = received.clone();
    tokio::spawn(async move {
        let mut subscribed_tx = Some(subscribed_tx);
        driver.connect();
        driver
            .subscribe(&[(TOPIC, QoS::ExactlyOnce)])
            .expect("subscribe");
        while let Some(output) = driver.next().await {
            match output {
                Output::Event(Event::Subscribed { .. }) => {
                    if let Some(tx) = subscribed_tx.take() {
                        let _ = tx.send(());
                    }
                }
                Output::Event(Event::Message(m)) => {
                    seen.lock().expect("received").push(m.payload);
                }
                _ => {}
            }
        }
    });
    (subscribed, received)
}

/// A session driven by hand over a WebSocket to the bridge, so the test decides which packet
/// goes out and when the link dies.
struct HandDriven {
    session: Session,
    origin: Clock,
    ws: Option<Ws>,
    events: Vec<Event>,
}

impl HandDriven {
    fn now(&self) -> Instant {
        Instant::from_millis(self.origin.elapsed().as_millis() as u64)
    }

    fn collect_events(&mut self) {
        while let Some(event) = self.session.poll_event() {
            self.events.push(event);
        }
    }

    async fn flush(&mut self) {
        while let Some(bytes) = self.session.poll_transmit() {
            if let Some(ws) = self.ws.as_mut() {
                send_bin(ws, bytes).await;
            }
        }
        self.collect_events();
    }

    /// Carries out the session's `Open` on `url` and sends CONNECT.
    async fn open(&mut self, url: &str) {
        assert_eq!(self.session.poll_transport(), Some(TransportAction::Open));
        let (ws, _) = ws_connect(url, &WsOptions::default())
            .await
            .expect("bridge reachable");
        self.ws = Some(ws);
        let now = self.now();
        self.session.handle_transport_open(now);
        self.flush().await;
    }

    /// Reads `n` packets from the bridge into the session.
    async fn read(&mut self, n: usize) {
        let ws = self.ws.as_mut().expect("open");
        let packets = read_packets(ws, n, Duration::from_secs(10)).await;
        for packet in packets {
            let now = self.now();
            self.session.handle_bytes(now, &packet);
        }
        self.collect_events();
    }

    /// Feeds whatever arrives within `window` (e.g. a PUBCOMP for a resent PUBREL).
    async fn read_for(&mut self, window: Duration) {
        let Some(ws) = self.ws.as_mut() else { return };
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, ws.next()).await {
            let now = Instant::from_millis(self.origin.elapsed().as_millis() as u64);
            self.session.handle_bytes(now, &message.into_data());
        }
        self.collect_events();
    }
}

/// QoS 2 across a bridge kill, clean session 1 (the default): PUBREC arrives, PUBREL goes out
/// (or not), the bridge dies before PUBCOMP. mosquitto discards the session with the connection
/// ([MQTT-3.1.2-6]) and answers a resent PUBREL with PUBCOMP for an id it does not know, so a
/// client that resends it reports `Published` for a message the broker may never have forwarded.
/// The session reports `PublishFailed` instead, and the subscriber gets the message at most once.
async fn qos2_across_a_bridge_kill(send_pubrel: bool) {
    let (_pki, broker) = broker();
    let (subscribed, received) = spawn_subscriber(&broker);
    tokio::time::timeout(Duration::from_secs(10), subscribed)
        .await
        .expect("subscriber ready in time")
        .expect("subscriber ready");
    let upstream = broker.tls_addr().to_string();
    let mut first = BridgeProcess::quick(&upstream, broker.ca_path(), &[]);

    let mut options = Options::new("delivery-pub").with_credentials(USER, PASSWORD);
    options.reconnect.initial_delay = Duration::from_millis(50);
    options.reconnect.max_delay = Duration::from_millis(100);
    let mut client = HandDriven {
        session: Session::new(options),
        origin: Clock::now(),
        ws: None,
        events: Vec::new(),
    };
    let now = client.now();
    client.session.connect(now);
    client.open(&first.url).await;
    client.read(1).await;
    assert!(client.events.contains(&Event::Connected {
        session_present: false
    }));

    let now = client.now();
    let id = client
        .session
        .publish(now, TOPIC, b"exactly once", QoS::ExactlyOnce, false)
        .expect("accepted");
    client.flush().await;
    client.read(1).await; // PUBREC: the session now owes PUBREL
    if send_pubrel {
        client.flush().await;
        // Let the PUBREL reach mosquitto before the bridge dies.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    first.child.kill();
    client.ws = None;
    let now = client.now();
    client
        .session
        .handle_transport_closed(now, TransportFailure::Dropped("bridge killed".into()));
    client.collect_events();

    let second = BridgeProcess::quick(&upstream, broker.ca_path(), &[]);
    let due = client
        .session
        .poll_timeout()
        .expect("a reconnect is scheduled");
    tokio::time::sleep(Duration::from_millis(
        due.as_millis().saturating_sub(client.now().as_millis()) + 10,
    ))
    .await;
    let now = client.now();
    client.session.handle_timeout(now);
    client.open(&second.url).await;
    client.read(1).await; // CONNACK, session present 0
    client.flush().await;
    client.read_for(Duration::from_millis(500)).await;

    let published = client.events.contains(&Event::Published { id });
    let failed = client.events.contains(&Event::PublishFailed {
        id,
        reason: PublishFailure::SessionLostBeforePubcomp,
    });
    let deliveries = received.lock().expect("received").len();
    assert!(
        !published && failed,
        "no `Published` for a message the new session never held; events: {:?}",
        client.events
    );
    assert!(deliveries <= 1, "QoS 2 delivered {deliveries} times");
    if !send_pubrel {
        assert_eq!(
            deliveries, 0,
            "mosquitto forwards QoS 2 at PUBREL, which never left"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos2_released_then_bridge_killed_reports_publish_failed_not_published() {
    qos2_across_a_bridge_kill(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos2_unreleased_then_bridge_killed_reports_publish_failed_not_published() {
    qos2_across_a_bridge_kill(false).await;
}

/// What a broker sends a persistent session right after CONNACK: the flows it still holds
/// half-done for that client id (raw TCP, so nothing answers them).
fn resumed_session_backlog(addr: std::net::SocketAddr, client_id: &str) -> Vec<Vec<u8>> {
    use mqtt_core::codec::{decode, encode};
    use mqtt_core::packet::{Connect, Packet, Protocol};
    use std::io::{Read, Write};
    let connect = encode(&Packet::Connect(Connect {
        protocol: Protocol::MQTT311,
        keep_alive: 30,
        client_id,
        clean_session: false,
        last_will: None,
        username: Some(USER),
        password: Some(PASSWORD.as_bytes()),
    }))
    .expect("CONNECT");
    let mut stream = std::net::TcpStream::connect(addr).expect("broker reachable");
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    stream.write_all(&connect).expect("send CONNECT");
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = stream.read(&mut buf) {
        received.extend_from_slice(&buf[..n]);
    }
    let mut packets = Vec::new();
    let mut rest = received.as_slice();
    while let Ok(Some((_, used))) = decode(rest, usize::MAX) {
        packets.push(rest[..used].to_vec());
        rest = &rest[used..];
    }
    packets
}

/// `mqttws sub -C 1` on a persistent session exits right after its QoS 2 message. The broker's
/// PUBREL for it must still get its PUBCOMP before DISCONNECT: otherwise mosquitto keeps the
/// flow half-done and sends PUBREL again to the next connection with that client id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_answers_pubrel_before_it_exits() {
    let (_pki, broker) = broker();
    let client_id = "delivery-cli";
    let url = format!("mqtt://{}", broker.plain_addr());
    let args = [
        "sub",
        "--url",
        &url,
        "-t",
        TOPIC,
        "-q",
        "2",
        "-C",
        "1",
        "-i",
        client_id,
        "--no-clean",
        "-u",
        USER,
        "-P",
        PASSWORD,
        "-d",
    ];
    let mut sub = tests::cli::spawn(&args);
    sub.wait_stderr(Duration::from_secs(10), |l| l.contains("subscribed"))
        .expect("subscribed");
    let connector =
        Connector::new(url.parse().expect("url"), &TlsOptions::default(), None).expect("connector");
    let options = Options::new("delivery-cli-pub").with_credentials(USER, PASSWORD);
    let mut publisher = Driver::plain(connector, Session::new(options));
    publisher.connect();
    publisher
        .publish(TOPIC, b"exactly once", QoS::ExactlyOnce, false)
        .expect("publish");
    while let Some(output) = publisher.next().await {
        if let Output::Event(Event::Published { .. }) = output {
            publisher.disconnect();
        }
    }
    let finished = tokio::task::block_in_place(|| sub.wait(Duration::from_secs(10)));
    assert_eq!(finished.code, Some(0), "{}", finished.stderr);
    assert_eq!(finished.lines(), vec!["exactly once"]);

    let backlog =
        tokio::task::block_in_place(|| resumed_session_backlog(broker.plain_addr(), client_id));
    let pubrels = backlog.iter().filter(|p| p.first() == Some(&0x62)).count();
    assert_eq!(backlog.first().map(|p| p[0]), Some(0x20), "CONNACK first");
    assert_eq!(
        pubrels, 0,
        "the broker still waits for a PUBCOMP: {backlog:?}"
    );
}
