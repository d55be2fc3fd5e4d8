//! Admission through the bridge (issue 16): signed per-route tokens, their mint command, and the
//! per-address CONNECT rate limit. The real `ws-bridge` binary (build it first:
//! `cargo build -p ws-bridge`) in front of the real mosquitto TLS listener; loopback only.
//!
//! Tokens are made here with the documented format (docs/admission.md, "Admission tokens") and an
//! independent HMAC-SHA256 (ring), so a change of the format breaks these tests:
//! `base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))`, the payload being
//! `v1:<route>:<expiry, unix seconds>[:<client id>]`.
//!
//! Refusals before the upgrade are HTTP 401 (RFC 6750 §3.1 `invalid_token`); a CONNECT whose
//! client id is not the token's is closed with 4401, a CONNECT over the address's rate with
//! 4029 (both in `mqtt_core::wire::close`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use mqtt_core::wire::close;
use tests::bridge::{
    bridge_binary, expect_close, http_get, http_request, mqtt, read_packets, send_bin, ws_connect,
    BridgeProcess, ClientStream, Ws, WsOptions,
};
use tests::certs::{TempDir, TestPki};
use tests::mosquitto::{
    Mosquitto, MosquittoOptions, BROKER_NAME, PLATFORM_PASSWORD, PLATFORM_USER,
};
use tokio::net::TcpStream;
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;

const T: Duration = Duration::from_secs(10);
/// The bridge's key (its file holds exactly this text).
const KEY: &str = "admission-test-key-0123456789abcdefghijkl";

fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// A token over `payload` signed with `key`, made as docs/admission.md says.
fn sign(key: &str, payload: &str) -> String {
    let body = b64url(payload.as_bytes());
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    let mac = ring::hmac::sign(&k, body.as_bytes());
    format!("{body}.{}", b64url(mac.as_ref()))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn token(route: &str, ttl: i64, client_id: Option<&str>) -> String {
    let exp = now().saturating_add_signed(ttl);
    let payload = match client_id {
        Some(id) => format!("v1:{route}:{exp}:{id}"),
        None => format!("v1:{route}:{exp}"),
    };
    sign(KEY, &payload)
}

/// A broker, a config file in `dir` (key file next to it) and the bridge running it.
struct Setup {
    _pki: TestPki,
    broker: Mosquitto,
    dir: TempDir,
    config: PathBuf,
    bridge: BridgeProcess,
}

/// Routes: `local` and `other` need a token signed with the `[admission]` key; `open` needs
/// none. `limits` is added to `[limits]`.
fn setup(limits: &str) -> Setup {
    let pki = TestPki::generate();
    let broker = Mosquitto::start(&pki, MosquittoOptions::default());
    let dir = TempDir::new("bridge-admission");
    std::fs::write(dir.path().join("admission.key"), format!("{KEY}\n")).expect("key file");
    let route = |name: &str, admission: bool| {
        format!(
            "[routes.{name}]\nhost = \"127.0.0.1\"\nport = {}\nsni = \"{BROKER_NAME}\"\nca_file = \"{}\"\n{}",
            broker.tls_addr().port(),
            broker.ca_path().display(),
            if admission {
                format!("[routes.{name}.admission]\n")
            } else {
                String::new()
            }
        )
    };
    let toml = format!(
        "listen = \"127.0.0.1:0\"\ndefault_route = \"local\"\n\
         [admission]\nkey_file = \"admission.key\"\n\
         [limits]\n{limits}\n{}{}{}",
        route("local", true),
        route("other", true),
        route("open", false),
    );
    let config = dir.path().join("bridge.toml");
    std::fs::write(&config, toml).expect("bridge.toml");
    let bridge = BridgeProcess::spawn(&["--config".as_ref(), config.as_os_str()]);
    Setup {
        _pki: pki,
        broker,
        dir,
        config,
        bridge,
    }
}

impl Setup {
    fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.bridge.addr)
    }

    async fn metrics(&self) -> String {
        let (status, body) = http_get(self.bridge.addr, "/metrics").await;
        assert_eq!(status, 200);
        String::from_utf8(body).expect("metrics text")
    }

    /// A raw upgrade of `target` with `extra` header lines; (status, body).
    async fn upgrade(&self, target: &str, extra: &str) -> (u16, String) {
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: bridge.test\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: mqtt\r\n\
             {extra}\r\n"
        );
        let (status, body) = http_request(self.bridge.addr, &request).await;
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

