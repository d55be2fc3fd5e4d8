//! Scale-out with real parts: HAProxy (configured from `ws-bridge/deploy/haproxy.cfg`) in front
//! of three ws-bridge processes, TLS to mosquitto with persistence. Each scenario runs one
//! client with a persistent session (clean session off, fixed client id) that sends and
//! receives QoS 1 and QoS 2 through HAProxy, while a broker-side feeder publishes into its
//! topics and a broker-side observer counts what the broker passed on:
//!
//! 1. only bridge 1 runs: the client connects there (checked on the bridge's `/metrics`);
//! 2. scale out: bridges 2 and 3 start and HAProxy's health checks (`/healthz`) see them up;
//! 3. SIGKILL bridge 1: the client reconnects through HAProxy to bridge 2 or 3 and resumes its
//!    session (CONNACK session present, MQTT-3.2.2-2);
//! 4. SIGTERM (drain) the bridge now carrying it (with several clients, the one carrying most):
//!    it stops listening, closes with 1001, and its clients move to the last bridge;
//! 5. every message id is counted on both sides: nothing lost, no QoS 2 duplicate (MQTT-4.3.3,
//!    exactly once), QoS 1 duplicates only as MQTT-4.3.2 permits (reported).
//!
//! Clients: client-wasm's JavaScript API in headless Chromium, the `mqttws` CLI, paho-mqtt 2.1.0
//! over WebSockets. Figures (sent, received, lost, duplicated, reconnect time) are printed.
//!
//! Needs: `cargo build -p ws-bridge -p mqttws --bins`, `scripts/build-pkg.sh` (client-wasm/pkg),
//! Debian's haproxy, nginx-light, mosquitto, chromium (`bash scripts/setup.sh all`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::app_page::package_site;
use tests::bridge::{mqtt, read_packets, send_bin, ws_connect, BridgeProcess, WsOptions};
use tests::certs::TempDir;
use tests::cli;
use tests::farm::{
    fail_over, now_ms, wait_until, Failover, Farm, Probe, FEED, LIMIT, PASSWORD, USER,
};
use tests::haproxy::{self, http_get_text, Setup};
use tests::mosquitto::Mosquitto;
use tests::nginx::Nginx;
use tests::procs::loopback;
use tests::tally::{check, Figures};
use tests::webdriver::Browser;

/// One farm at a time: two cores.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn report(client: &str, sent: u32, side: &Figures, broker: &Figures, fo: &Failover) {
    println!(
        "scale-out {client}: sent {sent} QoS 1 + {sent} QoS 2; the broker passed on {} (QoS 2 duplicates {}, QoS 1 duplicates {}); \
         the client received {} of {} (lost {}, QoS 2 duplicates {}, QoS 1 duplicates {}); \
         reconnect after SIGKILL {} ms, after SIGTERM of bridge{} {} ms",
        broker.received,
        broker.dup_qos2,
        broker.dup_qos1,
        side.received,
        2 * (sent + FEED),
        side.lost,
        side.dup_qos2,
        side.dup_qos1,
        fo.after_kill_ms,
        fo.drained,
        fo.after_drain_ms,
    );
}

/// The broker side saw each of the client's publishes (ids 1..=sent) and each feed message.
fn check_broker_side(farm: &Farm, sent: u32) -> Figures {
    check(
        "the broker-side observer",
        &farm.observer.received(),
        &client_classes(sent),
    )
}

