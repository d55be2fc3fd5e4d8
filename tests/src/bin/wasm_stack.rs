//! `wasm_stack`: a real mosquitto (TLS, Murano-like ACL) and a real ws-bridge on loopback for the
//! browser tests; runs a command with their URLs in its environment, then cleans up.
//!
//! ```text
//! wasm_stack [--static DIR] [--hold] [--smoke-example] [-- COMMAND ARGS...]
//! ```
//!
//! Environment given to COMMAND (the wasm tests read it at compile time with `option_env!`):
//!
//! | variable | value |
//! |---|---|
//! | `MQTT_WS_URL` | `ws://127.0.0.1:P/mqtt`, the broker's TLS listener through the bridge |
//! | `MQTT_WS_BADTLS_URL` | `/mqtt/badtls`: a route trusting another CA (close 4010, permanent) |
//! | `MQTT_WS_DOWN_URL` | `/mqtt/down`: a route to a closed port (close 4502, retried) |
//! | `MQTT_WS_UNKNOWN_URL` | `/mqtt/nope`: refused with HTTP 404 (the browser sees close 1006) |
//! | `MQTT_CONTROL_URL` | `http://127.0.0.1:C`: `GET /restart-bridge?down_ms=N` restarts the bridge on the same port; `GET /take-over?client_id=ID&ms=N` runs a client outside the browser (raw MQTT over TCP to mosquitto) that connects as ID and reconnects 100 ms after each drop, for N ms, answering `connects=K`; `GET /connects?client_id=ID` answers how many CONNECTs with that id mosquitto logged |
//! | `MQTT_TEST_USER`, `MQTT_TEST_PASSWORD` | a broker user; it may use `<user>/#` |
//! | `WASM_BINDGEN_TEST_WEBDRIVER_JSON` | Chromium's flags (headless, no sandbox, fresh profile...) |
//!
//! With `--hold` (and no command) it prints the environment and serves until Ctrl-C, e.g. with
//! `--static client-wasm/examples/plain` to try the plain HTML example.
//!
//! `--smoke-example` (with `--static client-wasm/examples/plain` after `scripts/build-pkg.sh`)
//! drives the example page, served by the bridge, in headless Chromium: connect, subscribe,
//! publish QoS 1, see it acknowledged and received. It checks the release package end to end.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Duration;

use tests::bridge::{route_to_broker, route_to_port, test_limits};
use tests::certs::{TempDir, TestPki};
use tests::mosquitto::{Mosquitto, MosquittoOptions};
use tests::procs::free_port;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use ws_bridge::{Bridge, BridgeHandle, Config};

const USER: &str = "web";
const PASSWORD: &str = "web-secret";

struct Args {
    static_dir: Option<PathBuf>,
    hold: bool,
    smoke_example: bool,
    command: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        static_dir: None,
        hold: false,
        smoke_example: false,
        command: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--static" => {
                args.static_dir = Some(it.next().ok_or("--static needs a folder")?.into());
            }
            "--hold" => args.hold = true,
            "--smoke-example" => args.smoke_example = true,
            "--" => {
                args.command = it.collect();
                break;
            }
            "-h" | "--help" => {
                return Err("usage: wasm_stack [--static DIR] [--hold] [-- COMMAND ARGS...]".into())
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.command.is_empty() && !args.hold && !args.smoke_example {
        return Err("give a command after `--`, --hold or --smoke-example".into());
    }
    if args.smoke_example && args.static_dir.is_none() {
        return Err("--smoke-example needs --static client-wasm/examples/plain".into());
    }
    Ok(args)
}

fn bridge_config(
    listen: SocketAddr,
    broker: &Mosquitto,
    pki: &TestPki,
    static_dir: Option<PathBuf>,
) -> Config {
    let mut config = Config::single_route(listen, route_to_broker(broker)).expect("bridge config");
    config.limits = test_limits();
    config.static_dir = static_dir;
    let mut badtls = route_to_broker(broker);
    badtls.ca_file = Some(pki.other_ca());
    config.routes.insert("badtls".into(), badtls);
    // A port nobody listens on: the bridge answers 4502 "upstream unreachable".
    config
        .routes
        .insert("down".into(), route_to_port(free_port(), broker.ca_path()));
    config
}

