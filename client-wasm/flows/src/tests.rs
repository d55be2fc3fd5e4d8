//! The seed flows driven against a scripted broker on simulated time.

use core::time::Duration;

use mqtt_core::packet::{Packet, Pid, QosPid};

use super::rotate::Direction;
use super::*;
use mqtt_core::codec;
use mqtt_core::sent::Sent;
use mqtt_core::{Options, TransportAction};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// A session, a flow and simulated time, driven the way an adapter does.
struct Driver<F: Flow> {
    session: Session,
    flow: F,
    now: Instant,
    outputs: Vec<F::Output>,
}

impl<F: Flow> Driver<F> {
    fn new(options: Options, flow: F) -> Self {
        let mut driver = Self {
            session: Session::new(options),
            flow,
            now: Instant::from_millis(0),
            outputs: Vec::new(),
        };
        driver.session.connect(driver.now);
        assert_eq!(driver.session.poll_transport(), Some(TransportAction::Open));
        driver.session.handle_transport_open(driver.now);
        driver.step();
        driver
    }

    /// One adapter iteration: events to the flow, flow commands to the session.
    fn step(&mut self) {
        while let Some(event) = self.session.poll_event() {
            self.flow.handle_event(self.now, &event);
        }
        assert!(pump(&mut self.session, &mut self.flow, self.now).is_empty());
        while let Some(event) = self.session.poll_event() {
            self.flow.handle_event(self.now, &event);
        }
        while let Some(output) = self.flow.poll_output() {
            self.outputs.push(output);
        }
    }

    fn broker_sends(&mut self, packet: Packet<'_>) {
        let bytes = codec::encode(&packet).unwrap();
        self.session.handle_bytes(self.now, &bytes);
        self.step();
    }

    fn sent(&mut self) -> Vec<Sent> {
        let mut all = Vec::new();
        while let Some(bytes) = self.session.poll_transmit() {
            all.extend(
                mqtt_core::sent::parse_sent(&bytes).expect("the client sent whole, valid packets"),
            );
        }
        all
    }

    fn advance_to_next_timer(&mut self) {
        let due = earliest(self.session.poll_timeout(), self.flow.poll_timeout()).unwrap();
        self.now = self.now.max(due);
        self.session.handle_timeout(self.now);
        self.flow.handle_timeout(self.now);
        self.step();
    }

    /// CONNACK accepted; the CONNECT sent before it is discarded.
    fn accept(&mut self) {
        self.sent();
        self.broker_sends(Packet::Connack(mqtt_core::packet::Connack {
            session_present: false,
            code: mqtt_core::packet::ConnectReturnCode::Accepted,
        }));
    }
}

fn pid(n: u16) -> Pid {
    Pid::try_from(n).unwrap()
}

fn suback_ok(driver: &mut Driver<impl Flow>, id: u16) {
    driver.broker_sends(Packet::Suback(mqtt_core::packet::Suback {
        pid: pid(id),
        return_codes: vec![mqtt_core::packet::SubscribeReturnCodes::Success(
            QoS::AtLeastOnce,
        )],
    }));
}

fn message(topic: &str, payload: &[u8]) -> Packet<'static> {
    let topic: &'static str = Box::leak(topic.to_string().into_boxed_str());
    let payload: &'static [u8] = Box::leak(payload.to_vec().into_boxed_slice());
    Packet::Publish(mqtt_core::packet::Publish {
        dup: false,
        qospid: QosPid::AtMostOnce,
        retain: false,
        topic_name: topic,
        payload,
    })
}

