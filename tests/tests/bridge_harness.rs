//! The shared harness itself: PKI files, mosquitto reload (SIGHUP) and restart with
//! persistence, the Murano-like ACL, the WebSockets capability probe.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::process::Command;
use std::time::Duration;

use tests::bridge::mqtt::{self, TcpMqtt};
use tests::certs::TestPki;
use tests::mosquitto::{
    supports_websockets, Mosquitto, MosquittoOptions, PLATFORM_PASSWORD, PLATFORM_USER,
};

const T: Duration = Duration::from_secs(10);

/// Connects as `client_id`, subscribes to every filter, has the platform publish to every
/// topic (then a marker on `marker`, which must be readable), and returns the topics received.
async fn delivered(
    m: &Mosquitto,
    client_id: &str,
    user: Option<(&str, &str)>,
    filters: &[&str],
    topics: &[&str],
    marker: &str,
) -> Vec<String> {
    let mut s = TcpMqtt::connect(m.plain_addr(), client_id, user, T).await;
    for (i, f) in filters.iter().enumerate() {
        s.send(&mqtt::subscribe(i as u16 + 1, f, 0)).await;
        assert_eq!(mqtt::kind(&s.next_packet(T).await), mqtt::SUBACK);
    }
    let plat = Some((PLATFORM_USER, PLATFORM_PASSWORD));
    let mut p = TcpMqtt::connect(
        m.plain_addr(),
        &format!("acl-platform-{client_id}"),
        plat,
        T,
    )
    .await;
    for t in topics.iter().chain([&marker]) {
        p.send(&mqtt::publish(t, b"x", 0, 0)).await;
    }
    let mut got = Vec::new();
    loop {
        let pk = s.next_packet(T).await;
        if mqtt::kind(&pk) != mqtt::PUBLISH {
            continue;
        }
        let (topic, _) = mqtt::publish_parts(&pk).unwrap();
        if topic == marker {
            return got;
        }
        got.push(topic);
    }
}

#[test]
fn pki_files_exist_and_parse() {
    let pki = TestPki::generate();
    for f in [
        "ca.pem",
        "broker.pem",
        "broker.key",
        "localhost.pem",
        "wrong.pem",
        "expired.pem",
        "other-ca.pem",
        "other.pem",
        "client.pem",
        "client.key",
    ] {
        let text = std::fs::read_to_string(pki.path(f)).unwrap();
        assert!(text.starts_with("-----BEGIN"), "{f}");
    }
    let dir = pki.dir().to_path_buf();
    drop(pki);
    assert!(!dir.exists(), "PKI folder removed on drop");
}

#[tokio::test]
async fn acl_is_murano_like() {
    let pki = TestPki::generate();
    let mut m = Mosquitto::start(&pki, MosquittoOptions::default());
    m.add_user("dev1", "pw1");
    // anonymous: reads only its own activation topics (mosquitto grants the SUBSCRIBE but
    // filters delivery by the ACL)
    let got = delivered(
        &m,
        "dev9",
        None,
        &["activate/#", "$provision/#", "dev1/#"],
        &[
            "activate/other",
            "$provision/other",
            "dev1/x",
            "$provision/dev9",
        ],
        "activate/dev9",
    )
    .await;
    assert_eq!(got, ["$provision/dev9"]);
    // a device: its own tree only
    let got = delivered(
        &m,
        "d1",
        Some(("dev1", "pw1")),
        &["dev1/#", "dev2/#", "activate/#"],
        &["dev2/x", "activate/d1", "dev1/a"],
        "dev1/marker",
    )
    .await;
    assert_eq!(
        got,
        ["activate/d1", "dev1/a"],
        "pattern read activate/%c applies to everyone"
    );
    // the platform: everything, $provision included
    let got = delivered(
        &m,
        "p",
        Some((PLATFORM_USER, PLATFORM_PASSWORD)),
        &["#", "$provision/#"],
        &["activate", "$provision/dev9", "dev1/x"],
        "marker",
    )
    .await;
    assert_eq!(got, ["activate", "$provision/dev9", "dev1/x"]);
}

#[test]
fn add_user_reloads_with_sighup() {
    let pki = TestPki::generate();
    let mut m = Mosquitto::start(&pki, MosquittoOptions::default());
    assert!(!m.can_login("late", "pw"));
    m.add_user("late", "pw");
    assert!(m.can_login("late", "pw"));
    assert!(!m.can_login("late", "wrong"));
    assert!(m.can_login(PLATFORM_USER, PLATFORM_PASSWORD));
}

#[test]
fn restart_keeps_persistent_sessions_and_kill_stops() {
    let pki = TestPki::generate();
    let mut m = Mosquitto::start(&pki, MosquittoOptions::default());
    let port = m.plain_addr().port().to_string();
    let sub = |extra: &[&str]| {
        Command::new("mosquitto_sub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-u",
                PLATFORM_USER,
                "-P",
                PLATFORM_PASSWORD,
            ])
            .args(["-c", "-i", "persist-1", "-q", "1", "-t", "platform/persist"])
            .args(extra)
            .output()
            .expect("mosquitto_sub")
    };
    assert!(sub(&["-E"]).status.success(), "subscribe");
    m.restart();
    let pub_ok = Command::new("mosquitto_pub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-u",
            PLATFORM_USER,
            "-P",
            PLATFORM_PASSWORD,
        ])
        .args(["-q", "1", "-t", "platform/persist", "-m", "kept"])
        .status()
        .unwrap()
        .success();
    assert!(pub_ok);
    m.restart();
    let out = sub(&["-C", "1", "-W", "5"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "kept",
        "log:\n{}",
        m.log_text()
    );
    m.kill();
    assert!(!m.is_running());
    assert!(std::net::TcpStream::connect(m.plain_addr()).is_err());
}

#[test]
fn websockets_probe_matches_listener() {
    let pki = TestPki::generate();
    let m = Mosquitto::start(
        &pki,
        MosquittoOptions {
            websockets: true,
            ..MosquittoOptions::default()
        },
    );
    println!(
        "mosquitto websockets listener supported here: {}",
        supports_websockets()
    );
    assert_eq!(m.ws_addr().is_some(), supports_websockets());
}