/// Binds the bridge, retrying while the old listener's port is still being released.
async fn bind(config: &Config) -> BridgeHandle {
    let mut last = None;
    for _ in 0..50 {
        match Bridge::bind(config.clone()).await {
            Ok((_, handle)) => return handle,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("bridge failed to bind: {last:?}");
}

type Slot = Arc<Mutex<Option<BridgeHandle>>>;

/// A tiny HTTP control endpoint for the browser tests (CORS open, loopback only).
async fn control(listener: TcpListener, config: Config, bridge: Slot, broker: BrokerInfo) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let config = config.clone();
        let bridge = bridge.clone();
        let broker = broker.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let n = stream.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, body) = if path.starts_with("/restart-bridge") {
                let down_ms = path
                    .split_once("down_ms=")
                    .and_then(|(_, v)| v.split('&').next())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                let mut slot = bridge.lock().await;
                if let Some(old) = slot.take() {
                    old.shutdown().await;
                }
                eprintln!("wasm_stack: bridge stopped; restarting in {down_ms} ms");
                tokio::time::sleep(Duration::from_millis(down_ms)).await;
                *slot = Some(bind(&config).await);
                eprintln!("wasm_stack: bridge restarted");
                ("200 OK", "restarted".to_string())
            } else if path.starts_with("/take-over") {
                let client_id = query(&path, "client_id").unwrap_or_default();
                let ms = query(&path, "ms").and_then(|v| v.parse().ok()).unwrap_or(0);
                let connects = take_over(&broker, &client_id, ms).await;
                ("200 OK", format!("connects={connects}"))
            } else if path.starts_with("/connects") {
                let client_id = query(&path, "client_id").unwrap_or_default();
                let log = std::fs::read_to_string(&broker.log).unwrap_or_default();
                let needle = format!(" as {client_id} (");
                let count = log
                    .lines()
                    .filter(|l| l.contains("New client connected") && l.contains(&needle))
                    .count();
                ("200 OK", count.to_string())
            } else if path.starts_with("/health") {
                ("200 OK", "ok".to_string())
            } else {
                ("404 Not Found", "not found".to_string())
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nAccess-Control-Allow-Origin: *\r\n\
                 Cross-Origin-Resource-Policy: cross-origin\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// Where the control endpoint reaches the broker: its plain listener and its log.
#[derive(Clone)]
struct BrokerInfo {
    plain: SocketAddr,
    log: PathBuf,
}

/// The value of `key` in a request path's query string.
fn query(path: &str, key: &str) -> Option<String> {
    let (_, q) = path.split_once('?')?;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

/// A client outside the browser that keeps its client id: raw MQTT 3.1.1 over TCP, CONNECT as
/// `client_id`, stay until the broker drops it (another CONNECT with the id, [MQTT-3.1.4-2]),
/// reconnect 100 ms later; for `ms`. Returns how many CONNECTs it sent.
async fn take_over(broker: &BrokerInfo, client_id: &str, ms: u64) -> u32 {
    use tests::bridge::mqtt;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    let mut connects = 0;
    while tokio::time::Instant::now() < deadline {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(broker.plain).await {
            let connect = mqtt::connect(client_id, Some((USER, PASSWORD)), 30);
            if stream.write_all(&connect).await.is_ok() {
                connects += 1;
                let mut buf = [0u8; 256];
                // Until dropped (EOF or error) or the time is up.
                while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut buf)).await
                {
                    if n == 0 {
                        break;
                    }
                }
                let _ = stream.write_all(&mqtt::disconnect()).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    connects
}

/// Drives `client-wasm/examples/plain/index.html` (served by the bridge) like a user would.
fn smoke_example(page: &str) {
    use tests::webdriver::Browser;
    let browser = Browser::start();
    browser.goto(page);
    let wait = Duration::from_secs(15);
    browser.wait_for("the example page", wait, |b| b.find("#connect"));
    browser.fill("#username", USER);
    browser.fill("#password", PASSWORD);
    browser.fill("#filter", &format!("{USER}/example/#"));
    browser.fill("#topic", &format!("{USER}/example/hello"));
    browser.fill("#message", "hello from the plain example");
    browser.click("#connect");
    browser.wait_text("#state", "connected", wait);
    browser.click("#subscribe");
    browser.wait_text("#log", "subscribed", wait);
    browser.click("#publish");
    browser.wait_text("#log", "acknowledged", wait);
    browser.wait_text("#log", "\"hello from the plain example\"", wait);
    browser.click("#end");
    browser.wait_text("#state", "closed", wait);
}

fn webdriver_json(dir: &TempDir) -> PathBuf {
    let profile = dir.path().join("chromium-profile");
    let mut args: Vec<String> = tests::webdriver::CHROMIUM_FLAGS
        .iter()
        .map(ToString::to_string)
        .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let json = serde_json::json!({
        "goog:chromeOptions": { "binary": tests::webdriver::CHROMIUM, "args": args }
    });
    let path = dir.path().join("webdriver.json");
    std::fs::write(&path, format!("{json}\n")).expect("write webdriver.json");
    path
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("wasm_stack: {e}");
            return ExitCode::from(2);
        }
    };
    let pki = TestPki::generate();
    let opts = MosquittoOptions {
        users: vec![(USER.into(), PASSWORD.into())],
        ..MosquittoOptions::default()
    };
    let broker = Mosquitto::start(&pki, opts);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = TempDir::new("wasm-stack");
    let code = runtime.block_on(async {
        let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let config = bridge_config(listen, &broker, &pki, args.static_dir.clone());
        let bridge: Slot = Arc::new(Mutex::new(Some(bind(&config).await)));
        let control_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("control listener");
        let control_addr = control_listener.local_addr().expect("control addr");
        let info = BrokerInfo {
            plain: broker.plain_addr(),
            log: broker.dir().join("mosquitto.log"),
        };
        tokio::spawn(control(control_listener, config, bridge.clone(), info));

        let env = [
            ("MQTT_WS_URL", format!("ws://{listen}/mqtt")),
            ("MQTT_WS_BADTLS_URL", format!("ws://{listen}/mqtt/badtls")),
            ("MQTT_WS_DOWN_URL", format!("ws://{listen}/mqtt/down")),
            ("MQTT_WS_UNKNOWN_URL", format!("ws://{listen}/mqtt/nope")),
            ("MQTT_CONTROL_URL", format!("http://{control_addr}")),
            ("MQTT_TEST_USER", USER.to_string()),
            ("MQTT_TEST_PASSWORD", PASSWORD.to_string()),
            (
                "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
                webdriver_json(&dir).display().to_string(),
            ),
        ];
        for (k, v) in &env {
            eprintln!("wasm_stack: {k}={v}");
        }
        let code = if args.smoke_example {
            let page = format!("http://{listen}/");
            match tokio::task::spawn_blocking(move || smoke_example(&page)).await {
                Ok(()) => {
                    eprintln!("wasm_stack: example smoke test passed");
                    0
                }
                Err(e) => {
                    eprintln!("wasm_stack: example smoke test FAILED: {e}");
                    1
                }
            }
        } else if args.command.is_empty() {
            eprintln!("wasm_stack: serving; open http://{listen}/ (Ctrl-C to stop)");
            let _ = tokio::signal::ctrl_c().await;
            0
        } else {
            let mut cmd = Command::new(&args.command[0]);
            cmd.args(&args.command[1..])
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
            let status = tokio::task::spawn_blocking(move || cmd.status()).await;
            match status {
                Ok(Ok(s)) => s.code().unwrap_or(1),
                Ok(Err(e)) => {
                    eprintln!("wasm_stack: cannot run {:?}: {e}", args.command[0]);
                    127
                }
                Err(e) => {
                    eprintln!("wasm_stack: {e}");
                    1
                }
            }
        };
        if let Some(handle) = bridge.lock().await.take() {
            handle.shutdown().await;
        }
        code
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    drop(broker);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
