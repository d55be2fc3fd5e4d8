//! The yew app (web/dist, built by scripts/build-web.sh) in real headless Chromium, driven over
//! WebDriver (chromedriver), served by the real ws-bridge (`--static web/dist`, MQTT at `/mqtt`
//! on the same port) in front of the real mosquitto (TLS, SNI `broker.test`, Murano-like ACL),
//! with the activation responder playing the Murano platform.
//!
//! Screenshots of every page go to `tests/artifacts/` (not committed).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tests::app_page::{
    assert_no_errors, log_rows, open, wait_row, wait_state, web_dist as dist, workspace,
};
use tests::bridge::BridgeProcess;
use tests::certs::TestPki;
use tests::mosquitto::{Mosquitto, MosquittoOptions, PLATFORM_PASSWORD, PLATFORM_USER};
use tests::responder::{platform_write, Responder};
use tests::webdriver::Browser;

const LIMIT: Duration = Duration::from_secs(20);

/// One browser at a time: these machines have two cores.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn artifact(name: &str) -> PathBuf {
    workspace().join("tests/artifacts").join(name)
}

/// mosquitto + activation responder + ws-bridge serving the app.
struct Stack {
    broker: Arc<Mutex<Mosquitto>>,
    responder: Responder,
    bridge: BridgeProcess,
    plain: SocketAddr,
    _pki: TestPki,
}

impl Stack {
    fn start() -> Stack {
        Stack::start_with(MosquittoOptions::default())
    }

    fn start_with(options: MosquittoOptions) -> Stack {
        let dist = dist();
        let pki = TestPki::generate();
        let broker = Mosquitto::start(&pki, options);
        let plain = broker.plain_addr();
        let upstream = format!("127.0.0.1:{}", broker.tls_addr().port());
        let ca = broker.ca_path().to_path_buf();
        let bridge = BridgeProcess::quick(&upstream, &ca, &["--static".as_ref(), dist.as_os_str()]);
        let broker = Arc::new(Mutex::new(broker));
        let responder = Responder::for_mosquitto(&broker);
        Stack {
            broker,
            responder,
            bridge,
            plain,
            _pki: pki,
        }
    }

    /// The app's address, on the bridge's own port.
    fn page(&self, route: &str) -> String {
        format!("http://{}/{route}", self.bridge.addr)
    }

    fn add_user(&self, user: &str, password: &str) {
        self.broker.lock().expect("broker").add_user(user, password);
    }

    fn logs(&self) -> String {
        let broker = self.broker.lock().map(|b| b.log_text()).unwrap_or_default();
        format!(
            "--- bridge ---\n{}\n--- mosquitto ---\n{broker}",
            self.bridge.log_text()
        )
    }
}

