//! The demo command (`demo demo`) run as a user runs it: the built binary, a fresh data
//! directory, ephemeral ports; the banner read from its stdout. Then:
//!
//! * in headless Chromium: activate a device, open the console, publish and receive, see a value
//!   written by `demo demo-write` (and by the Platform page) arrive; SIGINT stops the demo
//!   cleanly (exit 0, no child process, ports closed);
//! * a restart on the same data directory keeps the CA, the platform password and the activated
//!   device (its saved password still connects, re-activation gets no answer);
//! * without a browser, the native client through the demo's TLS front: Murano-like refusals.
//!
//! The binary belongs to the `demo` package, so it is found next to the test executable: build
//! it first with `cargo build -p demo` (same CARGO_TARGET_DIR). The browser test also needs the
//! web app: `scripts/build-web.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use mqtt_core::{
    ConnectRefused, ConnectionError, Event, Message, Options, QoS, Session, TransportFailure,
};
use mqttws::{ConnectTo, Connector, Driver, NoFlow, Output, TlsOptions};
use tests::app_page::{assert_no_errors, open, wait_row, wait_state, web_dist as dist, workspace};
use tests::certs::TempDir;
use tests::demo_proc::{demo_path, Demo};
use tests::webdriver::Browser;

const LIMIT: Duration = Duration::from_secs(20);
const SERVER_NAME: &str = "broker.demo.localhost";