fn client_classes(sent: u32) -> [(&'static str, u32); 4] {
    [("q1", sent), ("q2", sent), ("feed1", FEED), ("feed2", FEED)]
}

// --- the deployment examples ----------------------------------------------------------------

#[test]
fn the_haproxy_example_is_valid_as_committed_and_as_the_tests_run_it() {
    haproxy::check_config(&haproxy::example_path())
        .unwrap_or_else(|e| panic!("haproxy -c refused ws-bridge/deploy/haproxy.cfg:\n{e}"));
    let example = std::fs::read_to_string(haproxy::example_path()).expect("example");
    let setup = Setup::new(vec![
        ("bridge1".into(), loopback(9001)),
        ("bridge2".into(), loopback(9002)),
    ]);
    let text = haproxy::render(&example, &setup, 9000, 9009);
    for line in [
        "bind 127.0.0.1:9000",
        "server bridge1 127.0.0.1:9001",
        "server bridge2 127.0.0.1:9002",
        "default-server check inter 200ms",
        "http-check send meth GET uri /healthz",
        "balance leastconn",
        "timeout tunnel 120s",
    ] {
        assert!(text.contains(line), "{line:?} missing from\n{text}");
    }
    let dir = TempDir::new("haproxy-render");
    let file = dir.path().join("haproxy.cfg");
    std::fs::write(&file, text).expect("write");
    haproxy::check_config(&file).unwrap_or_else(|e| panic!("rendered config refused:\n{e}"));
}

#[test]
fn the_nginx_example_passes_nginx_t() {
    let nginx = Path::new("/usr/sbin/nginx");
    assert!(
        nginx.exists(),
        "/usr/sbin/nginx not found: install Debian's nginx-light (`bash scripts/setup.sh all`)"
    );
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ws-bridge/deploy/nginx.conf");
    let dir = TempDir::new("nginx-t");
    // -p: relative paths (none in the example) resolve in a temp folder.
    std::fs::create_dir_all(dir.path().join("logs")).expect("logs dir");
    let out = Command::new(nginx)
        .arg("-t")
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&example)
        .output()
        .expect("run nginx -t");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("test is successful"),
        "{text}"
    );
}

/// The nginx example, run: WebSocket upgrade with the `mqtt` subprotocol through to a bridge,
/// `/healthz` through, and a dead bridge skipped (`proxy_next_upstream`).
#[test]
fn the_nginx_example_relays_websockets_and_skips_a_dead_bridge() {
    let _serial = serial();
    let (_pki, broker) = Mosquitto::with_user(USER, PASSWORD);
    let mut bridges: Vec<BridgeProcess> = (0..2)
        .map(|_| BridgeProcess::with_config_toml(&tests::bridge::toml_for_broker(&broker, "")))
        .collect();
    let front = Nginx::start(&bridges.iter().map(|b| b.addr).collect::<Vec<_>>());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let url = format!("ws://{}/mqtt", front.addr());
    let round_trip = |id: &str| {
        rt.block_on(async {
            let (mut ws, response) = ws_connect(&url, &WsOptions::default())
                .await
                .unwrap_or_else(|e| panic!("upgrade through nginx: {e}\n{}", front.log_text()));
            assert_eq!(
                response
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|v| v.to_str().ok()),
                Some("mqtt"),
                "the subprotocol comes back through nginx"
            );
            send_bin(&mut ws, mqtt::connect(id, Some((USER, PASSWORD)), 30)).await;
            let ack = read_packets(&mut ws, 1, Duration::from_secs(10)).await;
            assert_eq!(ack[0], vec![0x20, 2, 0, 0], "CONNACK accepted");
        });
    };
    for i in 0..4 {
        round_trip(&format!("nginx-{i}"));
    }
    let health = http_get_text(front.addr(), "/healthz");
    assert_eq!(health.as_deref(), Some("ok\n"), "{}", front.log_text());
    let mut dead = bridges.remove(0);
    dead.child.kill();
    for i in 0..4 {
        round_trip(&format!("nginx-after-{i}"));
    }
}

// --- the scenarios ----------------------------------------------------------------------------

