//! Reducer tests: plain values in, plain values out, run natively with `cargo test -p web`.

use core::time::Duration;

use mqtt_core::flows::rotate::Direction;
use mqtt_core::flows::{
    ActivationError, ActivationMode, ConsoleOutput, Credentials, DeviceOutput, EchoOutput,
};
use mqtt_core::{ConnectRefused, ConnectionError, Event, Message, QoS, TransportFailure};

use super::*;

fn run(state: State, actions: impl IntoIterator<Item = Action>) -> State {
    actions.into_iter().fold(state, State::apply)
}

fn started(purpose: Page) -> State {
    let state = State::new("ws://127.0.0.1:9/mqtt".into(), purpose, None, 0);
    run(
        state,
        [
            Action::Set(Field::Identity, "007".into()),
            Action::Started {
                generation: 1,
                purpose,
            },
        ],
    )
}

fn message(topic: &str, payload: &str) -> Event {
    Event::Message(Message {
        topic: topic.into(),
        payload: payload.as_bytes().to_vec(),
        qos: QoS::AtLeastOnce,
        retain: false,
        dup: false,
    })
}

fn ev(event: Event) -> Action {
    Action::Event {
        generation: 1,
        at_ms: 1_000,
        event,
    }
}

fn creds() -> Credentials {
    Credentials {
        username: "007".into(),
        password: "b7b34f55e948b94841820ea50868a2490632d78f".into(),
    }
}

#[test]
fn hash_routes_open_each_page() {
    assert_eq!(Page::from_hash("#/console"), Page::Console);
    assert_eq!(Page::from_hash("#/echo"), Page::Echo);
    assert_eq!(Page::from_hash("#device"), Page::Device);
    assert_eq!(Page::from_hash("#/platform?x=1"), Page::Platform);
    assert_eq!(Page::from_hash(""), Page::Activate);
    assert_eq!(Page::from_hash("#/nope"), Page::Activate);
    for page in Page::ALL {
        assert_eq!(Page::from_hash(&page.hash()), page);
    }
    let state = State::default().apply(Action::Navigate(Page::Echo));
    assert_eq!(state.page, Page::Echo);
}

#[test]
fn fields_and_endpoint() {
    let state = run(
        State::new("ws://h:1/mqtt".into(), Page::Activate, None, 0),
        [
            Action::Set(Field::Route, "murano".into()),
            Action::Set(Field::Product, "x2lmj5npsktbuik9".into()),
            Action::Set(Field::Identity, "007".into()),
            Action::Set(Field::PubMessage, "32".into()),
            Action::Set(Field::DeviceInterval, "50".into()),
            Action::SetQos(7),
        ],
    );
    assert_eq!(
        state.settings.endpoint().unwrap(),
        "ws://h:1/mqtt/murano/x2lmj5npsktbuik9"
    );
    assert_eq!(state.console.message, "32");
    assert_eq!(state.console.qos, 2);
    assert_eq!(state.device.interval(), Some(100));
    assert_eq!(state.settings.client_id_for(Page::Console), "007");
    assert_eq!(state.settings.client_id_for(Page::Echo), "007-echo-host");
    let state = state.apply(Action::Set(Field::ClientId, "mine".into()));
    assert_eq!(state.settings.client_id_for(Page::Device), "mine");
}

#[test]
fn remembered_credentials_prefill_the_panel() {
    let state = State::new("ws://h/mqtt".into(), Page::Console, Some(creds()), 60);
    assert_eq!(state.settings.username, "007");
    assert_eq!(state.settings.identity, "007");
    assert!(state.settings.remember);
    assert!(!state.apply(Action::Forget).settings.remember);
}

#[test]
fn status_follows_the_connection() {
    let state = started(Page::Console);
    assert_eq!(state.conn.status, Status::Connecting { attempt: 0 });
    let state = state.apply(ev(Event::Connected {
        session_present: false,
    }));
    assert_eq!(state.conn.status.key(), "connected");
    let lost = Event::ConnectionLost {
        error: ConnectionError::Transport(TransportFailure::Dropped("socket closed".into())),
        reconnect_in: Some(Duration::from_millis(2_300)),
        attempt: 2,
    };
    let state = state.apply(ev(lost));
    assert_eq!(
        state.conn.status.text(),
        "Reconnecting in 3 s (attempt 2): connection closed: socket closed"
    );
    let state = state.apply(ev(Event::Reconnecting { attempt: 2 }));
    assert_eq!(state.conn.status.text(), "Connecting… (attempt 2)");
    let state = state.apply(ev(Event::Disconnected));
    assert_eq!(state.conn.status, Status::Disconnected);
}

