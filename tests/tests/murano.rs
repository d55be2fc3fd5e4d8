//! Seed 000 end to end through the real `mqttws` binary, over TLS with SNI `broker.test`, against
//! mosquitto configured like Murano, with the activation responder playing the platform.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tests::certs::TestPki;
use tests::cli::{self, plain_url, tls_url};
use tests::mosquitto::{Mosquitto, MosquittoOptions};
use tests::responder::{platform_write, Responder};

const LIMIT: Duration = Duration::from_secs(30);

struct Murano {
    broker: Arc<Mutex<Mosquitto>>,
    responder: Responder,
    url: String,
    connect_to: String,
    ca: String,
    plain: std::net::SocketAddr,
    _pki: TestPki,
}

fn murano() -> Murano {
    murano_with(MosquittoOptions::default())
}

fn murano_with(options: MosquittoOptions) -> Murano {
    let pki = TestPki::generate();
    let broker = Mosquitto::start(&pki, options);
    let (url, connect_to) = tls_url(&broker);
    let ca = broker.ca_path().display().to_string();
    let plain = broker.plain_addr();
    let broker = Arc::new(Mutex::new(broker));
    let responder = Responder::for_mosquitto(&broker);
    Murano {
        broker,
        responder,
        url,
        connect_to,
        ca,
        plain,
        _pki: pki,
    }
}

impl Murano {
    fn tls<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = args.to_vec();
        all.extend([
            "--url",
            &self.url,
            "--connect-to",
            &self.connect_to,
            "--cafile",
            &self.ca,
        ]);
        all
    }

    fn log(&self) -> String {
        self.broker.lock().map(|b| b.log_text()).unwrap_or_default()
    }
}

fn password_of(run: &cli::Finished) -> String {
    let line = run
        .lines()
        .into_iter()
        .find(|l| l.starts_with("password = "))
        .unwrap_or_default()
        .to_string();
    line.trim_start_matches("password = ").to_string()
}

#[test]
fn seed_000_activate_then_console_round_trip_and_platform_write() {
    let started = Instant::now();
    let m = murano();
    let dir = tests::certs::TempDir::new("murano-creds");
    let creds = dir.path().join("007.creds");
    let creds_arg = creds.display().to_string();

    // activate.py
    let run = cli::run(
        &m.tls(&["activate", "--identity", "007", "--save", &creds_arg]),
        "",
        LIMIT,
    );
    assert_eq!(
        run.code,
        Some(0),
        "activate: {run:?}\nbroker log:\n{}",
        m.log()
    );
    let lines = run.lines();
    assert_eq!(lines.len(), 3, "{run:?}");
    assert_eq!(lines[0], "Activation succeeded!");
    assert_eq!(lines[1], "username = 007");
    let password = password_of(&run);
    assert_eq!(password.len(), 40);
    assert!(password.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        m.responder.activated(),
        vec![("007".to_string(), password.clone())]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&creds)
            .map(|md| md.permissions().mode() & 0o777)
            .ok();
        assert_eq!(mode, Some(0o600));
    }

    // publish.py: topic 007/temperature, message 32, echoed back; then a platform write of 212.
    let mut console = cli::spawn(&m.tls(&[
        "console",
        "--identity",
        "007",
        "--password",
        &password,
        "-d",
    ]));
    console.write_stdin("007/temperature\n32\n");
    assert!(
        console
            .wait_line(LIMIT, |l| l == "Message successfully sent!")
            .is_some(),
        "{:?}",
        console.seen()
    );
    assert!(
        console.wait_line(LIMIT, |l| l == "payload = 32").is_some(),
        "{:?}",
        console.seen()
    );
    platform_write(m.plain, "007/temperature", "212");
    assert!(
        console.wait_line(LIMIT, |l| l == "payload = 212").is_some(),
        "{:?}",
        console.seen()
    );
    console.close_stdin();
    let done = console.wait(LIMIT);
    assert_eq!(done.code, Some(0), "{done:?}");
    let expected = [
        "Message received!",
        "topic = 007/temperature",
        "payload = 32",
        "Message received!",
        "topic = 007/temperature",
        "payload = 212",
    ];
    let received: Vec<&str> = done
        .lines()
        .into_iter()
        .filter(|l| *l != "Message successfully sent!")
        .collect();
    assert_eq!(received, expected, "{done:?}");

    // The same console from the saved credentials file.
    let run = cli::run(
        &m.tls(&["console", "--credentials", &creds_arg]),
        "temperature\n33\n",
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.lines().contains(&"Message successfully sent!"),
        "{run:?}"
    );

    // Murano stays silent for an identity already activated: activation fails clearly.
    let run = cli::run(
        &m.tls(&["activate", "--identity", "007", "--reply-timeout", "2"]),
        "",
        LIMIT,
    );
    assert_eq!(run.code, Some(8), "{run:?}");
    assert!(run.stdout.is_empty(), "{run:?}");
    assert!(
        run.stderr
            .starts_with("mqttws: error: activation of '007' failed: no activation reply"),
        "{run:?}"
    );
    assert!(run.stderr.contains("already activated"), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    eprintln!("seed 000 scenario: {:?}", started.elapsed());
}