#[test]
fn legacy_activation_follows_the_seed() {
    let activation = Activation::new("007", ActivationMode::Legacy);
    let options = activation.session_options();
    assert_eq!(options.client_id, "007");
    assert_eq!(options.username, None, "anonymous");
    let mut d = Driver::new(options, activation);
    assert!(
        matches!(&d.sent()[..], [Sent::Connect { client_id, username: None, .. }] if client_id == "007")
    );
    d.accept();
    assert_eq!(
        d.sent(),
        vec![Sent::Subscribe {
            pid: 1,
            filters: vec![("activate/007".into(), 1)]
        }]
    );
    suback_ok(&mut d, 1);
    assert!(
        matches!(&d.sent()[..], [Sent::Publish { topic, payload, .. }] if topic == "activate" && payload == b"007")
    );
    d.broker_sends(message(
        "activate/007",
        b"b7b34f55e948b94841820ea50868a2490632d78f",
    ));
    assert_eq!(
        d.outputs,
        vec![Ok(Credentials {
            username: "007".into(),
            password: "b7b34f55e948b94841820ea50868a2490632d78f".into()
        })]
    );
    assert_eq!(
        d.sent(),
        vec![Sent::Disconnect],
        "disconnects like the seed's on_message"
    );
}

#[test]
fn provision_activation_ignores_its_own_empty_request() {
    let mut d = Driver::new(
        Options::new("dev1"),
        Activation::new("dev1", ActivationMode::Provision),
    );
    d.sent();
    d.accept();
    assert_eq!(
        d.sent(),
        vec![Sent::Subscribe {
            pid: 1,
            filters: vec![("$provision/dev1".into(), 1)]
        }]
    );
    suback_ok(&mut d, 1);
    assert!(
        matches!(&d.sent()[..], [Sent::Publish { topic, payload, .. }] if topic == "$provision/dev1" && payload.is_empty())
    );
    d.broker_sends(message("$provision/dev1", b""));
    assert!(d.outputs.is_empty());
    d.broker_sends(message("$provision/dev1", b"token-123"));
    assert_eq!(
        d.outputs,
        vec![Ok(Credentials {
            username: "dev1".into(),
            password: "token-123".into()
        })]
    );
}

#[test]
fn activation_reports_a_refused_subscription_and_a_missing_reply() {
    let mut d = Driver::new(
        Options::new("007"),
        Activation::new("007", ActivationMode::Legacy),
    );
    d.accept();
    d.broker_sends(Packet::Suback(mqtt_core::packet::Suback {
        pid: pid(1),
        return_codes: vec![mqtt_core::packet::SubscribeReturnCodes::Failure],
    }));
    assert_eq!(
        d.outputs,
        vec![Err(ActivationError::NotAuthorized("activate/007".into()))]
    );

    let flow =
        Activation::new("007", ActivationMode::Legacy).with_reply_timeout(Duration::from_secs(5));
    let mut d = Driver::new(Options::new("007"), flow);
    d.accept();
    suback_ok(&mut d, 1);
    d.advance_to_next_timer();
    assert_eq!(d.outputs, vec![Err(ActivationError::NoReply(5))]);
}

#[test]
fn console_subscribes_publishes_and_reports_platform_writes() {
    let mut d = Driver::new(
        Options::new("007").with_credentials("007", "pw"),
        Console::new("007", ConsoleMode::Legacy),
    );
    d.accept();
    assert_eq!(
        d.sent(),
        vec![Sent::Subscribe {
            pid: 1,
            filters: vec![("007/#".into(), 1)]
        }]
    );
    d.flow
        .publish("007/temperature", "32", QoS::AtMostOnce, false)
        .unwrap();
    d.flow
        .publish("humidity", "40", QoS::ExactlyOnce, false)
        .unwrap();
    d.step();
    let topics: Vec<String> = d
        .sent()
        .into_iter()
        .filter_map(|s| match s {
            Sent::Publish { topic, .. } => Some(topic),
            _ => None,
        })
        .collect();
    assert_eq!(topics, vec!["007/temperature", "007/humidity"]);
    d.broker_sends(message("007/temperature", b"212"));
    assert_eq!(
        d.outputs.last(),
        Some(&ConsoleOutput::Received {
            topic: "007/temperature".into(),
            resource: "temperature".into(),
            payload: b"212".to_vec(),
            timestamp: None,
        })
    );
}

