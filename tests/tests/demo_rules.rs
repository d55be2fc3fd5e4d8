//! The demo's Murano-like rules, attacked through the real bridge (issue 16): the `demo demo`
//! binary on a fresh data directory, raw MQTT 3.1.1 packets over its in-process ws-bridge
//! (`/mqtt`), its TLS front and rumqttd behind it.
//!
//! Refusals: CONNACK 5 (not authorized) for a CONNECT the rules refuse [MQTT-3.2.2-5], SUBACK
//! 0x80 for a refused filter [MQTT-3.9.3-1], and a refused PUBLISH acknowledged and dropped
//! (MQTT 3.1.1 has no PUBLISH refusal; mosquitto does the same). SECURITY.md "Demo rules" maps
//! each rule to its test here.
//!
//! Build the binary first: `cargo build -p demo` (same CARGO_TARGET_DIR).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mqtt_core::wire::frame::read_frame_header;
use tests::bridge::mqtt::{self, CONNACK, PINGRESP, PUBACK, PUBLISH, SUBACK};
use tests::bridge::{send_bin, ws_connect, Ws, WsOptions};
use tests::certs::TempDir;
use tests::demo_proc::Demo;
use tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(15);
/// How long a message that must not arrive is waited for.
const QUIET: Duration = Duration::from_millis(700);
/// CONNACK return code 5: not authorized.
const NOT_AUTHORIZED: u8 = 5;

/// One demo at a time: these machines have two cores.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running `demo demo` on `dir` (no web app: these tests speak MQTT only), killed on drop.
fn start_demo(dir: &Path) -> Demo {
    Demo::start_with(dir, &dir.join("no-web-app"))
}

/// CONNECT (MQTT 3.1.1) with the clean session flag given.
fn connect_packet(client_id: &str, login: Option<(&str, &str)>, clean: bool) -> Vec<u8> {
    let mut connect = mqtt::connect(client_id, login, 30);
    // Byte 9 is the connect flags (fixed header 2 bytes while the packet is under 128 bytes).
    assert!(connect.len() < 128, "short CONNECT expected");
    if !clean {
        connect[9] &= !0x02;
    }
    connect
}

/// Why no packet came.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// Nothing within the time.
    Quiet,
    /// The bridge closed the WebSocket (or the TCP connection ended).
    Closed,
}

/// Raw MQTT over one WebSocket to the demo's bridge.
struct Client {
    ws: Ws,
    buf: Vec<u8>,
    next_pid: u16,
}

impl Client {
    /// Opens the WebSocket and sends CONNECT; returns the client and the CONNACK's
    /// (session present, return code), or `Err` when the connection ended without a CONNACK.
    async fn connect(
        demo: &Demo,
        client_id: &str,
        login: Option<(&str, &str)>,
        clean: bool,
    ) -> Result<(Client, bool, u8), Ended> {
        let (ws, _) = ws_connect(&demo.banner.ws_url, &WsOptions::default())
            .await
            .expect("WebSocket to the demo's bridge");
        let mut c = Client {
            ws,
            buf: Vec::new(),
            next_pid: 1,
        };
        send_bin(&mut c.ws, connect_packet(client_id, login, clean)).await;
        let ack = c.next_packet(LIMIT).await?;
        assert_eq!(mqtt::kind(&ack), CONNACK, "{client_id}: {ack:02x?}");
        let (present, code) = (ack.get(2).copied(), ack.get(3).copied());
        Ok((c, present == Some(1), code.unwrap_or(0xff)))
    }

    /// The CONNACK return code (`None`: closed without one).
    async fn connack_code(demo: &Demo, client_id: &str, login: Option<(&str, &str)>) -> Option<u8> {
        Client::connect(demo, client_id, login, true)
            .await
            .ok()
            .map(|(_, _, code)| code)
    }

    /// Connects and panics unless accepted.
    async fn admitted(
        demo: &Demo,
        client_id: &str,
        login: Option<(&str, &str)>,
        clean: bool,
    ) -> Client {
        let (c, _, code) = Client::connect(demo, client_id, login, clean)
            .await
            .unwrap_or_else(|e| panic!("{client_id}: no CONNACK ({e:?})"));
        assert_eq!(code, 0, "{client_id} with {login:?} refused");
        c
    }