#[test]
fn provision_api_activates_too() {
    let m = murano();
    let run = cli::run(
        &m.tls(&["activate", "--identity", "dev-42", "--provision"]),
        "",
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "{run:?}\nbroker log:\n{}", m.log());
    assert_eq!(
        &run.lines()[..2],
        ["Activation succeeded!", "username = dev-42"]
    );
    let password = password_of(&run);
    assert_eq!(password.len(), 40);
    // The credentials work: publish as the device on its own topic.
    let run = cli::run(
        &m.tls(&[
            "pub",
            "-t",
            "dev-42/state",
            "-m",
            "on",
            "-q",
            "1",
            "-i",
            "dev-42",
            "-u",
            "dev-42",
            "-P",
            &password,
        ]),
        "",
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    // Again: refused (no reply).
    let run = cli::run(
        &m.tls(&[
            "activate",
            "--identity",
            "dev-42",
            "--provision",
            "--reply-timeout",
            "2",
        ]),
        "",
        LIMIT,
    );
    assert_eq!(run.code, Some(8), "{run:?}");
}

#[test]
fn wrong_password_is_refused_with_exit_5() {
    let m = murano();
    let run = cli::run(
        &m.tls(&[
            "console",
            "--identity",
            "007",
            "--password",
            "not-the-password",
        ]),
        "",
        LIMIT,
    );
    assert_eq!(run.code, Some(5), "{run:?}");
    // mosquitto 2.0 answers CONNACK 5 (not authorised) for a wrong password; Murano may say 4.
    let line = run.stderr.trim();
    assert!(
        line == "mqttws: error: connection refused: not authorized"
            || line == "mqttws: error: connection refused: bad user name or password",
        "{run:?}"
    );
}

/// Mosquitto 2.0's ACL file does not refuse a subscription (it grants it and then delivers
/// nothing that the ACL forbids), unlike Murano which answers SUBACK 0x80. So an anonymous
/// client's and another device's subscriptions to `007/#` see nothing of the platform's writes,
/// and `sub -C 1` gives up with its time limit; the device itself receives them.
#[test]
fn anonymous_and_other_devices_do_not_see_a_devices_topics() {
    let m = murano();
    let run = cli::run(&m.tls(&["activate", "--identity", "007"]), "", LIMIT);
    let password_007 = password_of(&run);
    let run = cli::run(&m.tls(&["activate", "--identity", "008"]), "", LIMIT);
    let password_008 = password_of(&run);

    let mut anonymous = cli::spawn(&m.tls(&[
        "sub",
        "-t",
        "007/#",
        "-C",
        "1",
        "-v",
        "--timeout",
        "4",
        "-d",
    ]));
    let mut other = cli::spawn(&m.tls(&[
        "sub",
        "-t",
        "007/#",
        "-C",
        "1",
        "-v",
        "--timeout",
        "4",
        "-i",
        "008",
        "-u",
        "008",
        "-P",
        &password_008,
    ]));
    let owner = cli::spawn(&m.tls(&[
        "sub",
        "-t",
        "007/#",
        "-C",
        "1",
        "-v",
        "--timeout",
        "10",
        "-i",
        "007",
        "-u",
        "007",
        "-P",
        &password_007,
    ]));
    // Let the three subscriptions settle. Device 008 writes to 007's resource: the broker
    // acknowledges (MQTT 3.1.1 cannot refuse a publish) but drops it. Then the platform writes.
    std::thread::sleep(Duration::from_millis(1500));
    let intrusion = cli::run(
        &m.tls(&[
            "pub",
            "-t",
            "007/temperature",
            "-m",
            "hacked",
            "-q",
            "1",
            "-i",
            "008",
            "-u",
            "008",
            "-P",
            &password_008,
        ]),
        "",
        LIMIT,
    );
    assert_eq!(intrusion.code, Some(0), "{intrusion:?}");
    platform_write(m.plain, "007/temperature", "212");
    let owner = owner.wait(LIMIT);
    assert_eq!(owner.code, Some(0), "{owner:?}");
    assert_eq!(owner.stdout, "007/temperature 212\n");
    for (who, run) in [
        ("anonymous", anonymous.wait_line(Duration::ZERO, |_| true)),
        ("008", other.wait_line(Duration::ZERO, |_| true)),
    ] {
        assert_eq!(run, None, "{who} received a message of 007");
    }
    let anonymous = anonymous.wait(LIMIT);
    let other = other.wait(LIMIT);
    for run in [&anonymous, &other] {
        assert_eq!(run.code, Some(7), "{run:?}");
        assert!(run.stdout.is_empty(), "{run:?}");
        assert!(
            run.stderr.contains("mqttws: error: gave up after 4 s"),
            "{run:?}"
        );
    }
    // The plain listener applies the same rules.
    let run = cli::run(
        &[
            "sub",
            "--url",
            &plain_url(&m.broker.lock().expect("broker")),
            "-t",
            "007/#",
            "-C",
            "1",
            "--timeout",
            "1",
        ],
        "",
        LIMIT,
    );
    assert_eq!(run.code, Some(7), "{run:?}");
}

/// A broker that answers SUBACK 0x80 (as Murano does for a topic outside the device's tree):
/// the CLI says which filter was refused and exits with 5.
#[test]
fn refused_subscription_exits_5_and_names_the_filter() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf); // CONNECT
        let _ = s.write_all(&[0x20, 0x02, 0x00, 0x00]); // CONNACK accepted
        let mut got = Vec::new();
        while got.len() < 4 {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        // SUBSCRIBE: 0x82, remaining length, packet id (2 bytes) ...
        let (hi, lo) = (got[2], got[3]);
        let _ = s.write_all(&[0x90, 0x03, hi, lo, 0x80]);
        let _ = s.read(&mut buf);
    });
    let url = format!("mqtt://{addr}");
    let run = cli::run(
        &[
            "sub",
            "--url",
            &url,
            "-t",
            "008/#",
            "-i",
            "007",
            "--timeout",
            "10",
        ],
        "",
        LIMIT,
    );
    let _ = server.join();
    assert_eq!(run.code, Some(5), "{run:?}");
    assert_eq!(
        run.stderr.trim(),
        "mqttws: error: not authorised to subscribe to 008/# (SUBACK 0x80)"
    );
    // The console reports the same for its `<identity>/#` subscription.
}