#[test]
fn resource_console_parses_platform_timestamps() {
    let mut d = Driver::new(
        Options::new("dev1"),
        Console::new("dev1", ConsoleMode::Resource),
    );
    d.accept();
    assert_eq!(
        d.sent(),
        vec![Sent::Subscribe {
            pid: 1,
            filters: vec![("$resource/#".into(), 1)]
        }]
    );
    d.broker_sends(message("$resource/temperature/1700000000000", b"21"));
    assert!(matches!(
        d.outputs.last(),
        Some(ConsoleOutput::Received { resource, timestamp: Some(ts), .. }) if resource == "temperature" && ts == "1700000000000"
    ));
}

#[test]
fn provision_publishes_at_qos_1_and_takes_a_pushed_reply_without_subscribing() {
    let flow = Activation::new("dev1", ActivationMode::Provision).subscribing(false);
    let mut d = Driver::new(flow.session_options(), flow);
    d.accept();
    // No SUBSCRIBE: the request goes out at once, QoS 1, empty payload.
    assert_eq!(
        d.sent(),
        vec![Sent::Publish {
            topic: "$provision/dev1".into(),
            payload: vec![],
            qos: 1,
            pid: Some(1),
            retain: false,
            dup: false,
        }]
    );
    d.broker_sends(message("$provision/dev1", b"token-1"));
    assert_eq!(
        d.outputs,
        vec![Ok(Credentials {
            username: "dev1".into(),
            password: "token-1".into()
        })]
    );
}

#[test]
fn provision_takes_a_reply_before_the_suback_and_survives_a_refused_subscription() {
    // The reply overtakes the SUBACK.
    let mut d = Driver::new(
        Options::new("dev1"),
        Activation::new("dev1", ActivationMode::Provision),
    );
    d.accept();
    d.sent();
    d.broker_sends(message("$provision/dev1", b"early"));
    assert!(matches!(&d.outputs[..], [Ok(c)] if c.password == "early"));

    // A refused subscription: the request still goes, and a pushed reply is taken.
    let mut d = Driver::new(
        Options::new("dev1"),
        Activation::new("dev1", ActivationMode::Provision),
    );
    d.accept();
    d.sent();
    d.broker_sends(Packet::Suback(mqtt_core::packet::Suback {
        pid: pid(1),
        return_codes: vec![mqtt_core::packet::SubscribeReturnCodes::Failure],
    }));
    assert!(
        matches!(&d.sent()[..], [Sent::Publish { topic, qos: 1, .. }] if topic == "$provision/dev1")
    );
    assert!(d.outputs.is_empty());
    d.broker_sends(message("$provision/dev1", b"pushed"));
    assert!(matches!(&d.outputs[..], [Ok(c)] if c.password == "pushed"));
}

#[test]
fn token_only_style_provisions_with_an_empty_client_id_and_logs_in_with_the_token_alone() {
    let flow = Activation::new("dev1", ActivationMode::Provision)
        .with_login(LoginStyle::TokenOnly)
        .with_reply_timeout(Duration::from_secs(3));
    let options = flow.session_options();
    assert_eq!(options.client_id, "");
    assert!(options.clean_session, "[MQTT-3.1.3-7]");
    let mut d = Driver::new(options, flow);
    assert!(
        matches!(&d.sent()[..], [Sent::Connect { client_id, username: None, .. }] if client_id.is_empty())
    );
    d.accept();
    suback_ok(&mut d, 1);
    d.broker_sends(message("$provision/dev1", b"tok"));
    assert_eq!(
        d.outputs,
        vec![Ok(Credentials {
            username: String::new(),
            password: "tok".into()
        })]
    );
    let login = LoginStyle::TokenOnly.login_options("dev1", "tok");
    assert_eq!(
        (login.client_id.as_str(), login.username.as_deref()),
        ("", Some(""))
    );
    assert_eq!(login.password.as_deref(), Some(&b"tok"[..]));
    let login = LoginStyle::Identity.login_options("dev1", "tok");
    assert_eq!(
        (login.client_id.as_str(), login.username.as_deref()),
        ("dev1", Some("dev1"))
    );
    assert_eq!(
        LoginStyle::from_key("token-only"),
        Some(LoginStyle::TokenOnly)
    );
    assert_eq!(LoginStyle::default().key(), "identity");

    // No reply (simulated time jumps to the deadline).
    let flow = Activation::new("dev2", ActivationMode::Provision)
        .with_login(LoginStyle::TokenOnly)
        .subscribing(false)
        .with_reply_timeout(Duration::from_secs(3));
    let mut d = Driver::new(flow.session_options(), flow);
    d.accept();
    d.advance_to_next_timer();
    assert_eq!(d.now, Instant::from_millis(3_000));
    assert_eq!(d.outputs, vec![Err(ActivationError::NoReply(3))]);
}