    async fn next_packet(&mut self, limit: Duration) -> Result<Vec<u8>, Ended> {
        let read = async {
            loop {
                if let Some(n) = mqtt::first_packet_len(&self.buf) {
                    return Ok(self.buf.drain(..n).collect());
                }
                match self.ws.next().await {
                    Some(Ok(Message::Binary(b))) => self.buf.extend_from_slice(&b),
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Err(Ended::Closed),
                    Some(Ok(_)) => {}
                }
            }
        };
        tokio::time::timeout(limit, read)
            .await
            .unwrap_or(Err(Ended::Quiet))
    }

    fn pid(&mut self) -> u16 {
        let pid = self.next_pid;
        self.next_pid = self.next_pid.wrapping_add(1).max(1);
        pid
    }

    /// The next packet of `kind`, answering (PUBACK) and skipping PUBLISHes on the way.
    async fn expect(&mut self, kind: u8, what: &str) -> Vec<u8> {
        loop {
            let p = self
                .next_packet(LIMIT)
                .await
                .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            if mqtt::kind(&p) == kind {
                return p;
            }
            self.ack_if_publish(&p).await;
        }
    }

    async fn ack_if_publish(&mut self, p: &[u8]) {
        if mqtt::kind(p) == PUBLISH && (p[0] >> 1) & 3 == 1 {
            if let Some(pid) = publish_pid(p) {
                send_bin(&mut self.ws, mqtt::puback(pid)).await;
            }
        }
    }

    /// SUBSCRIBE to one filter at QoS 1; the SUBACK's return code.
    async fn subscribe(&mut self, filter: &str) -> u8 {
        let pid = self.pid();
        send_bin(&mut self.ws, mqtt::subscribe(pid, filter, 1)).await;
        let ack = self.expect(SUBACK, &format!("SUBACK for {filter}")).await;
        ack.get(4).copied().unwrap_or(0xff)
    }

    /// PUBLISH at QoS 1 and wait for the PUBACK (the front acknowledges refused ones too).
    async fn publish(&mut self, topic: &str, payload: &[u8]) {
        let pid = self.pid();
        send_bin(&mut self.ws, mqtt::publish(topic, payload, 1, pid)).await;
        self.expect(PUBACK, &format!("PUBACK for {topic}")).await;
    }

    /// The next application message (topic, payload) within `limit`.
    async fn message(&mut self, limit: Duration) -> Result<(String, Vec<u8>), Ended> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let p = self.next_packet(left).await?;
            if mqtt::kind(&p) == PUBLISH {
                self.ack_if_publish(&p).await;
                return Ok(mqtt::publish_parts(&p).expect("a well-formed PUBLISH"));
            }
        }
    }

    /// Whether the connection still works: PINGREQ answered by PINGRESP.
    async fn alive(&mut self) -> bool {
        if self
            .ws
            .send(Message::Binary(mqtt::pingreq().into()))
            .await
            .is_err()
        {
            return false;
        }
        loop {
            match self.next_packet(Duration::from_secs(5)).await {
                Ok(p) if mqtt::kind(&p) == PINGRESP => return true,
                Ok(p) => self.ack_if_publish(&p).await,
                Err(_) => return false,
            }
        }
    }

    async fn disconnect(mut self) {
        let _ = self
            .ws
            .send(Message::Binary(mqtt::disconnect().into()))
            .await;
        let _ = self.ws.close(None).await;
    }
}

/// The packet identifier of a QoS 1 or 2 PUBLISH.
fn publish_pid(p: &[u8]) -> Option<u16> {
    let i = read_frame_header(p).ok()??.header_len;
    let topic_len = usize::from(u16::from_be_bytes([*p.get(i)?, *p.get(i + 1)?]));
    let at = i + 2 + topic_len;
    Some(u16::from_be_bytes([*p.get(at)?, *p.get(at + 1)?]))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The legacy activation as the seed's activate.py does it (client id = identity): the
/// password, or `None` when no reply came.
async fn activate(demo: &Demo, identity: &str) -> Option<String> {
    let mut anon = Client::admitted(demo, identity, None, true).await;
    assert_eq!(anon.subscribe(&format!("activate/{identity}")).await, 1);
    anon.publish("activate", identity.as_bytes()).await;
    let reply = anon.message(Duration::from_secs(3)).await.ok();
    anon.disconnect().await;
    reply.map(|(topic, payload)| {
        assert_eq!(topic, format!("activate/{identity}"));
        String::from_utf8(payload).expect("a text password")
    })
}

/// The `devices.txt` line of `identity`, with the identity replaced by `as_name`.
fn device_line(dir: &Path, identity: &str, as_name: &str) -> String {
    let text = std::fs::read_to_string(dir.join("devices.txt")).expect("devices.txt");
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(identity))
        .unwrap_or_else(|| panic!("no {identity} in devices.txt:\n{text}"));
    line.replacen(identity, as_name, 1)
}