/// Murano's current API (`$provision`, `$resource`) through the real `mqttws`: provisioning in
/// both log-in styles, data up on `$resource/data_in`, a platform write down on
/// `$resource/<alias>/<µs>` printed with its time, a batch of three values, and QoS 2 and an
/// oversized value refused before sending (exit 2). On mosquitto a reply is delivered only to a
/// subscriber, so `--no-subscribe` gets no reply here (the demo pushes it: tests/tests/demo.rs).
#[test]
fn current_api_provisions_in_both_login_styles_and_runs_the_resource_console() {
    let m = murano_with(MosquittoOptions {
        murano_current_api: true,
        ..MosquittoOptions::default()
    });
    let dir = tests::certs::TempDir::new("murano-current-creds");
    let creds_b = dir.path().join("dev-b.creds").display().to_string();
    // Identity style (Exosite's documentation): client id = identity, subscribed reply.
    let run = cli::run(
        &m.tls(&["activate", "--identity", "dev-a", "--provision"]),
        "",
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "{run:?}\nbroker log:\n{}", m.log());
    assert_eq!(
        &run.lines()[..2],
        ["Activation succeeded!", "username = dev-a"]
    );
    let password_a = password_of(&run);
    // Token-only style (examples): empty client id while provisioning, empty user name after.
    let run = cli::run(
        &m.tls(&[
            "activate",
            "--identity",
            "dev-b",
            "--provision",
            "--login",
            "token-only",
            "--save",
            &creds_b,
        ]),
        "",
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "{run:?}\nbroker log:\n{}", m.log());
    assert_eq!(&run.lines()[..2], ["Activation succeeded!", "username ="]);
    let token_b = password_of(&run);
    assert_eq!(token_b.len(), 40);
    assert!(
        !m.log().contains(" as dev-b "),
        "an empty client id (mosquitto assigns one):\n{}",
        m.log()
    );
    // The log-in styles and a pushed reply are the current API's.
    let run = cli::run(
        &m.tls(&["activate", "--identity", "dev-x", "--login", "token-only"]),
        "",
        LIMIT,
    );
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(
        run.stderr.trim(),
        "mqttws: error: --login token-only and --no-subscribe are for the current API: add --provision"
    );
    // Without subscribing: mosquitto delivers only to subscribers, so no reply comes.
    let run = cli::run(
        &m.tls(&[
            "activate",
            "--identity",
            "dev-c",
            "--provision",
            "--no-subscribe",
            "--reply-timeout",
            "2",
        ]),
        "",
        LIMIT,
    );
    assert_eq!(run.code, Some(8), "{run:?}");

    // The platform watches batches.
    let mut batches = cli::spawn(&m.tls(&[
        "sub",
        "-t",
        "$resource.batch",
        "-C",
        "1",
        "-i",
        "platform-batches",
        "-u",
        tests::mosquitto::PLATFORM_USER,
        "-P",
        tests::mosquitto::PLATFORM_PASSWORD,
        "-d",
    ]));
    assert!(
        batches
            .wait_stderr(LIMIT, |l| l.contains("subscribed"))
            .is_some(),
        "{:?}",
        batches.seen()
    );

    // The token-only device's console: data_in up, a platform write down, a batch.
    let mut console = cli::spawn(&m.tls(&[
        "console",
        "--resource",
        "--login",
        "token-only",
        "--credentials",
        &creds_b,
        "-d",
    ]));
    assert!(
        console
            .wait_stderr(LIMIT, |l| l.contains("subscribed"))
            .is_some(),
        "{:?}",
        console.seen()
    );
    console.write_stdin("data_in\n21.5\n");
    assert!(
        console
            .wait_line(LIMIT, |l| l == "Message successfully sent!")
            .is_some(),
        "{:?}",
        console.seen()
    );
    platform_write(m.plain, "$resource/temperature/1700000000000000", "212");
    assert!(
        console
            .wait_line(LIMIT, |l| l == "time = 2023-11-14 22:13:20.000 UTC")
            .is_some(),
        "{:?}",
        console.seen()
    );
    console.write_stdin(
        "$resource.batch\n1700000000 temperature=20; 1700000001 temperature=21; 1700000002 temperature=22\n",
    );
    let batch = batches.wait(LIMIT);
    assert_eq!(batch.code, Some(0), "{batch:?}");
    assert_eq!(
        batch.stdout,
        "[{\"timestamp\":1700000000,\"values\":{\"temperature\":20}},\
         {\"timestamp\":1700000001,\"values\":{\"temperature\":21}},\
         {\"timestamp\":1700000002,\"values\":{\"temperature\":22}}]\n"
    );
    console.close_stdin();
    let done = console.wait(LIMIT);
    assert_eq!(done.code, Some(0), "{done:?}");
    let lines = done.lines();
    let write = lines
        .iter()
        .position(|l| *l == "topic = $resource/temperature/1700000000000000")
        .unwrap_or_else(|| panic!("no platform write in {done:?}"));
    assert_eq!(
        lines[write..write + 3],
        [
            "topic = $resource/temperature/1700000000000000",
            "payload = 212",
            "time = 2023-11-14 22:13:20.000 UTC"
        ]
    );
    assert!(lines.contains(&"topic = $resource/data_in"), "{done:?}");

    // The identity-style device publishes data_in as well.
    let run = cli::run(
        &m.tls(&[
            "console",
            "--resource",
            "--identity",
            "dev-a",
            "--password",
            &password_a,
        ]),
        "data_in\n7\n",
        LIMIT,
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.lines().contains(&"Message successfully sent!"),
        "{run:?}"
    );

    // Refused before anything is sent: QoS 2, and a value over 1 MiB.
    let run = cli::run(
        &m.tls(&[
            "console",
            "--resource",
            "-q",
            "2",
            "--identity",
            "dev-a",
            "--password",
            &password_a,
        ]),
        "data_in\n1\n",
        LIMIT,
    );
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(
        run.stderr.trim(),
        "mqttws: error: QoS 2 is not supported by Murano's $resource API: use QoS 0 or 1"
    );
    let big = format!("data_in\n{}\n", "x".repeat(1_048_577));
    let run = cli::run(
        &m.tls(&[
            "console",
            "--resource",
            "--identity",
            "dev-a",
            "--password",
            &password_a,
        ]),
        &big,
        LIMIT,
    );
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(
        run.stderr.trim(),
        "mqttws: error: not sent to 'data_in': a value of 1048577 bytes exceeds Murano's limit of 1048576 bytes per resource"
    );
    assert!(
        !m.log().contains("1048577"),
        "nothing oversized reached the broker"
    );
}