#[test]
fn activate_then_console_round_trip_and_platform_writes() {
    let _serial = serial();
    let stack = Stack::start();
    let browser = Browser::start();

    open(&browser, &stack.page("#/activate"));
    let default_url = browser.eval("return document.querySelector('#bridge-url').value", vec![]);
    assert_eq!(
        default_url.as_str(),
        Some(stack.bridge.url.as_str()),
        "the bridge URL defaults to the page's origin + /mqtt"
    );

    // The current API (`$provision/<identity>`).
    browser.select("#activation-mode", "provision");
    browser.fill("#identity", "008");
    browser.click("#activate");
    browser.wait_text("#activation-output", "password = ", LIMIT);
    let activated = stack.responder.activated();
    let (_, password_008) = activated
        .iter()
        .find(|(i, _)| i == "008")
        .expect("008 activated");
    assert_eq!(
        browser.text("#activation-output").unwrap().trim(),
        format!("Activation succeeded!\nusername = 008\npassword = {password_008}")
    );

    // Legacy `activate`, as in the seed's activate.py.
    browser.select("#activation-mode", "legacy");
    browser.fill("#identity", "007");
    browser.click("#activate");
    let output = browser.wait_text("#activation-output", "username = 007", LIMIT);
    let activated = stack.responder.activated();
    let (_, password) = activated
        .iter()
        .find(|(i, _)| i == "007")
        .expect("007 activated")
        .clone();
    assert_eq!(
        output.trim(),
        format!("Activation succeeded!\nusername = 007\npassword = {password}")
    );
    assert!(password.len() == 40 && password.bytes().all(|b| b.is_ascii_hexdigit()));

    // Remember (opt-in), forget, remember again.
    let stored = |b: &Browser| {
        b.eval(
            "return localStorage.getItem('mqttws.web.credentials')",
            vec![],
        )
    };
    let wait_stored = |b: &Browser, want: Value| {
        b.wait_for(&format!("localStorage = {want:?}"), LIMIT, |b| {
            (stored(b) == want).then_some(())
        });
    };
    assert_eq!(
        stored(&browser),
        Value::Null,
        "nothing is stored without consent"
    );
    browser.click("#remember");
    wait_stored(&browser, Value::String(format!("007\n{password}")));
    browser.click("#forget");
    wait_stored(&browser, Value::Null);
    browser.click("#remember");
    wait_stored(&browser, Value::String(format!("007\n{password}")));
    browser.screenshot(&artifact("activate.png"));

    // Copy the credentials into the console and connect.
    browser.click("#use-credentials");
    browser.wait_for("the console page", LIMIT, |b| {
        (b.attr("#page", "data-page").as_deref() == Some("console")).then_some(())
    });
    let typed = browser.eval("return document.querySelector('#password').value", vec![]);
    assert_eq!(typed.as_str(), Some(password.as_str()));
    browser.click("#connect");
    assert_eq!(
        wait_state(&browser, "connected", LIMIT).trim(),
        "Console: Connected"
    );

    // Publish temperature = 32 and see it come back (the subscription is 007/#).
    browser.fill("#pub-topic", "temperature");
    browser.fill("#pub-message", "32");
    browser.click("#publish");
    wait_row(
        &browser,
        "#console-log",
        "out",
        "007/temperature 1 32",
        true,
        LIMIT,
    );
    wait_row(
        &browser,
        "#console-log",
        "in",
        "007/temperature 1 32",
        true,
        LIMIT,
    );
    let last = browser.wait_for("the temperature chart", LIMIT, |b| {
        b.attr("[data-testid=chart-temperature]", "data-last")
    });
    assert_eq!(last, "32");

    // A value written on the platform side arrives (the native platform writer)...
    platform_write(stack.plain, "007/temperature", "212");
    wait_row(
        &browser,
        "#console-log",
        "in",
        "007/temperature 1 212",
        true,
        LIMIT,
    );

    // ... and so does one written from the Platform page in a second tab.
    let console_tab = browser.window();
    let platform_tab = browser.new_tab();
    browser.switch_to(&platform_tab);
    open(&browser, &stack.page("#/platform"));
    browser.fill("#platform-username", PLATFORM_USER);
    browser.fill("#platform-password", PLATFORM_PASSWORD);
    browser.click("#platform-connect");
    assert_eq!(
        wait_state(&browser, "connected", LIMIT).trim(),
        "Platform: Connected"
    );
    browser.fill("#platform-identity", "007");
    browser.fill("#platform-value", "99.5");
    browser.click("#platform-write");
    wait_row(
        &browser,
        "#platform-log",
        "out",
        "007/temperature 1 99.5",
        true,
        LIMIT,
    );
    browser.screenshot(&artifact("platform.png"));
    assert_no_errors(&browser, "");

    browser.switch_to(&console_tab);
    wait_row(
        &browser,
        "#console-log",
        "in",
        "007/temperature 1 99.5",
        true,
        LIMIT,
    );
    browser.wait_for("the chart to follow", LIMIT, |b| {
        (b.attr("[data-testid=chart-temperature]", "data-last")
            .as_deref()
            == Some("99.5"))
        .then_some(())
    });

    // Payload views: hex, then pause keeps the view still while messages queue.
    browser.select("#console-format", "hex");
    wait_row(
        &browser,
        "#console-log",
        "in",
        "007/temperature 1 33 32",
        true,
        LIMIT,
    );
    browser.select("#console-format", "text");
    browser.click("#console-pause");
    platform_write(stack.plain, "007/temperature", "7");
    browser.wait_text("#console-pause", "Resume (1 waiting)", LIMIT);
    assert!(!log_rows(&browser, "#console-log", "in", true)
        .iter()
        .any(|r| r.ends_with(" 7")));
    browser.click("#console-pause");
    wait_row(
        &browser,
        "#console-log",
        "in",
        "007/temperature 1 7",
        true,
        LIMIT,
    );
    browser.screenshot(&artifact("console.png"));

    // The same page at 360 px wide.
    browser.set_window_size(360, 900);
    browser.screenshot(&artifact("console-360.png"));
    let overflow = browser.eval(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        vec![],
    );
    assert_eq!(
        overflow.as_f64(),
        Some(0.0),
        "no horizontal scrolling at 360 px"
    );
    assert_no_errors(&browser, &stack.logs());
}