#[test]
fn reserved_identities_are_refused_at_activation_and_at_login() {
    let _serial = serial();
    let data = TempDir::new("demo-rules-reserved");
    let dir = data.path();
    // A password for `seed`, then copied to reserved names in devices.txt (as a data directory
    // from an older demo could hold): loading skips them, logging in as them is refused.
    let password = {
        let demo = start_demo(dir);
        runtime()
            .block_on(activate(&demo, "seed"))
            .expect("seed activated")
    };
    let planted: Vec<String> = ["activate", "demo-activation", "platform-portal"]
        .iter()
        .map(|name| device_line(dir, "seed", name))
        .collect();
    let mut text = std::fs::read_to_string(dir.join("devices.txt")).expect("devices.txt");
    text.push_str(&(planted.join("\n") + "\n"));
    std::fs::write(dir.join("devices.txt"), text).expect("write devices.txt");

    let demo = start_demo(dir);
    runtime().block_on(async {
        // Anonymous: the client id is the identity to activate; reserved ones get CONNACK 5
        // (so `activate` can never be activated and own `activate/#`).
        for name in [
            "activate",
            "demo-activation",
            "demo-front",
            "platform",
            "platform-portal",
            "a/b",
            "+",
            "#",
            "$provision",
        ] {
            assert_eq!(
                Client::connack_code(&demo, name, None).await,
                Some(NOT_AUTHORIZED),
                "anonymous CONNECT with client id {name:?}"
            );
        }
        // U+0000 is not allowed in an MQTT string [MQTT-1.5.3-2]; nor in an identity.
        assert_eq!(
            Client::connack_code(&demo, "a\0b", None).await,
            Some(NOT_AUTHORIZED),
            "client id with NUL"
        );
        // An anonymous client cannot ask for a reserved identity in the payload either.
        let mut anon = Client::admitted(&demo, "007", None, true).await;
        anon.publish("activate", b"activate").await; // acknowledged, dropped
        anon.disconnect().await;

        // Login as a reserved name: CONNACK 5, whatever the password.
        for name in ["activate", "demo-activation", "platform-portal", "a/b"] {
            assert_eq!(
                Client::connack_code(&demo, name, Some((name, &password))).await,
                Some(NOT_AUTHORIZED),
                "login as {name:?}"
            );
        }
        // The legitimate device still logs in; later devices' activation replies stay private.
        let mut seed = Client::admitted(&demo, "seed", Some(("seed", &password)), true).await;
        assert_eq!(
            seed.subscribe("activate/#").await,
            0x80,
            "[MQTT-3.9.3-1] refused"
        );
        assert!(activate(&demo, "007").await.is_some(), "007 activates");
        assert!(seed.alive().await);
    });
}

#[test]
fn an_anonymous_client_activates_only_its_own_client_id() {
    let _serial = serial();
    let data = TempDir::new("demo-rules-own-id");
    let demo = start_demo(data.path());
    runtime().block_on(async {
        // `mallory` asks for 007's activation: acknowledged and dropped by the front.
        let mut mallory = Client::admitted(&demo, "mallory", None, true).await;
        mallory.publish("activate", b"007").await;
        mallory.publish("activate", b" 007\n").await;
        tokio::time::sleep(QUIET).await;
        mallory.disconnect().await;
        // So 007's one activation is still there, for 007.
        let password = activate(&demo, "007")
            .await
            .expect("007's activation was used up by another client");
        let mut device = Client::admitted(&demo, "007", Some(("007", &password)), true).await;
        assert!(device.alive().await);
    });
}