/// Murano's subscriptions are hardcoded: a broker may refuse `$resource/#` (SUBACK 0x80) and
/// still push platform writes. The `--resource` console warns and goes on, and prints the
/// pushed write with its time (a scripted broker on loopback plays Murano).
#[test]
fn resource_console_survives_a_refused_subscription_and_takes_pushed_writes() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf); // CONNECT
        let _ = s.write_all(&[0x20, 0x02, 0x00, 0x00]); // CONNACK accepted
        let mut got = Vec::new();
        while got.len() < 4 {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let (hi, lo) = (got[2], got[3]);
        let _ = s.write_all(&[0x90, 0x03, hi, lo, 0x80]); // SUBACK: refused
        let topic = b"$resource/temperature/1700000000000000";
        let mut publish = vec![0x30, (2 + topic.len() + 1) as u8, 0x00, topic.len() as u8];
        publish.extend_from_slice(topic);
        publish.push(b'5');
        let _ = s.write_all(&publish);
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    });
    let url = format!("mqtt://{addr}");
    let mut console = cli::spawn(&[
        "console",
        "--resource",
        "--url",
        &url,
        "--identity",
        "dev1",
        "--password",
        "token",
    ]);
    let time = console.wait_line(LIMIT, |l| l.starts_with("time = "));
    console.close_stdin();
    let done = console.wait(LIMIT);
    let _ = server.join();
    assert_eq!(
        time.as_deref(),
        Some("time = 2023-11-14 22:13:20.000 UTC"),
        "{done:?}"
    );
    assert_eq!(done.code, Some(0), "{done:?}");
    assert!(
        done.stderr
            .contains("the broker refused $resource/# (SUBACK 0x80)"),
        "{done:?}"
    );
}