/// Opens a WebSocket with an `Authorization: Bearer` header (and the `mqtt` subprotocol).
async fn ws_with_bearer(url: &str, token: &str) -> Ws {
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert(
        "Authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    let host = req.uri().host().expect("host").to_string();
    let port = req.uri().port_u16().expect("port");
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .expect("connect");
    let (ws, resp) = tokio_tungstenite::client_async(req, ClientStream::Plain(tcp))
        .await
        .expect("upgrade with a bearer token");
    assert_eq!(
        resp.headers()
            .get("sec-websocket-protocol")
            .map(HeaderValue::as_bytes),
        Some(&b"mqtt"[..]),
        "the subprotocol is answered next to the token (RFC 6455 4.2.2)"
    );
    ws
}

/// Sends CONNECT as `client_id` (the platform user) and returns the CONNACK return code.
async fn connack(ws: &mut Ws, client_id: &str, password: &str) -> u8 {
    send_bin(
        ws,
        mqtt::connect(client_id, Some((PLATFORM_USER, password)), 30),
    )
    .await;
    let p = read_packets(ws, 1, T).await;
    assert_eq!(mqtt::kind(&p[0]), mqtt::CONNACK, "{p:?}");
    p[0][3]
}

fn metric(text: &str, line_start: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_protected_route_refuses_missing_bad_expired_and_foreign_tokens() {
    let s = setup("");
    let good = token("local", 600, None);
    let (good_payload, good_mac) = good.split_once('.').expect("two parts");
    // The last character of a 32-byte MAC in base64url carries 4 bits: change the first one.
    let first = good_mac.chars().next().expect("mac");
    let tampered_mac = format!(
        "{good_payload}.{}{}",
        if first == 'A' { 'B' } else { 'A' },
        &good_mac[1..]
    );
    // A payload naming the other route under local's valid MAC.
    let swapped_payload = format!(
        "{}.{good_mac}",
        b64url(format!("v1:other:{}", now() + 600).as_bytes())
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("no token", "/mqtt/local".into(), "admission token required"),
        (
            "empty token",
            "/mqtt/local?token=".into(),
            "admission token required",
        ),
        (
            "tampered MAC",
            format!("/mqtt/local?token={tampered_mac}"),
            "admission token invalid",
        ),
        (
            "payload changed under a valid MAC",
            format!("/mqtt/local?token={swapped_payload}"),
            "admission token invalid",
        ),
        (
            "signed with another key",
            format!(
                "/mqtt/local?token={}",
                sign(
                    "another-key-0123456789abcdefghijklmnop",
                    &format!("v1:local:{}", now() + 600)
                )
            ),
            "admission token invalid",
        ),
        (
            "garbage",
            "/mqtt/local?token=%00%ff..!!".into(),
            "admission token invalid",
        ),
        (
            "expired",
            format!("/mqtt/local?token={}", token("local", -5, None)),
            "admission token expired",
        ),
        (
            "for another route",
            format!("/mqtt/local?token={}", token("other", 600, None)),
            "admission token is for another route",
        ),
        (
            "for another route, on the default route",
            format!("/mqtt?token={}", token("other", 600, None)),
            "admission token is for another route",
        ),
    ];
    for (what, target, text) in &cases {
        let (status, body) = s.upgrade(target, "").await;
        assert_eq!(status, 401, "{what}: {body}");
        assert!(
            body.contains(text),
            "{what}: {body:?} should contain {text:?}"
        );
        if let Some((_, t)) = target.split_once("token=").filter(|(_, t)| t.len() > 12) {
            assert!(!body.contains(t), "{what}: the answer echoes the token");
        }
    }
    // The same refusals with the token in a header.
    let (status, body) = s
        .upgrade(
            "/mqtt/local",
            &format!("Authorization: Bearer {}\r\n", token("local", -5, None)),
        )
        .await;
    assert_eq!((status, body.contains("expired")), (401, true), "{body}");
    let (status, body) = s
        .upgrade("/mqtt/local", "Authorization: Basic dTpw\r\n")
        .await;
    assert_eq!(
        status, 401,
        "a scheme other than Bearer is no token: {body}"
    );
    // A refused browser sees the upgrade fail (no 101).
    let refused = ws_connect(&s.url("/mqtt/local"), &WsOptions::default()).await;
    assert_eq!(tests::bridge::refused_status(refused), 401);
    // A route without admission needs no token.
    let (mut ws, _) = ws_connect(&s.url("/mqtt/open"), &WsOptions::default())
        .await
        .expect("open route");
    assert_eq!(
        connack(&mut ws, "admission-open", PLATFORM_PASSWORD).await,
        0
    );
    drop(ws);

    let m = s.metrics().await;
    let refused = |reason: &str| {
        metric(
            &m,
            &format!("ws_bridge_admission_refused_total{{reason=\"{reason}\"}}"),
        )
    };
    assert_eq!(refused("missing_token"), 4, "{m}");
    assert_eq!(refused("bad_token"), 4, "{m}");
    assert_eq!(refused("expired_token"), 2, "{m}");
    assert_eq!(refused("wrong_route"), 2, "{m}");
    // The log names refusals but never holds a whole token.
    let log = s.bridge.log_text();
    assert!(log.contains("admission refused"), "{log}");
    for (_, target, _) in &cases {
        if let Some((_, t)) = target.split_once("token=") {
            if t.len() > 12 {
                assert!(!log.contains(t), "the log holds a token: {log}");
            }
        }
    }
}

#[tokio::test]
async fn a_good_token_is_admitted_in_the_query_and_in_the_header() {
    let s = setup("");
    let t = token("local", 600, None);
    let (mut ws, _) = ws_connect(
        &s.url(&format!("/mqtt/local?token={t}")),
        &WsOptions::default(),
    )
    .await
    .expect("token in the query");
    assert_eq!(
        connack(&mut ws, "admission-query", PLATFORM_PASSWORD).await,
        0
    );
    drop(ws);
    // The default route (`/mqtt`) is `local`: its token works there too.
    let (mut ws, _) = ws_connect(&s.url(&format!("/mqtt?token={t}")), &WsOptions::default())
        .await
        .expect("token on the default path");
    assert_eq!(
        connack(&mut ws, "admission-default", PLATFORM_PASSWORD).await,
        0
    );
    drop(ws);
    let mut ws = ws_with_bearer(&s.url("/mqtt/local"), &t).await;
    assert_eq!(
        connack(&mut ws, "admission-header", PLATFORM_PASSWORD).await,
        0
    );
    drop(ws);
    let m = s.metrics().await;
    assert_eq!(metric(&m, "ws_bridge_admission_accepted_total"), 3, "{m}");
    let log = s.bridge.log_text();
    assert!(!log.contains(&t), "the log holds the token: {log}");
}

#[tokio::test]
async fn a_token_bound_to_a_client_id_admits_only_that_client_id() {
    let s = setup("");
    let t = token("local", 600, Some("device-7"));
    let url = s.url(&format!("/mqtt/local?token={t}"));
    let (mut ws, _) = ws_connect(&url, &WsOptions::default())
        .await
        .expect("the token is good");
    send_bin(
        &mut ws,
        mqtt::connect("device-8", Some((PLATFORM_USER, PLATFORM_PASSWORD)), 30),
    )
    .await;
    let (code, reason) = expect_close(&mut ws, T).await;
    assert_eq!(code, close::ADMISSION_REFUSED, "{reason}");
    assert!(reason.contains("client id"), "{reason}");
    assert!(!close::is_retried(code), "a refusal is not retried");

    let (mut ws, _) = ws_connect(&url, &WsOptions::default())
        .await
        .expect("the token is good");
    assert_eq!(connack(&mut ws, "device-7", PLATFORM_PASSWORD).await, 0);
    drop(ws);
    let m = s.metrics().await;
    assert_eq!(
        metric(
            &m,
            "ws_bridge_admission_refused_total{reason=\"client_id_mismatch\"}"
        ),
        1,
        "{m}"
    );
}

/// Runs `ws-bridge token ...`; (success, stdout, stderr).
fn mint_cli(config: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bridge_binary())
        .arg("token")
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ws-bridge token");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_mint_command_makes_tokens_the_bridge_admits() {
    let s = setup("");
    let (ok, t, err) = mint_cli(&s.config, &["--route", "local", "--ttl", "600"]);
    assert!(ok, "{err}");
    let (mut ws, _) = ws_connect(
        &s.url(&format!("/mqtt/local?token={t}")),
        &WsOptions::default(),
    )
    .await
    .expect("minted token");
    assert_eq!(
        connack(&mut ws, "admission-minted", PLATFORM_PASSWORD).await,
        0
    );
    drop(ws);
    // Bound to a client id.
    let (ok, t, err) = mint_cli(
        &s.config,
        &[
            "--route",
            "local",
            "--ttl",
            "600",
            "--client-id",
            "minted-9",
        ],
    );
    assert!(ok, "{err}");
    let mut ws = ws_with_bearer(&s.url("/mqtt/local"), &t).await;
    assert_eq!(connack(&mut ws, "minted-9", PLATFORM_PASSWORD).await, 0);
    drop(ws);
    // Not for another route.
    let (status, body) = s.upgrade(&format!("/mqtt/other?token={t}"), "").await;
    assert_eq!(status, 401, "{body}");
    // Refused with a reason: a route without admission, an unknown route, a zero lifetime.
    for (args, text) in [
        (&["--route", "open", "--ttl", "60"][..], "no admission"),
        (&["--route", "nope", "--ttl", "60"][..], "nope"),
        (&["--route", "local", "--ttl", "0"][..], "ttl"),
    ] {
        let (ok, out, err) = mint_cli(&s.config, args);
        assert!(!ok, "{args:?}: {out}");
        assert!(err.contains(text), "{args:?}: {err}");
    }
    let _ = &s.dir;
}

#[tokio::test]
async fn the_connect_rate_limit_closes_with_4029_after_the_burst() {
    // 3 CONNECTs at once, then one a minute: the fourth attempt within the minute is refused.
    let s = setup("connects_per_minute = 1\nconnect_burst = 3\n");
    for i in 0..3 {
        let (mut ws, _) = ws_connect(&s.url("/mqtt/open"), &WsOptions::default())
            .await
            .expect("upgrade");
        // Password guessing: the broker answers each guess (CONNACK 5, not authorized).
        let rc = connack(&mut ws, &format!("guess-{i}"), "wrong-guess").await;
        assert_eq!(rc, 5, "attempt {i}");
        let _ = tokio::time::timeout(T, async { while ws.next().await.is_some() {} }).await;
    }
    let (mut ws, _) = ws_connect(&s.url("/mqtt/open"), &WsOptions::default())
        .await
        .expect("upgrade");
    send_bin(
        &mut ws,
        mqtt::connect("guess-3", Some((PLATFORM_USER, "wrong-guess")), 30),
    )
    .await;
    let (code, reason) = expect_close(&mut ws, T).await;
    assert_eq!(code, close::RATE_LIMITED, "{reason}");
    assert!(reason.contains("rate limited"), "{reason}");
    assert!(close::is_retried(code), "retried later, with backoff");
    // A token route shares the limit: the address is the key, not the route.
    let t = token("local", 600, None);
    let (mut ws, _) = ws_connect(
        &s.url(&format!("/mqtt/local?token={t}")),
        &WsOptions::default(),
    )
    .await
    .expect("upgrade");
    send_bin(
        &mut ws,
        mqtt::connect("guess-4", Some((PLATFORM_USER, PLATFORM_PASSWORD)), 30),
    )
    .await;
    assert_eq!(expect_close(&mut ws, T).await.0, close::RATE_LIMITED);
    // The broker answered the three allowed guesses; the refused CONNECTs never reached it.
    let broker_log = s.broker.log_text();
    assert_eq!(
        broker_log.matches("disconnected, not authorised").count(),
        3,
        "{broker_log}"
    );
    let m = s.metrics().await;
    assert_eq!(
        metric(&m, "ws_bridge_connects_rate_limited_total"),
        2,
        "{m}"
    );
    assert_eq!(
        metric(&m, "ws_bridge_session_end_total{reason=\"rate_limited\"}"),
        2,
        "{m}"
    );
}