#[test]
fn service_and_platform_client_ids_cannot_be_used_by_clients() {
    let _serial = serial();
    let data = TempDir::new("demo-rules-service-ids");
    let demo = start_demo(data.path());
    let platform_login = ("platform", demo.banner.platform_password.as_str());
    runtime().block_on(async {
        // The activation service's link is `demo-activation` inside rumqttd: a client using
        // that id would knock it off until restart.
        assert_eq!(
            Client::connack_code(&demo, "demo-activation", None).await,
            Some(NOT_AUTHORIZED),
            "anonymous as the activation service"
        );
        assert_eq!(
            Client::connack_code(&demo, "demo-activation", Some(platform_login)).await,
            Some(NOT_AUTHORIZED),
            "the platform as the activation service"
        );
        let password = activate(&demo, "007")
            .await
            .expect("the activation service still answers");

        // The web app's platform page connects as `platform-portal`: nobody else may.
        let mut portal =
            Client::admitted(&demo, "platform-portal", Some(platform_login), true).await;
        assert_eq!(portal.subscribe("007/#").await, 1);
        assert_eq!(
            Client::connack_code(&demo, "platform-portal", None).await,
            Some(NOT_AUTHORIZED),
            "anonymous as the platform"
        );
        assert_eq!(
            Client::connack_code(&demo, "platform-portal", Some(("007", &password))).await,
            Some(NOT_AUTHORIZED),
            "device 007 as the platform"
        );
        assert_eq!(
            Client::connack_code(&demo, "demo-activation", Some(("007", &password))).await,
            Some(NOT_AUTHORIZED),
            "device 007 as the activation service"
        );
        // The platform was not knocked off.
        let mut device = Client::admitted(&demo, "007", Some(("007", &password)), true).await;
        device.publish("007/temperature", b"21").await;
        assert_eq!(
            portal.message(LIMIT).await,
            Ok(("007/temperature".to_string(), b"21".to_vec())),
            "the platform's session survived"
        );
    });
}

#[test]
fn a_device_client_id_must_be_its_identity() {
    let _serial = serial();
    let data = TempDir::new("demo-rules-device-ids");
    let demo = start_demo(data.path());
    runtime().block_on(async {
        let pw7 = activate(&demo, "007").await.expect("007");
        let pw8 = activate(&demo, "008").await.expect("008");
        let mut d7 = Client::admitted(&demo, "007", Some(("007", &pw7)), false).await;
        assert_eq!(d7.subscribe("007/#").await, 1);

        // 008 may not take 007's client id (it would knock 007 off and, with clean session 0,
        // inherit its `007/#`).
        for clean in [true, false] {
            let refused = Client::connect(&demo, "007", Some(("008", &pw8)), clean)
                .await
                .map(|(_, _, code)| code);
            assert_eq!(refused, Ok(NOT_AUTHORIZED), "008 as 007 (clean {clean})");
        }
        for other in ["0070", "00", "007/x", "007-", "008-007"] {
            assert_eq!(
                Client::connack_code(&demo, other, Some(("007", &pw7))).await,
                Some(NOT_AUTHORIZED),
                "007 as {other:?}"
            );
        }
        // An anonymous CONNECT with the device's id is an activation attempt (silently
        // unanswered, as on Murano): admitted in its own namespace, the device stays connected.
        let mut anon = Client::admitted(&demo, "007", None, true).await;
        assert!(anon.alive().await);
        assert!(d7.alive().await, "anonymous 007 knocked device 007 off");

        // The documented suffixes: more connections of the same device (the web app's echo
        // host and device loop), all at once.
        let mut echo = Client::admitted(&demo, "007-echo-host", Some(("007", &pw7)), true).await;
        let mut looping = Client::admitted(&demo, "007-device", Some(("007", &pw7)), true).await;
        echo.publish("007/echo", b"hi").await;
        assert_eq!(
            d7.message(LIMIT).await,
            Ok(("007/echo".to_string(), b"hi".to_vec()))
        );
        for (name, c) in [
            ("007", &mut d7),
            ("007-echo-host", &mut echo),
            ("007-device", &mut looping),
        ] {
            assert!(c.alive().await, "{name} knocked off");
        }
    });
}