/// One demo (and at most one browser) at a time: these machines have two cores.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `demo demo-write`.
fn demo_write(data_dir: &Path, identity: &str, resource: &str, value: &str) {
    let out = Command::new(demo_path())
        .args(["demo-write", "--identity", identity, "--resource", resource])
        .args(["--value", value])
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run demo demo-write");
    assert!(
        out.status.success(),
        "demo-write failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// --- native client through the TLS front -----------------------------------------------------

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Connects through the front (SNI `broker.demo.localhost`, the demo CA); `Err` is the refusal.
async fn connect(
    front: SocketAddr,
    data_dir: &Path,
    client_id: &str,
    login: Option<(&str, &str)>,
) -> Result<Driver<NoFlow>, ConnectionError> {
    let url = format!("mqtts://{SERVER_NAME}:{}", front.port())
        .parse()
        .expect("url");
    let tls = TlsOptions {
        ca_file: Some(data_dir.join("ca.pem")),
        client_auth: None,
    };
    let to = ConnectTo {
        host: "127.0.0.1".into(),
        port: front.port(),
    };
    let connector = Connector::new(url, &tls, Some(to)).expect("connector");
    let mut options = Options::new(client_id);
    if let Some((user, password)) = login {
        options = options.with_credentials(user, password.as_bytes().to_vec());
    }
    options.reconnect.enabled = false;
    let mut driver = Driver::plain(connector, Session::new(options));
    driver.connect();
    let result = tokio::time::timeout(LIMIT, async {
        loop {
            match driver.next().await {
                Some(Output::Event(Event::Connected { .. })) => return Ok(()),
                Some(Output::Event(Event::ConnectionLost { error, .. })) => return Err(error),
                Some(_) => {}
                None => {
                    return Err(ConnectionError::Transport(TransportFailure::Dropped(
                        "session ended".into(),
                    )))
                }
            }
        }
    })
    .await
    .expect("no CONNACK in time");
    result.map(|()| driver)
}

async fn subscribe(driver: &mut Driver<NoFlow>, filters: &[&str]) -> Vec<Option<QoS>> {
    let list: Vec<(&str, QoS)> = filters.iter().map(|f| (*f, QoS::AtLeastOnce)).collect();
    driver.subscribe(&list).expect("subscribe");
    tokio::time::timeout(LIMIT, async {
        loop {
            match driver.next().await {
                Some(Output::Event(Event::Subscribed { granted, .. })) => return granted,
                Some(Output::Event(Event::ConnectionLost { error, .. })) => {
                    panic!("lost while subscribing: {error}")
                }
                Some(_) => {}
                None => panic!("session ended while subscribing"),
            }
        }
    })
    .await
    .expect("no SUBACK in time")
}

/// Publishes at QoS 1 and waits for the PUBACK (the front acknowledges denied ones too).
async fn publish(driver: &mut Driver<NoFlow>, topic: &str, payload: &[u8]) {
    driver
        .publish(topic, payload, QoS::AtLeastOnce, false)
        .expect("publish");
    tokio::time::timeout(LIMIT, async {
        loop {
            match driver.next().await {
                Some(Output::Event(Event::Published { .. })) => return,
                Some(Output::Event(Event::ConnectionLost { error, .. })) => {
                    panic!("lost while publishing: {error}")
                }
                Some(_) => {}
                None => panic!("session ended while publishing"),
            }
        }
    })
    .await
    .expect("no PUBACK in time");
}

/// The next application message within `limit`, if any.
async fn message(driver: &mut Driver<NoFlow>, limit: Duration) -> Option<Message> {
    tokio::time::timeout(limit, async {
        loop {
            match driver.next().await {
                Some(Output::Event(Event::Message(m))) => return Some(m),
                Some(Output::Event(Event::ConnectionLost { error, .. })) => {
                    panic!("lost while waiting for a message: {error}")
                }
                Some(_) => {}
                None => return None,
            }
        }
    })
    .await
    .ok()
    .flatten()
}

/// The legacy activation, natively: returns the password.
async fn activate(front: SocketAddr, data_dir: &Path, identity: &str) -> Option<String> {
    let mut anon = connect(front, data_dir, identity, None)
        .await
        .expect("anonymous login");
    let granted = subscribe(&mut anon, &[&format!("activate/{identity}")]).await;
    assert_eq!(granted, vec![Some(QoS::AtLeastOnce)]);
    publish(&mut anon, "activate", identity.as_bytes()).await;
    let reply = message(&mut anon, Duration::from_secs(3)).await;
    anon.disconnect();
    reply.map(|m| {
        assert_eq!(m.topic, format!("activate/{identity}"));
        String::from_utf8(m.payload).expect("utf-8 password")
    })
}

// --- the browser ------------------------------------------------------------------------------

#[test]
fn demo_in_the_browser_activate_console_platform_write_then_sigint() {
    let _serial = serial();
    dist();
    let data = TempDir::new("demo-data");
    let demo = Demo::start(data.path());
    eprintln!(
        "demo banner after {:?} (binary already built):\n{}",
        demo.startup, demo.banner.text
    );
    assert_eq!(demo.banner.devices, 0);
    assert!(demo.banner.text.contains("rumqttd"), "{}", demo.banner.text);
    assert!(demo.banner.text.contains("Ctrl-C"), "{}", demo.banner.text);
    for file in ["ca.pem", "server.pem", "server.key.pem", "platform.txt"] {
        assert!(data.path().join(file).is_file(), "{file} not created");
    }

    let browser = Browser::start();
    let page = |route: &str| format!("{}{route}", demo.banner.url);

    // Activate 007 (legacy API, as the seed's activate.py does).
    open(&browser, &page("#/activate"));
    browser.select("#activation-mode", "legacy");
    browser.fill("#identity", "007");
    browser.click("#activate");
    let output = browser.wait_text("#activation-output", "password = ", LIMIT);
    let password = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("password = "))
        .expect("password line")
        .trim()
        .to_string();
    assert!(
        password.len() == 40 && password.bytes().all(|b| b.is_ascii_hexdigit()),
        "{output}"
    );

    // The console: connect as 007, publish, receive.
    browser.click("#use-credentials");
    browser.wait_for("the console page", LIMIT, |b| {
        (b.attr("#page", "data-page").as_deref() == Some("console")).then_some(())
    });
    browser.click("#connect");
    wait_state(&browser, "connected", LIMIT);
    browser.fill("#pub-topic", "temperature");
    browser.fill("#pub-message", "32");
    browser.click("#publish");
    wait_row(
        &browser,
        "#console-log",
        "out",
        "007/temperature 32",
        false,
        LIMIT,
    );
    wait_row(
        &browser,
        "#console-log",
        "in",
        "007/temperature 32",
        false,
        LIMIT,
    );

    // The platform side writes: the CLI writer...
    demo_write(data.path(), "007", "temperature", "212");
    wait_row(
        &browser,
        "#console-log",
        "in",
        "007/temperature 212",
        false,
        LIMIT,
    );

    // ... and the Platform page with the banner's credentials, in a second tab.
    let console_tab = browser.window();
    let platform_tab = browser.new_tab();
    browser.switch_to(&platform_tab);
    open(&browser, &page("#/platform"));
    browser.fill("#platform-username", "platform");
    browser.fill("#platform-password", &demo.banner.platform_password);
    browser.click("#platform-connect");
    wait_state(&browser, "connected", LIMIT);
    browser.fill("#platform-identity", "007");
    browser.fill("#platform-resource", "humidity");
    browser.fill("#platform-value", "41");
    browser.click("#platform-write");
    wait_row(
        &browser,
        "#platform-log",
        "out",
        "007/humidity 41",
        false,
        LIMIT,
    );
    assert_no_errors(&browser, "");
    browser.switch_to(&console_tab);
    wait_row(
        &browser,
        "#console-log",
        "in",
        "007/humidity 41",
        false,
        LIMIT,
    );
    assert_no_errors(&browser, "");
    drop(browser);

    demo.interrupt_and_check();
}

#[test]
fn restart_keeps_the_ca_and_the_activated_device() {
    let _serial = serial();
    let data = TempDir::new("demo-restart");
    let dir = data.path().to_path_buf();
    let demo = Demo::start(&dir);
    assert_eq!(demo.banner.devices, 0);
    let ca_before = std::fs::read_to_string(dir.join("ca.pem")).expect("ca.pem");
    let platform_before = demo.banner.platform_password.clone();
    let front = demo.banner.front;
    let password = runtime()
        .block_on(activate(front, &dir, "007"))
        .expect("007 activated");
    demo.interrupt_and_check();

    let demo = Demo::start(&dir);
    eprintln!("restart: banner after {:?}", demo.startup);
    assert_eq!(demo.banner.devices, 1, "{}", demo.banner.text);
    assert_eq!(demo.banner.platform_password, platform_before);
    assert_eq!(
        std::fs::read_to_string(dir.join("ca.pem")).expect("ca.pem"),
        ca_before,
        "the CA was regenerated"
    );
    let front = demo.banner.front;
    runtime().block_on(async {
        let mut device = connect(front, &dir, "007", Some(("007", &password)))
            .await
            .expect("the saved credentials connect after a restart");
        assert_eq!(
            subscribe(&mut device, &["007/#"]).await,
            vec![Some(QoS::AtLeastOnce)]
        );
        device.disconnect();
        assert_eq!(
            activate(front, &dir, "007").await,
            None,
            "re-activation must get no answer"
        );
    });
    demo.interrupt_and_check();
}

#[test]
fn the_front_enforces_murano_like_rules() {
    let _serial = serial();
    let data = TempDir::new("demo-rules");
    let demo = Demo::start(data.path());
    let (front, dir) = (demo.banner.front, data.path().to_path_buf());
    let platform_password = demo.banner.platform_password.clone();
    runtime().block_on(async {
        // Anonymous: only its own activation topics.
        let mut anon = connect(front, &dir, "007", None).await.expect("anonymous");
        assert_eq!(
            subscribe(&mut anon, &["007/#"]).await,
            vec![None],
            "anonymous may not subscribe 007/#"
        );
        assert_eq!(
            subscribe(&mut anon, &["#", "activate/007", "activate/+"]).await,
            vec![None, Some(QoS::AtLeastOnce), None]
        );
        anon.disconnect();

        let pw7 = activate(front, &dir, "007").await.expect("007 activated");
        let pw8 = activate(front, &dir, "008").await.expect("008 activated");
        assert_eq!(pw7.len(), 40);
        assert_ne!(pw7, pw8);
        assert_eq!(activate(front, &dir, "007").await, None, "activates once");

        // The current API: `$provision/<identity>`, empty request, token in the reply.
        let mut anon = connect(front, &dir, "009", None).await.expect("anonymous");
        assert_eq!(
            subscribe(&mut anon, &["$provision/009"]).await,
            vec![Some(QoS::AtLeastOnce)]
        );
        publish(&mut anon, "$provision/009", b"").await;
        let mut token = None;
        while let Some(m) = message(&mut anon, Duration::from_secs(3)).await {
            assert_eq!(m.topic, "$provision/009");
            if !m.payload.is_empty() {
                token = Some(m.payload);
                break;
            }
        }
        let token = String::from_utf8(token.expect("a $provision reply")).expect("utf-8");
        anon.disconnect();
        connect(front, &dir, "009", Some(("009", &token)))
            .await
            .expect("the $provision token logs in");

        // Bad password, unknown device, wrong platform password: CONNACK 4.
        for (user, password) in [
            ("007", "0".repeat(40)),
            ("nobody", pw7.clone()),
            ("platform", pw7.clone()),
        ] {
            match connect(front, &dir, "x", Some((user, &password))).await {
                Err(ConnectionError::Refused(ConnectRefused::BadUserNameOrPassword)) => {}
                Err(other) => panic!("{user}: expected CONNACK 4, got {other}"),
                Ok(_) => panic!("{user}: logged in with a wrong password"),
            }
        }

        // A device stays inside its own topics.
        let mut platform = connect(
            front,
            &dir,
            "platform-test",
            Some(("platform", &platform_password)),
        )
        .await
        .expect("platform login");
        assert_eq!(
            subscribe(&mut platform, &["#"]).await,
            vec![Some(QoS::AtLeastOnce)]
        );
        let mut d7 = connect(front, &dir, "007", Some(("007", &pw7)))
            .await
            .expect("007 login");
        assert_eq!(
            subscribe(&mut d7, &["007/#", "008/#", "+/temperature", "#"]).await,
            vec![Some(QoS::AtLeastOnce), None, None, None]
        );
        publish(&mut d7, "008/temperature", b"hijack").await; // acknowledged, dropped
        publish(&mut d7, "007/temperature", b"21").await;
        let seen = message(&mut platform, LIMIT)
            .await
            .expect("platform sees 007's value");
        assert_eq!(
            (seen.topic.as_str(), seen.payload.as_slice()),
            ("007/temperature", &b"21"[..])
        );
        assert!(
            message(&mut platform, Duration::from_millis(500))
                .await
                .is_none(),
            "the denied publish reached the broker"
        );

        // 008 does not see 007's topics; the platform writes reach the device.
        let mut d8 = connect(front, &dir, "008", Some(("008", &pw8)))
            .await
            .expect("008 login");
        assert_eq!(subscribe(&mut d8, &["007/temperature"]).await, vec![None]);
        assert_eq!(
            subscribe(&mut d8, &["008/#"]).await,
            vec![Some(QoS::AtLeastOnce)]
        );
        publish(&mut platform, "008/setpoint", b"5").await;
        let got = message(&mut d8, LIMIT)
            .await
            .expect("platform write reaches 008");
        assert_eq!(got.topic, "008/setpoint");
    });
    let stderr_before_stop = demo.stderr_text();
    demo.interrupt_and_check();
    assert!(
        stderr_before_stop.contains("subscribe denied"),
        "the front logs refusals:\n{stderr_before_stop}"
    );
}

// --- Murano's current API through the demo, with the real `mqttws` -----------------------------

/// `mqttws` arguments that reach the demo's TLS front (SNI `broker.demo.localhost`, the demo CA).
fn front_args<'a>(front: &'a str, url: &'a str, ca: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--url", url, "--connect-to", front, "--cafile", ca]);
    all
}