/// client-wasm's JavaScript API in headless Chromium, its page and package served by the bridges
/// through HAProxy.
#[test]
fn browser_session_survives_bridge_kill_and_drain_behind_haproxy() {
    let _serial = serial();
    const SENT: u32 = 150;
    let site = package_site("scale_out_page.html");
    let mut farm = Farm::start(Some(site.path()));
    let browser = Browser::start();
    browser
        .set_timeouts(Duration::from_secs(20), Duration::from_secs(10))
        .expect("timeouts");
    browser.goto(&format!("http://{}/index.html", farm.lb.addr()));
    browser.wait_text("#ready", "ready", LIMIT);
    let client_id = "scale-browser";
    let base = format!("scale/{client_id}");
    browser.eval(
        "window.startScale({ clientId: arguments[0], topic: arguments[1], count: arguments[2], intervalMs: 15, username: arguments[3], password: arguments[4] })",
        vec![client_id.into(), base.clone().into(), SENT.into(), USER.into(), PASSWORD.into()],
    );
    wait_until(
        "the browser subscribed",
        LIMIT,
        || browser.eval("return window.scale.subscribed", vec![]) == Value::Bool(true),
        || {
            format!(
                "{:?}\n{}",
                browser.eval("return window.scale", vec![]),
                farm.logs()
            )
        },
    );
    let feeder = farm.observer.feed(&base);

    struct Page<'a>(&'a Browser);
    impl Probe for Page<'_> {
        fn connections(&mut self) -> Vec<(u64, bool)> {
            let v = self.0.eval(
                "return window.scale.states.filter(s => s.state === 'connected').map(s => [s.at, !!s.sessionPresent])",
                vec![],
            );
            v.as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| (p[0].as_u64().unwrap_or(0), p[1].as_bool().unwrap_or(false)))
                        .collect()
                })
                .unwrap_or_default()
        }
        fn progress(&mut self) -> usize {
            self.0
                .eval(
                    "return window.scale.acked.q1.length + window.scale.acked.q2.length + window.scale.received.length",
                    vec![],
                )
                .as_u64()
                .unwrap_or(0) as usize
        }
        fn total(&self) -> usize {
            (2 * SENT + 2 * (SENT + FEED)) as usize
        }
    }
    let mut page = Page(&browser);
    let fo = fail_over(&mut farm, &mut page);
    feeder.join().expect("feeder");

    let expected = (2 * (SENT + FEED)) as usize;
    wait_until(
        "every message acknowledged and received in the browser",
        LIMIT,
        || {
            let s = browser.eval("return window.scale", vec![]);
            let acked = s["acked"]["q1"].as_array().map_or(0, Vec::len)
                + s["acked"]["q2"].as_array().map_or(0, Vec::len);
            let got = check_quiet(&s["received"]);
            acked == 2 * SENT as usize && got >= expected
        },
        || {
            format!(
                "{}\n{}",
                browser.eval("return JSON.stringify(window.scale)", vec![]),
                farm.logs()
            )
        },
    );
    std::thread::sleep(Duration::from_millis(300)); // late duplicates, if any
    let s = browser.eval("return window.scale", vec![]);
    let errors = s["errors"].as_array().cloned().unwrap_or_default();
    assert!(errors.is_empty(), "page errors: {errors:?}");
    let received = strings(&s["received"]);
    let side = check("the browser", &received, &client_classes(SENT));
    let broker = check_broker_side(&farm, SENT);
    for q in ["q1", "q2"] {
        let mut acked: Vec<u64> = s["acked"][q]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        acked.sort_unstable();
        assert_eq!(
            acked,
            (1..=u64::from(SENT)).collect::<Vec<_>>(),
            "{q}: every publish resolved once"
        );
    }
    report(
        "browser (client-wasm in Chromium)",
        SENT,
        &side,
        &broker,
        &fo,
    );
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Unique payloads in a JSON array.
fn check_quiet(v: &Value) -> usize {
    let mut s = strings(v);
    s.sort();
    s.dedup();
    s.len()
}