#[test]
fn echo_host_and_device_in_two_tabs_rotate_the_message() {
    let _serial = serial();
    let stack = Stack::start();
    // A device whose own tree is azuresphere/# under the Murano-like ACL (%u/#).
    stack.add_user("azuresphere", "sphere-secret");
    let browser = Browser::start();
    let login = |b: &Browser| {
        b.fill("#identity", "azuresphere");
        b.fill("#username", "azuresphere");
        b.fill("#password", "sphere-secret");
    };

    let echo_tab = browser.window();
    open(&browser, &stack.page("#/echo"));
    login(&browser);
    browser.click("#echo-start");
    assert_eq!(
        wait_state(&browser, "connected", LIMIT).trim(),
        "Echo host: Connected"
    );

    let device_tab = browser.new_tab();
    browser.switch_to(&device_tab);
    open(&browser, &stack.page("#/device"));
    login(&browser);
    browser.fill("#device-message", "hello");
    browser.fill("#device-interval", "500");
    browser.click("#device-start");
    assert_eq!(
        wait_state(&browser, "connected", LIMIT).trim(),
        "Device: Connected"
    );
    // hello → elloh → llohe: the message turns one character per round trip.
    browser.wait_text("#device-last", "llohe", LIMIT);
    let received: u64 = browser.text("#device-received").unwrap().parse().unwrap();
    let sent: u64 = browser.text("#device-sent").unwrap().parse().unwrap();
    assert!(
        received >= 2 && sent >= 2,
        "received {received}, sent {sent}"
    );
    assert_eq!(browser.text("#device-errors").as_deref(), Some("0"));
    browser.screenshot(&artifact("device.png"));

    browser.switch_to(&echo_tab);
    browser.wait_text("#echo-last", "elloh", LIMIT);
    let echoed: u64 = browser.text("#echo-received").unwrap().parse().unwrap();
    assert!(echoed >= 2);
    assert_eq!(browser.text("#echo-sent"), browser.text("#echo-received"));
    browser.screenshot(&artifact("echo.png"));
    browser.click("#echo-stop");
    wait_state(&browser, "disconnected", LIMIT);

    for tab in [&echo_tab, &device_tab] {
        browser.switch_to(tab);
        assert_no_errors(&browser, &stack.logs());
    }
}

#[test]
fn wrong_password_shows_the_brokers_words_and_nothing_crashes() {
    let _serial = serial();
    let stack = Stack::start();
    stack.add_user("007", "right-password");
    let browser = Browser::start();
    open(&browser, &stack.page("#/console"));
    browser.fill("#identity", "007");
    browser.fill("#username", "007");
    browser.fill("#password", "not-the-password");
    browser.click("#connect");
    let status = wait_state(&browser, "error", LIMIT);
    assert!(status.contains("bad user name or password"), "{status}");
    // Refused credentials are not retried: the status stays.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        browser.attr("#status", "data-state").as_deref(),
        Some("error")
    );
    browser.screenshot(&artifact("console-bad-password.png"));

    // The app still works: fix the password and connect.
    browser.fill("#password", "right-password");
    browser.click("#connect");
    wait_state(&browser, "connected", LIMIT);
    browser.click("#nav-activate");
    browser.wait_for("the activate page", LIMIT, |b| {
        (b.attr("#page", "data-page").as_deref() == Some("activate")).then_some(())
    });
    assert_no_errors(&browser, &stack.logs());
}