#[test]
fn refused_credentials_show_the_brokers_words() {
    let state = started(Page::Console).apply(ev(Event::ConnectionLost {
        error: ConnectionError::Refused(ConnectRefused::BadUserNameOrPassword),
        reconnect_in: None,
        attempt: 1,
    }));
    assert_eq!(state.conn.status.key(), "error");
    assert_eq!(
        state.conn.status.text(),
        "Error: connection refused: bad user name or password (check the user name and password)"
    );
    assert!(matches!(&state.conn.status, Status::Failed { code, .. } if code == "bad_credentials"));
}

#[test]
fn bridge_refusals_show_the_close_reason() {
    let state = started(Page::Device).apply(ev(Event::ConnectionLost {
        error: ConnectionError::Transport(TransportFailure::Closed {
            code: 4403,
            reason: "origin not allowed".into(),
        }),
        reconnect_in: None,
        attempt: 1,
    }));
    assert!(state.conn.status.text().contains("origin not allowed"));
    assert!(!state.device.stats.running);
    assert_eq!(state.device.stats.errors, 1);
}

#[test]
fn events_of_an_old_connection_are_ignored() {
    let state = started(Page::Console).apply(Action::Started {
        generation: 2,
        purpose: Page::Console,
    });
    let state = state.apply(ev(Event::Connected {
        session_present: false,
    }));
    assert_eq!(state.conn.status.key(), "connecting");
    let state = state.apply(ev(message("007/temperature", "1")));
    assert!(state.console.log.entries.is_empty());
    let state = state.apply(Action::Stopped);
    assert_eq!(state.conn.status, Status::Disconnected);
    let state = state.apply(Action::Event {
        generation: 2,
        at_ms: 0,
        event: Event::Connected {
            session_present: false,
        },
    });
    assert_eq!(state.conn.status, Status::Disconnected);
}

#[test]
fn activation_prints_the_seed_lines_and_fills_the_console() {
    let state = started(Page::Activate).apply(Action::SetActivationMode(ActivationMode::Provision));
    assert!(state.activation.running);
    assert_eq!(state.activation.mode, ActivationMode::Provision);
    let state = state.apply(Action::Activation {
        generation: 1,
        outcome: Ok(creds()),
    });
    assert_eq!(
        state.activation.lines,
        [
            "Activation succeeded!",
            "username = 007",
            "password = b7b34f55e948b94841820ea50868a2490632d78f"
        ]
    );
    assert!(!state.activation.running);
    assert_eq!(
        state.settings.username, "007",
        "copied into the panel at once"
    );
    // The flow disconnects after the reply: not an error.
    let state = state.apply(ev(Event::Disconnected));
    assert_eq!(state.conn.status, Status::Disconnected);
    let state = state.apply(Action::UseCredentials);
    assert_eq!(state.page, Page::Console);
    assert_eq!(
        state.settings.password,
        "b7b34f55e948b94841820ea50868a2490632d78f"
    );
    assert_eq!(state.settings.username, "007");
}

#[test]
fn activation_failure_is_shown() {
    let state = started(Page::Activate).apply(Action::Activation {
        generation: 1,
        outcome: Err(ActivationError::NoReply(10)),
    });
    assert!(
        state.activation.lines[0].starts_with("Activation failed: no activation reply within 10 s")
    );
    assert!(state.activation.credentials.is_none());
    // Nothing to copy.
    assert_eq!(state.clone().apply(Action::UseCredentials), state);
}

#[test]
fn console_logs_both_directions_and_charts_numbers() {
    let state = started(Page::Console);
    let state = run(
        state,
        [
            Action::Sent {
                generation: 1,
                at_ms: 5,
                topic: "007/temperature".into(),
                payload: b"32".to_vec(),
                qos: 1,
                retain: false,
            },
            ev(message("007/temperature", "32")),
            Action::Console {
                generation: 1,
                at_ms: 6,
                output: ConsoleOutput::Received {
                    topic: "007/temperature".into(),
                    resource: "temperature".into(),
                    payload: b"32".to_vec(),
                    timestamp: None,
                },
            },
            Action::Console {
                generation: 1,
                at_ms: 7,
                output: ConsoleOutput::Received {
                    topic: "007/state".into(),
                    resource: "state".into(),
                    payload: b"on".to_vec(),
                    timestamp: None,
                },
            },
        ],
    );
    let log: Vec<_> = state
        .console
        .log
        .entries
        .iter()
        .map(|e| (e.dir, e.topic.as_str(), e.qos))
        .collect();
    assert_eq!(
        log,
        [
            (Dir::Out, "007/temperature", 1),
            (Dir::In, "007/temperature", 1)
        ]
    );
    assert_eq!(
        state.console.charts.series.keys().collect::<Vec<_>>(),
        ["temperature"]
    );
    assert_eq!(state.console.charts.series["temperature"], [(6, 32.0)]);
}