fn password_line(run: &tests::cli::Finished) -> String {
    run.lines()
        .iter()
        .find_map(|l| l.strip_prefix("password = "))
        .unwrap_or_default()
        .to_string()
}

/// The demo models Murano's current API: provisioning answered whether or not the device
/// subscribed, in both log-in styles (identity; empty client id and user name with the token),
/// `data_in` up, platform writes down on `$resource/<alias>/<µs>` printed with their time, a
/// batch of three values, and QoS 2 refused (by the client up front, and by the front, which
/// closes the connection of a raw QoS 2 PUBLISH) as well as a value over 1 MiB.
#[test]
fn current_api_with_mqttws_through_the_demo() {
    use tests::cli;
    let _serial = serial();
    let data = TempDir::new("demo-current-api");
    let demo = Demo::start(data.path());
    let front = demo.banner.front.to_string();
    let url = format!("mqtts://{SERVER_NAME}:{}", demo.banner.front.port());
    let ca = data.path().join("ca.pem").display().to_string();
    let at = |args: &[&'static str]| -> Vec<String> {
        front_args(&front, &url, &ca, args)
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    let run = |args: Vec<String>, stdin: &str| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli::run(&args, stdin, LIMIT)
    };
    // Each reply style (subscribed, pushed) in each log-in style.
    let mut tokens = Vec::new();
    for (identity, extra, user_line) in [
        ("dev-a", &[][..], "username = dev-a"),
        ("dev-b", &["--no-subscribe"][..], "username = dev-b"),
        ("dev-c", &["--login", "token-only"][..], "username ="),
        (
            "dev-d",
            &["--login", "token-only", "--no-subscribe"][..],
            "username =",
        ),
    ] {
        let mut args = at(&["activate", "--provision", "--identity", identity]);
        args.extend(extra.iter().map(ToString::to_string));
        let done = run(args, "");
        assert_eq!(
            done.code,
            Some(0),
            "{identity}: {done:?}\n{}",
            demo.stderr_text()
        );
        assert_eq!(&done.lines()[..2], ["Activation succeeded!", user_line]);
        let token = password_line(&done);
        assert_eq!(token.len(), 40, "{done:?}");
        tokens.push(token);
    }
    let token_d = tokens[3].clone();
    let platform_password = demo.banner.platform_password.clone();

    // The platform watches dev-d's resources (data up and the batch land on dev-d/<alias>).
    let watch_args = {
        let mut a = at(&[
            "sub", "-t", "dev-d/#", "-v", "-C", "4", "-d", "-i", "portal",
        ]);
        a.extend([
            "-u".into(),
            "platform".into(),
            "-P".into(),
            platform_password.clone(),
        ]);
        a
    };
    let mut watch = cli::spawn(&watch_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        watch
            .wait_stderr(LIMIT, |l| l.contains("subscribed"))
            .is_some(),
        "{:?}",
        watch.seen()
    );

    // The token-only device's console.
    let console_args = {
        let mut a = at(&["console", "--resource", "--login", "token-only", "-d"]);
        a.extend([
            "--identity".into(),
            "dev-d".into(),
            "--password".into(),
            token_d.clone(),
        ]);
        a
    };
    let mut console = cli::spawn(&console_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        console
            .wait_stderr(LIMIT, |l| l.contains("subscribed"))
            .is_some(),
        "{:?}\n{}",
        console.seen(),
        demo.stderr_text()
    );
    console.write_stdin("data_in\n21.5\n");
    assert!(
        console
            .wait_line(LIMIT, |l| l == "Message successfully sent!")
            .is_some(),
        "{:?}",
        console.seen()
    );
    // A platform write stamped by the front, and one with its own (µs) timestamp.
    let out = Command::new(demo_path())
        .args(["demo-write", "--current-api", "--identity", "dev-d"])
        .args(["--resource", "temperature", "--value", "212", "--data-dir"])
        .arg(data.path())
        .output()
        .expect("demo-write");
    assert!(out.status.success(), "{out:?}");
    let today = mqtt_flows::resource::format_utc(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
    );
    assert!(
        console
            .wait_line(LIMIT, |l| l
                .starts_with(&format!("time = {}", &today[..10])))
            .is_some(),
        "{:?}",
        console.seen()
    );
    let mut write = at(&[
        "pub",
        "-t",
        "$resource/dev-d/humidity/1700000000000000",
        "-m",
        "40",
    ]);
    write.extend(["-q".into(), "1".into(), "-i".into(), "portal-2".into()]);
    write.extend([
        "-u".into(),
        "platform".into(),
        "-P".into(),
        platform_password.clone(),
    ]);
    let done = run(write, "");
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(
        console
            .wait_line(LIMIT, |l| l == "time = 2023-11-14 22:13:20.000 UTC")
            .is_some(),
        "{:?}",
        console.seen()
    );
    // A batch of three values.
    console.write_stdin(
        "$resource.batch\n1700000000 temperature=20; 1700000000001 temperature=21; 1700000000000002 temperature=22\n",
    );
    let watched = watch.wait(LIMIT);
    assert_eq!(watched.code, Some(0), "{watched:?}");
    assert_eq!(
        watched.lines(),
        [
            "dev-d/data_in 21.5",
            "dev-d/temperature 20",
            "dev-d/temperature 21",
            "dev-d/temperature 22"
        ]
    );
    console.close_stdin();
    let done = console.wait(LIMIT);
    assert_eq!(done.code, Some(0), "{done:?}");
    let lines = done.lines();
    let at_write = lines
        .iter()
        .position(|l| *l == "topic = $resource/humidity/1700000000000000")
        .unwrap_or_else(|| panic!("{done:?}"));
    assert_eq!(
        lines[at_write..at_write + 3],
        [
            "topic = $resource/humidity/1700000000000000",
            "payload = 40",
            "time = 2023-11-14 22:13:20.000 UTC"
        ]
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("topic = $resource/temperature/")),
        "{done:?}"
    );

    // The identity-style device: data_in up; QoS 2 and a value over 1 MiB refused up front.
    let device = |extra: &[&str]| {
        let mut a = at(&["console", "--resource", "--identity", "dev-a"]);
        a.extend(["--password".into(), tokens[0].clone()]);
        a.extend(extra.iter().map(ToString::to_string));
        a
    };
    let done = run(device(&[]), "data_in\n7\n");
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(
        done.lines().contains(&"Message successfully sent!"),
        "{done:?}"
    );
    // Exactly Murano's limit passes (the front relays it whole).
    let done = run(
        device(&[]),
        &format!("data_in\n{}\n", "y".repeat(1_048_576)),
    );
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(
        done.lines().contains(&"Message successfully sent!"),
        "{done:?}"
    );
    let done = run(device(&["-q", "2"]), "data_in\n7\n");
    assert_eq!(done.code, Some(2), "{done:?}");
    assert_eq!(
        done.stderr.trim(),
        "mqttws: error: QoS 2 is not supported by Murano's $resource API: use QoS 0 or 1"
    );
    let done = run(
        device(&[]),
        &format!("data_in\n{}\n", "x".repeat(1_048_577)),
    );
    assert_eq!(done.code, Some(2), "{done:?}");
    assert!(
        done.stderr
            .contains("exceeds Murano's limit of 1048576 bytes"),
        "{done:?}"
    );
    // A raw QoS 2 PUBLISH (plain `pub` knows no Murano rules): the front closes the connection.
    let mut raw = at(&["pub", "-t", "$resource/data_in", "-m", "1", "-q", "2"]);
    raw.extend(["-i".into(), "dev-a".into(), "-u".into(), "dev-a".into()]);
    raw.extend(["-P".into(), tokens[0].clone()]);
    let done = run(raw, "");
    assert_eq!(done.code, Some(3), "{done:?}");
    let log = demo.stderr_text();
    demo.interrupt_and_check();
    assert!(log.contains("QoS 2 is not supported"), "{log}");
    assert!(log.contains("batch accepted"), "{log}");
}