/// paho-mqtt 2.1.0 over WebSockets, reconnecting by itself.
#[test]
fn paho_session_survives_bridge_kill_and_drain_behind_haproxy() {
    let _serial = serial();
    tests::bridge::require_paho();
    const SENT: u32 = 150;
    let mut farm = Farm::start(None);
    let client_id = "scale-paho";
    let base = format!("scale/{client_id}");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/scale_out_paho.py");
    let mut paho = cli::spawn_command(
        "paho scale-out client",
        Command::new("python3").arg(&script).args([
            "--port",
            &farm.lb.addr().port().to_string(),
            "--client-id",
            client_id,
            "--topic",
            &base,
            "--count",
            &SENT.to_string(),
            "--feed",
            &FEED.to_string(),
            "--interval",
            "0.015",
            "--username",
            USER,
            "--password",
            PASSWORD,
        ]),
    );
    paho.wait_line(LIMIT, |l| l.contains("\"subscribed\""))
        .unwrap_or_else(|| panic!("paho did not subscribe: {:?}\n{}", paho.seen(), farm.logs()));
    let feeder = farm.observer.feed(&base);

    struct Paho<'a>(&'a mut cli::Running);
    impl Probe for Paho<'_> {
        fn connections(&mut self) -> Vec<(u64, bool)> {
            let _ = self.0.wait_line(Duration::from_millis(10), |_| false);
            self.0
                .seen()
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|v| v["event"] == "connected")
                .map(|v| {
                    (
                        v["at"].as_u64().unwrap_or(0),
                        v["session_present"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        }
        fn progress(&mut self) -> usize {
            let _ = self.0.wait_line(Duration::from_millis(10), |_| false);
            self.0
                .seen()
                .iter()
                .rev()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| v["event"] == "progress")
                .and_then(|v| v["n"].as_u64())
                .unwrap_or(0) as usize
        }
        fn total(&self) -> usize {
            (2 * SENT + 2 * (SENT + FEED)) as usize
        }
    }
    let fo = fail_over(&mut farm, &mut Paho(&mut paho));
    feeder.join().expect("feeder");
    let done = paho
        .wait_line(Duration::from_secs(45), |l| l.contains("\"done\""))
        .unwrap_or_else(|| panic!("paho did not finish: {:?}\n{}", paho.seen(), farm.logs()));
    let done: Value = serde_json::from_str(&done).expect("done line");
    assert_eq!(
        done["complete"],
        Value::Bool(true),
        "paho: {done}\n{}",
        farm.logs()
    );
    let side = check("paho", &strings(&done["received"]), &client_classes(SENT));
    let broker = check_broker_side(&farm, SENT);
    for q in ["q1", "q2"] {
        let mut acked: Vec<u64> = done["acked"][q]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        acked.sort_unstable();
        assert_eq!(
            acked,
            (1..=u64::from(SENT)).collect::<Vec<_>>(),
            "{q}: every publish acknowledged once"
        );
    }
    report("paho-mqtt 2.1.0", SENT, &side, &broker, &fo);
}