/// Murano's current API on the mosquitto harness, through the bridge: provisioning in both
/// log-in styles (a pushed reply needs a broker that pushes: mosquitto delivers only to
/// subscribers, so the unsubscribed style fails here with the flow's words; the demo test covers
/// it), `data_in` up, a platform write on `$resource/<alias>/<µs>` listed with its time, a batch
/// of three values, QoS 2 and a value over 1 MiB refused before sending.
#[test]
fn current_api_console_on_mosquitto() {
    let _serial = serial();
    let stack = Stack::start_with(MosquittoOptions {
        murano_current_api: true,
        ..MosquittoOptions::default()
    });
    let browser = Browser::start();
    open(&browser, &stack.page("#/activate"));
    browser.select("#activation-mode", "provision");
    for (identity, login, user_line) in [
        ("web-a", "identity", "username = web-a"),
        ("web-b", "token-only", "username ="),
    ] {
        browser.select("#activation-login", login);
        browser.fill("#identity", identity);
        browser.click("#activate");
        let output = browser.wait_text("#activation-output", "password = ", LIMIT);
        let lines: Vec<&str> = output.trim().lines().map(str::trim).collect();
        assert_eq!(
            &lines[..2],
            ["Activation succeeded!", user_line],
            "{output}"
        );
    }
    // Not subscribed: nobody pushes the reply here.
    browser.click("#activation-subscribe");
    browser.fill("#identity", "web-c");
    browser.click("#activate");
    browser.wait_text(
        "#activation-output",
        "no activation reply",
        Duration::from_secs(30),
    );
    browser.click("#activation-subscribe");
    browser.fill("#identity", "web-b");
    browser.click("#nav-console");
    browser.wait_for("the console page", LIMIT, |b| {
        (b.attr("#page", "data-page").as_deref() == Some("console")).then_some(())
    });
    // The console as web-b, token-only (the panel keeps the identity typed last).
    let (_, token) = stack
        .responder
        .activated()
        .into_iter()
        .find(|(i, _)| i == "web-b")
        .expect("web-b activated");
    browser.select("#console-api", "resource");
    browser.select("#console-login", "token-only");
    browser.fill("#password", &token);
    browser.click("#connect");
    wait_state(&browser, "connected", LIMIT);
    browser.fill("#pub-topic", "data_in");
    browser.fill("#pub-message", "21.5");
    browser.click("#publish");
    wait_row(
        &browser,
        "#console-log",
        "out",
        "$resource/data_in 21.5",
        false,
        LIMIT,
    );
    // mosquitto: the console's `$resource/#` subscription sees its own value come back.
    wait_row(
        &browser,
        "#console-log",
        "in",
        "$resource/data_in 21.5",
        false,
        LIMIT,
    );
    platform_write(stack.plain, "$resource/temperature/1700000000000000", "212");
    browser.wait_text(
        "#platform-writes",
        "temperature = 212 at 2023-11-14 22:13:20.000 UTC",
        LIMIT,
    );
    let last = browser.wait_for("the temperature chart", LIMIT, |b| {
        b.attr("[data-testid=chart-temperature]", "data-last")
    });
    assert_eq!(last, "212");
    browser.fill(
        "#batch-values",
        "1700000000 temperature=20; 1700000001 temperature=21; 1700000002 temperature=22",
    );
    browser.click("#send-batch");
    let batch = "[{\"timestamp\":1700000000,\"values\":{\"temperature\":20}},\
                 {\"timestamp\":1700000001,\"values\":{\"temperature\":21}},\
                 {\"timestamp\":1700000002,\"values\":{\"temperature\":22}}]";
    wait_row(
        &browser,
        "#console-log",
        "out",
        &format!("$resource.batch {batch}"),
        false,
        LIMIT,
    );
    browser.select("#pub-qos", "2");
    browser.click("#publish");
    browser.wait_text(
        "#notice",
        "QoS 2 is not supported by Murano's $resource API: use QoS 0 or 1",
        LIMIT,
    );
    browser.select("#pub-qos", "1");
    browser.eval(
        "const e = document.querySelector('#pub-message'); e.value = 'x'.repeat(1048577);\
         e.dispatchEvent(new InputEvent('input', { bubbles: true }));",
        vec![],
    );
    browser.click("#publish");
    browser.wait_text(
        "#notice",
        "a value of 1048577 bytes exceeds Murano's limit of 1048576 bytes per resource",
        LIMIT,
    );
    assert_no_errors(&browser, &stack.logs());
}