/// Sets an input's value in one step (typing a megabyte through WebDriver would take minutes)
/// and fires `input`, as typing does.
fn set_value(browser: &Browser, css: &str, value: &str) {
    browser.eval(
        "const e = document.querySelector(arguments[0]); e.value = arguments[1];\
         e.dispatchEvent(new InputEvent('input', { bubbles: true }));",
        vec![css.into(), value.into()],
    );
}

/// The web app on the demo with Murano's current API: provisioning in each reply style
/// (subscribed, pushed) and log-in style (identity, token-only), `data_in` up, platform writes
/// down on `$resource/<alias>/<µs>` listed with their time and charted, a batch of three values
/// accepted, QoS 2 and a value over 1 MiB refused with the core's messages.
#[test]
fn current_api_in_the_browser_on_the_demo() {
    use tests::cli;
    let _serial = serial();
    dist();
    let data = TempDir::new("demo-current-api-web");
    let demo = Demo::start(data.path());
    let browser = Browser::start();
    let page = |route: &str| format!("{}{route}", demo.banner.url);
    open(&browser, &page("#/activate"));
    browser.select("#activation-mode", "provision");
    let mut subscribed = true;
    for (identity, login, subscribe, user_line) in [
        ("web-a", "identity", true, "username = web-a"),
        ("web-b", "identity", false, "username = web-b"),
        ("web-c", "token-only", true, "username ="),
        ("web-d", "token-only", false, "username ="),
    ] {
        browser.select("#activation-login", login);
        if subscribe != subscribed {
            browser.click("#activation-subscribe");
            subscribed = subscribe;
        }
        browser.fill("#identity", identity);
        browser.click("#activate");
        let output = browser.wait_text("#activation-output", "password = ", LIMIT);
        let lines: Vec<&str> = output.trim().lines().map(str::trim).collect();
        assert_eq!(
            &lines[..2],
            ["Activation succeeded!", user_line],
            "{identity}: {output}\n{}",
            demo.stderr_text()
        );
    }

    // The platform watches web-d's resources.
    let front = demo.banner.front.to_string();
    let url = format!("mqtts://{SERVER_NAME}:{}", demo.banner.front.port());
    let ca = data.path().join("ca.pem").display().to_string();
    let platform_password = demo.banner.platform_password.clone();
    let as_platform = |args: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(ToString::to_string).collect();
        all.extend(["-u", "platform", "-P", &platform_password].map(String::from));
        all.extend(["--url", &url, "--connect-to", &front, "--cafile", &ca].map(String::from));
        all
    };
    let watch_args = as_platform(&[
        "sub", "-t", "web-d/#", "-v", "-C", "4", "-d", "-i", "portal",
    ]);
    let mut watch = cli::spawn(&watch_args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        watch
            .wait_stderr(LIMIT, |l| l.contains("subscribed"))
            .is_some(),
        "{:?}",
        watch.seen()
    );

    // The console opens on the current API in the style web-d was provisioned with.
    browser.click("#use-credentials");
    browser.wait_for("the console page", LIMIT, |b| {
        (b.attr("#page", "data-page").as_deref() == Some("console")).then_some(())
    });
    let chosen = |css: &str| {
        browser
            .eval(
                "return document.querySelector(arguments[0]).value",
                vec![css.into()],
            )
            .as_str()
            .map(str::to_string)
    };
    assert_eq!(chosen("#console-api").as_deref(), Some("resource"));
    assert_eq!(chosen("#console-login").as_deref(), Some("token-only"));
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

    // Platform writes: stamped by the front, and with the platform's own µs timestamp.
    let out = Command::new(demo_path())
        .args(["demo-write", "--current-api", "--identity", "web-d"])
        .args(["--resource", "temperature", "--value", "212", "--data-dir"])
        .arg(data.path())
        .output()
        .expect("demo-write");
    assert!(out.status.success(), "{out:?}");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let today = mqtt_flows::resource::format_utc(now_ms)[..10].to_string();
    browser.wait_text(
        "#platform-writes",
        &format!("temperature = 212 at {today}"),
        LIMIT,
    );
    let pub_args = as_platform(&[
        "pub",
        "-t",
        "$resource/web-d/humidity/1700000000000000",
        "-m",
        "40",
        "-q",
        "1",
        "-i",
        "portal-2",
    ]);
    let done = cli::run(
        &pub_args.iter().map(String::as_str).collect::<Vec<_>>(),
        "",
        LIMIT,
    );
    assert_eq!(done.code, Some(0), "{done:?}");
    browser.wait_text(
        "#platform-writes",
        "humidity = 40 at 2023-11-14 22:13:20.000 UTC",
        LIMIT,
    );
    wait_row(
        &browser,
        "#console-log",
        "in",
        "$resource/humidity/1700000000000000 40",
        false,
        LIMIT,
    );
    for (chart, last) in [("temperature", "212"), ("humidity", "40")] {
        let seen = browser.wait_for("the chart", LIMIT, |b| {
            b.attr(&format!("[data-testid=chart-{chart}]"), "data-last")
        });
        assert_eq!(seen, last, "{chart}");
    }

    // A batch of three values.
    browser.fill(
        "#batch-values",
        "1700000000 temperature=20; 1700000001 temperature=21; 1700000002 temperature=22",
    );
    browser.click("#send-batch");
    let watched = watch.wait(LIMIT);
    assert_eq!(watched.code, Some(0), "{watched:?}\n{}", demo.stderr_text());
    assert_eq!(
        watched.lines(),
        [
            "web-d/data_in 21.5",
            "web-d/temperature 20",
            "web-d/temperature 21",
            "web-d/temperature 22"
        ]
    );
    browser.screenshot(&workspace().join("tests/artifacts/console-current-api.png"));

    // The Platform page writes through the current API too (a second tab).
    let console_tab = browser.window();
    let platform_tab = browser.new_tab();
    browser.switch_to(&platform_tab);
    open(&browser, &page("#/platform"));
    browser.fill("#platform-username", "platform");
    browser.fill("#platform-password", &platform_password);
    browser.click("#platform-connect");
    wait_state(&browser, "connected", LIMIT);
    browser.fill("#platform-identity", "web-d");
    browser.fill("#platform-resource", "setpoint");
    browser.fill("#platform-value", "5");
    browser.click("#platform-current-api");
    browser.click("#platform-write");
    wait_row(
        &browser,
        "#platform-log",
        "out",
        "$resource/web-d/setpoint 5",
        false,
        LIMIT,
    );
    browser.switch_to(&console_tab);
    browser.wait_text(
        "#platform-writes",
        &format!("setpoint = 5 at {today}"),
        LIMIT,
    );

    // Refused before sending, with the core's words.
    browser.select("#pub-qos", "2");
    browser.click("#publish");
    browser.wait_text(
        "#notice",
        "QoS 2 is not supported by Murano's $resource API: use QoS 0 or 1",
        LIMIT,
    );
    browser.select("#pub-qos", "1");
    set_value(&browser, "#pub-message", &"x".repeat(1_048_577));
    browser.click("#publish");
    browser.wait_text(
        "#notice",
        "a value of 1048577 bytes exceeds Murano's limit of 1048576 bytes per resource",
        LIMIT,
    );
    assert!(
        !log_rows_out_contain_big(&browser),
        "the oversized value was not sent"
    );
    assert_no_errors(&browser, &demo.stderr_text());
    drop(browser);
    demo.interrupt_and_check();
}

/// Whether an outgoing log row holds the megabyte value.
fn log_rows_out_contain_big(browser: &Browser) -> bool {
    tests::app_page::log_rows(browser, "#console-log", "out", false)
        .iter()
        .any(|r| r.len() > 1_000_000)
}