/// The `mqttws` CLI: `sub --no-clean` receives, two `pub --no-clean -n N` (QoS 1 and QoS 2) send.
#[test]
fn cli_sessions_survive_bridge_kill_and_drain_behind_haproxy() {
    let _serial = serial();
    const SENT: u32 = 5000;
    let mut farm = Farm::start(None);
    let url = farm.ws_url();
    let base = "scale/cli";
    let filter = format!("{base}/#");
    let mut sub = cli::spawn(&[
        "sub",
        "--url",
        &url,
        "-t",
        &filter,
        "-q",
        "2",
        "-i",
        "scale-cli-sub",
        "--no-clean",
        "-d",
        "-u",
        USER,
        "-P",
        PASSWORD,
    ]);
    sub.wait_stderr(LIMIT, |l| l.contains("subscribed"))
        .unwrap_or_else(|| panic!("sub did not subscribe\n{}", farm.logs()));
    let pub_args = |q: &str, id: &str| -> Vec<String> {
        [
            "pub",
            "--url",
            &url,
            "-t",
            &format!("{base}/q{q}"),
            "-m",
            &format!("q{q}"),
            "-n",
            &SENT.to_string(),
            "-q",
            q,
            "-i",
            id,
            "--no-clean",
            "-d",
            "-u",
            USER,
            "-P",
            PASSWORD,
        ]
        .iter()
        .map(ToString::to_string)
        .collect()
    };
    let a1 = pub_args("1", "scale-cli-pub1");
    let a2 = pub_args("2", "scale-cli-pub2");
    let pub1 = cli::spawn(&a1.iter().map(String::as_str).collect::<Vec<_>>());
    let pub2 = cli::spawn(&a2.iter().map(String::as_str).collect::<Vec<_>>());
    let feeder = farm.observer.feed(base);

    struct Clients<'a> {
        sub: &'a mut cli::Running,
        pubs: Vec<cli::Running>,
        connected_at: Vec<(u64, bool)>,
    }
    impl Probe for Clients<'_> {
        /// The subscriber's connections (`-d` prints one line each).
        fn connections(&mut self) -> Vec<(u64, bool)> {
            let _ = self.sub.wait_stderr(Duration::from_millis(10), |_| false);
            let lines: Vec<bool> = self
                .sub
                .seen_stderr()
                .iter()
                .filter(|l| l.contains("connected to "))
                .map(|l| l.contains("session present: true"))
                .collect();
            while self.connected_at.len() < lines.len() {
                let present = lines[self.connected_at.len()];
                self.connected_at.push((now_ms(), present));
            }
            self.connected_at.clone()
        }
        fn progress(&mut self) -> usize {
            let _ = self.sub.wait_line(Duration::from_millis(5), |_| false);
            self.sub.seen().len()
        }
        fn total(&self) -> usize {
            2 * (SENT + FEED) as usize
        }
        fn sessions(&mut self) -> i64 {
            1 + self
                .pubs
                .iter_mut()
                .map(|p| i64::from(p.is_running()))
                .sum::<i64>()
        }
        fn hold(&mut self, on: bool) {
            for p in &self.pubs {
                p.signal(if on { "STOP" } else { "CONT" });
            }
        }
    }
    let mut probe = Clients {
        sub: &mut sub,
        pubs: vec![pub1, pub2],
        connected_at: Vec::new(),
    };
    let fo = fail_over(&mut farm, &mut probe);
    let mut pubs = std::mem::take(&mut probe.pubs);
    feeder.join().expect("feeder");
    let pub2 = pubs.pop().expect("pub2");
    let pub1 = pubs.pop().expect("pub1");
    let p1 = pub1.wait(Duration::from_secs(40));
    let p2 = pub2.wait(Duration::from_secs(40));
    assert_eq!(
        p1.code,
        Some(0),
        "pub QoS 1 failed:\n{}\n{}",
        p1.stderr,
        farm.logs()
    );
    assert_eq!(
        p2.code,
        Some(0),
        "pub QoS 2 failed:\n{}\n{}",
        p2.stderr,
        farm.logs()
    );
    let expected = 2 * (SENT + FEED) as usize;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let _ = sub.wait_line(Duration::from_millis(50), |_| false);
        let mut unique: Vec<&String> = sub.seen().iter().collect();
        unique.sort();
        unique.dedup();
        if unique.len() >= expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the subscriber received {} of {expected} distinct messages\n{}",
            unique.len(),
            farm.logs()
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    sub.signal("INT");
    let finished = sub.wait(Duration::from_secs(10));
    let side = check(
        "mqttws sub",
        &finished
            .lines()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        &client_classes(SENT),
    );
    let broker = check_broker_side(&farm, SENT);
    let moved = |stderr: &str| {
        stderr
            .lines()
            .filter(|l| l.contains("connected to "))
            .count()
    };
    for (name, run) in [("pub QoS 1", &p1), ("pub QoS 2", &p2), ("sub", &finished)] {
        assert!(
            moved(&run.stderr) >= 2,
            "{name} was on the killed bridge and reconnected:\n{}",
            run.stderr
        );
        let fresh = run
            .stderr
            .lines()
            .filter(|l| l.contains("connected to ") && l.contains("session present: false"))
            .count();
        assert_eq!(
            fresh, 1,
            "{name}: only the first CONNACK without a session:\n{}",
            run.stderr
        );
    }
    println!(
        "scale-out mqttws: connections: sub {}, pub QoS 1 {}, pub QoS 2 {}",
        moved(&finished.stderr),
        moved(&p1.stderr),
        moved(&p2.stderr)
    );
    report("mqttws CLI (pub + sub)", SENT, &side, &broker, &fo);
}