#[test]
fn anonymous_cannot_take_over_or_inherit_a_device_session() {
    let _serial = serial();
    let data = TempDir::new("demo-rules-session");
    let demo = start_demo(data.path());
    let platform_login = ("platform", demo.banner.platform_password.as_str());
    runtime().block_on(async {
        let pw7 = activate(&demo, "007").await.expect("007");
        // 007 keeps a session with `007/#`, and goes away.
        let mut d7 = Client::admitted(&demo, "007", Some(("007", &pw7)), false).await;
        assert_eq!(d7.subscribe("007/#").await, 1);
        d7.disconnect().await;
        let mut platform =
            Client::admitted(&demo, "platform-test", Some(platform_login), true).await;
        platform.publish("007/setpoint", b"5").await;

        // Anonymous may not keep a session: CONNACK 5.
        let kept = Client::connect(&demo, "007", None, false)
            .await
            .map(|(_, present, code)| (present, code));
        assert_eq!(
            kept,
            Ok((false, NOT_AUTHORIZED)),
            "anonymous 007 with clean session 0"
        );
        // With a clean session it starts from nothing: no session, no queued message.
        let (mut anon, present, code) = Client::connect(&demo, "007", None, true)
            .await
            .expect("a CONNACK");
        assert_eq!((present, code), (false, 0));
        assert_eq!(
            anon.message(QUIET).await,
            Err(Ended::Quiet),
            "anonymous got 007's queue"
        );
        anon.disconnect().await;

        // The device's own session is intact: the queued write arrives.
        let (mut d7, present, code) = Client::connect(&demo, "007", Some(("007", &pw7)), false)
            .await
            .expect("a CONNACK");
        assert_eq!((present, code), (true, 0), "007's session was lost");
        assert_eq!(
            d7.message(LIMIT).await,
            Ok(("007/setpoint".to_string(), b"5".to_vec()))
        );
    });
}

#[test]
fn dollar_topics_are_not_matched_by_leading_wildcards() {
    let _serial = serial();
    let data = TempDir::new("demo-rules-dollar");
    let demo = start_demo(data.path());
    let platform_login = ("platform", demo.banner.platform_password.as_str());
    runtime().block_on(async {
        // [MQTT-4.7.2-1]: `#` and `+/…` never match a topic starting with `$`.
        let mut all = Client::admitted(&demo, "platform-all", Some(platform_login), true).await;
        assert_eq!(all.subscribe("#").await, 1);
        assert_eq!(all.subscribe("+/+").await, 1);
        let mut dollar =
            Client::admitted(&demo, "platform-dollar", Some(platform_login), true).await;
        assert_eq!(dollar.subscribe("$demo/+").await, 1);

        // A device's provisioning request, and a `$` message at QoS 1 (dropped for `all` but
        // acknowledged to the broker, so later messages still flow).
        let mut anon = Client::admitted(&demo, "009", None, true).await;
        anon.publish("$provision/009", b"").await;
        dollar.publish("$demo/x", b"d").await;
        assert_eq!(
            dollar.message(LIMIT).await,
            Ok(("$demo/x".to_string(), b"d".to_vec())),
            "an explicit `$` filter receives"
        );
        all.publish("007/temperature", b"21").await;
        assert_eq!(
            all.message(LIMIT).await,
            Ok(("007/temperature".to_string(), b"21".to_vec())),
            "`#` received a `$` topic first"
        );
        // The same message again through `+/+` is allowed; nothing else.
        while let Ok((topic, _)) = all.message(QUIET).await {
            assert_eq!(topic, "007/temperature", "a wildcard received a `$` topic");
        }
        anon.disconnect().await;

        // A kept session (clean session 0) keeps its `$` filter: resumed without subscribing
        // again, it still receives (and `#` still does not).
        let mut kept = Client::admitted(&demo, "platform-kept", Some(platform_login), false).await;
        assert_eq!(kept.subscribe("$demo/+").await, 1);
        kept.disconnect().await;
        let (mut kept, present, code) =
            Client::connect(&demo, "platform-kept", Some(platform_login), false)
                .await
                .expect("a CONNACK");
        assert_eq!((present, code), (true, 0));
        dollar.publish("$demo/y", b"e").await;
        assert_eq!(
            kept.message(LIMIT).await,
            Ok(("$demo/y".to_string(), b"e".to_vec())),
            "the resumed session's `$` filter"
        );
        // Under load the `+/+` copy of 007/temperature may arrive this late; no `$` topic may.
        while let Ok((topic, _)) = all.message(QUIET).await {
            assert!(!topic.starts_with('$'), "a wildcard received {topic}");
        }
    });
}