#[test]
fn resource_console_refuses_qos_2_and_oversized_values_before_sending() {
    use super::resource::{ResourceError, MAX_VALUE};
    let mut d = Driver::new(
        LoginStyle::TokenOnly.login_options("dev1", "tok"),
        Console::new("dev1", ConsoleMode::Resource),
    );
    d.accept();
    d.sent();
    assert_eq!(
        d.flow.publish("data_in", "1", QoS::ExactlyOnce, false),
        Err(ResourceError::QosNotSupported)
    );
    let big = vec![b'x'; MAX_VALUE + 1];
    assert_eq!(
        d.flow.publish("data_in", big, QoS::AtLeastOnce, false),
        Err(ResourceError::ValueTooLarge { len: MAX_VALUE + 1 })
    );
    assert_eq!(
        ResourceError::ValueTooLarge { len: MAX_VALUE + 1 }.to_string(),
        "a value of 1048577 bytes exceeds Murano's limit of 1048576 bytes per resource"
    );
    d.step();
    assert!(d.sent().is_empty(), "nothing refused was sent");
    d.flow
        .publish("data_in", vec![b'x'; MAX_VALUE], QoS::AtLeastOnce, false)
        .unwrap();
    d.step();
    assert!(
        matches!(&d.sent()[..], [Sent::Publish { topic, qos: 1, payload, .. }] if topic == "$resource/data_in" && payload.len() == MAX_VALUE)
    );
    // The legacy console is not Murano's current API: no such limits.
    let legacy = Console::new("007", ConsoleMode::Legacy);
    assert_eq!(legacy.check(QoS::ExactlyOnce, b"1"), Ok(()));
}