#[test]
fn log_is_capped_and_pausable() {
    let mut state = started(Page::Console);
    for i in 0..(LOG_CAP + 20) {
        state = state.apply(ev(message("007/n", &i.to_string())));
    }
    assert_eq!(state.console.log.entries.len(), LOG_CAP);
    assert_eq!(state.console.log.entries[0].payload, b"20");
    assert_eq!(state.console.log.dropped, 20);
    let state = state.apply(Action::TogglePause);
    assert!(state.console.log.paused);
    let state = state.apply(ev(message("007/n", "held")));
    assert_eq!(
        state.console.log.entries.back().unwrap().payload,
        format!("{}", LOG_CAP + 19).as_bytes()
    );
    assert_eq!(state.console.log.held.len(), 1);
    let state = state.apply(Action::TogglePause);
    assert!(state.console.log.held.is_empty());
    assert_eq!(state.console.log.entries.len(), LOG_CAP);
    assert_eq!(state.console.log.entries.back().unwrap().payload, b"held");
    let ids: Vec<u64> = state.console.log.entries.iter().map(|e| e.id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids stay unique and ordered"
    );
    assert!(state.apply(Action::ClearLog).console.log.entries.is_empty());
}

#[test]
fn echo_host_counts_and_keeps_the_last_messages() {
    let mut state = started(Page::Echo).apply(Action::SetDirection(Direction::Right));
    assert_eq!(state.echo.direction, Direction::Right);
    assert!(state.echo.stats.running);
    for i in 0..12 {
        let output = EchoOutput {
            received: format!("m{i}").into_bytes(),
            sent: format!("{i}m").into_bytes(),
        };
        state = state.apply(Action::Echo {
            generation: 1,
            output,
        });
    }
    assert_eq!(
        (
            state.echo.stats.received,
            state.echo.stats.sent,
            state.echo.stats.errors
        ),
        (12, 12, 0)
    );
    assert_eq!(state.echo.stats.last.len(), LAST_CAP);
    assert_eq!(state.echo.stats.last[0], (Dir::Out, "11m".into()));
    let state = state.apply(Action::Stopped);
    assert!(!state.echo.stats.running);
    assert_eq!(state.conn.purpose, None);
}

#[test]
fn device_counts_sent_and_received() {
    let state = run(
        started(Page::Device),
        [
            Action::Device {
                generation: 1,
                output: DeviceOutput::Sent(b"hello".to_vec()),
            },
            Action::Device {
                generation: 1,
                output: DeviceOutput::Received(b"elloh".to_vec()),
            },
            Action::Device {
                generation: 9,
                output: DeviceOutput::Received(b"stale".to_vec()),
            },
            ev(Event::ConnectionLost {
                error: ConnectionError::Transport(TransportFailure::Dropped("gone".into())),
                reconnect_in: Some(Duration::from_secs(1)),
                attempt: 1,
            }),
        ],
    );
    let s = &state.device.stats;
    assert_eq!((s.sent, s.received, s.errors), (1, 1, 1));
    assert_eq!(s.last[0], (Dir::In, "elloh".into()));
    assert!(s.running, "a retried loss keeps the loop running");
    // Starting again resets the counters.
    let state = state.apply(Action::Started {
        generation: 2,
        purpose: Page::Device,
    });
    assert_eq!(state.device.stats.sent, 0);
}

#[test]
fn refused_subscription_is_reported() {
    let state = started(Page::Echo).apply(ev(Event::Subscribed {
        request: mqtt_core::RequestId(1),
        granted: vec![None],
    }));
    assert_eq!(state.echo.stats.errors, 1);
    assert!(state.notice.unwrap().contains("not authorized"));
}

#[test]
fn platform_writes_go_to_the_device_topic() {
    let state = run(
        started(Page::Platform),
        [
            Action::Set(Field::PlatformIdentity, " 007 ".into()),
            Action::Sent {
                generation: 1,
                at_ms: 1,
                topic: "007/temperature".into(),
                payload: b"212".to_vec(),
                qos: 1,
                retain: false,
            },
        ],
    );
    assert_eq!(state.platform.topic(), "007/temperature");
    assert_eq!(state.platform.log.entries.len(), 1);
    let state = run(
        state,
        [Action::Navigate(Page::Platform), Action::TogglePause],
    );
    assert!(state.platform.log.paused);
    assert!(!state.console.log.paused);
}

#[test]
fn mosquittos_not_authorized_names_the_likely_cause() {
    let state = started(Page::Console).apply(ev(Event::ConnectionLost {
        error: ConnectionError::Refused(ConnectRefused::NotAuthorized),
        reconnect_in: None,
        attempt: 1,
    }));
    assert_eq!(
        state.conn.status.text(),
        "Error: connection refused: not authorized (bad user name or password, or this client may not connect)"
    );
}