#[test]
fn resource_batches_and_timestamps() {
    use super::resource::{format_utc, timestamp_ms};
    let (topic, body) = Console::batch(
        "temperature=20 humidity=40.5\n1700000000 status=on",
        1_700_000_000_000_000,
    )
    .unwrap();
    assert_eq!(topic, "$resource.batch");
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"[{"timestamp":1700000000000000,"values":{"temperature":20,"humidity":40.5}},{"timestamp":1700000000,"values":{"status":"on"}}]"#
    );
    let (_, raw) = Console::batch(r#" [{"timestamp":1,"values":{"a":1}}] "#, 0).unwrap();
    assert_eq!(raw, br#"[{"timestamp":1,"values":{"a":1}}]"#);
    assert!(Console::batch("", 0).is_err());
    assert!(Console::batch("temperature", 0).is_err());
    assert!(Console::batch("1 a=\"q\\", 0)
        .is_ok_and(|(_, b)| b == br#"[{"timestamp":1,"values":{"a":"\"q\\"}}]"#));
    // Seconds, milliseconds and microseconds, told apart by magnitude.
    for t in ["1700000000", "1700000000000", "1700000000000000"] {
        assert_eq!(timestamp_ms(t), Some(1_700_000_000_000), "{t}");
    }
    assert_eq!(timestamp_ms("1700000000123456"), Some(1_700_000_000_123));
    assert_eq!(timestamp_ms("x1"), None);
    assert_eq!(timestamp_ms("100000000000000000"), None);
    assert_eq!(format_utc(1_700_000_000_123), "2023-11-14 22:13:20.123 UTC");
    assert_eq!(format_utc(0), "1970-01-01 00:00:00.000 UTC");
    assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00.000 UTC");
}

#[test]
fn echo_host_rotates_each_message_onto_the_device_topic() {
    let config = EchoHostConfig::default();
    let mut d = Driver::new(Options::new("host"), EchoHost::new(config));
    d.accept();
    assert!(
        matches!(&d.sent()[..], [Sent::Subscribe { filters, .. }] if filters[0].0 == "azuresphere/sample/host")
    );
    d.broker_sends(message("azuresphere/sample/host", b"hello"));
    d.broker_sends(message("some/other/topic", b"ignored"));
    assert_eq!(
        d.outputs,
        vec![EchoOutput {
            received: b"hello".to_vec(),
            sent: b"elloh".to_vec()
        }]
    );
    assert!(
        matches!(&d.sent()[..], [Sent::Publish { topic, payload, .. }] if topic == "azuresphere/sample/device" && payload == b"elloh")
    );

    let config = EchoHostConfig {
        direction: Direction::Right,
        ..EchoHostConfig::default()
    };
    let mut d = Driver::new(Options::new("host"), EchoHost::new(config));
    d.accept();
    d.broker_sends(message("azuresphere/sample/host", b"hello"));
    assert_eq!(d.outputs[0].sent, b"ohell");
}

#[test]
fn device_publishes_every_interval_and_republishes_what_comes_back() {
    let config = DeviceConfig {
        message: "hello".into(),
        ..DeviceConfig::default()
    };
    let mut d = Driver::new(Options::new("device"), Device::new(config));
    d.accept();
    let sent = d.sent();
    assert!(
        matches!(&sent[0], Sent::Subscribe { filters, .. } if filters[0].0 == "azuresphere/sample/device")
    );
    assert!(
        matches!(&sent[1], Sent::Publish { topic, payload, .. } if topic == "azuresphere/sample/host" && payload == b"hello")
    );
    d.broker_sends(message("azuresphere/sample/device", b"elloh"));
    let start = d.now;
    d.advance_to_next_timer();
    assert_eq!(d.now, start + Duration::from_secs(1));
    assert!(matches!(&d.sent()[..], [Sent::Publish { payload, .. }] if payload == b"elloh"));
    assert_eq!(
        d.outputs,
        vec![
            DeviceOutput::Sent(b"hello".to_vec()),
            DeviceOutput::Received(b"elloh".to_vec()),
            DeviceOutput::Sent(b"elloh".to_vec())
        ]
    );
}

#[test]
fn device_and_echo_host_turn_the_message_one_character_per_round_trip() {
    // Both flows on one simulated broker: what one publishes, the other receives.
    let mut device = Device::new(DeviceConfig {
        message: "abcd".into(),
        ..DeviceConfig::default()
    });
    let mut host = EchoHost::new(EchoHostConfig::default());
    let now = Instant::from_millis(0);
    let mut seen = Vec::new();
    device.handle_event(
        now,
        &Event::Connected {
            session_present: false,
        },
    );
    for round in 0..4u64 {
        let now = Instant::from_millis(round * 1_000);
        if round > 0 {
            device.handle_timeout(now);
        }
        while let Some(command) = device.poll_command() {
            if let Command::Publish { topic, payload, .. } = command {
                host.handle_event(
                    now,
                    &Event::Message(mqtt_core::Message {
                        topic,
                        payload,
                        qos: QoS::AtMostOnce,
                        retain: false,
                        dup: false,
                    }),
                );
            }
        }
        while let Some(command) = host.poll_command() {
            if let Command::Publish { topic, payload, .. } = command {
                seen.push(String::from_utf8(payload.clone()).unwrap());
                device.handle_event(
                    now,
                    &Event::Message(mqtt_core::Message {
                        topic,
                        payload,
                        qos: QoS::AtMostOnce,
                        retain: false,
                        dup: false,
                    }),
                );
            }
        }
    }
    assert_eq!(seen, vec!["bcda", "cdab", "dabc", "abcd"]);
}
