//! CONNECT and CONNACK: what goes out, what comes back, refusals, the takeover rule, and disconnecting.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn connect_carries_every_option() {
    let mut options = Harness::options().with_credentials("007", "secret");
    options.clean_session = false;
    options.will = Some(Will {
        topic: "007/status".into(),
        payload: b"gone".to_vec(),
        qos: QoS::AtLeastOnce,
        retain: true,
    });
    let mut h = Harness::new(options);
    h.session.connect(h.now);
    assert_eq!(h.actions(), vec![TransportAction::Open]);
    h.session.handle_transport_open(h.now);
    assert_eq!(
        h.sent(),
        vec![Sent::Connect {
            client_id: "007".into(),
            clean: false,
            keep_alive: 10,
            username: Some("007".into()),
            will: Some("007/status".into()),
        }]
    );
}

#[test]
fn refused_credentials_are_final_and_typed() {
    let mut h = Harness::new(Harness::options());
    h.session.connect(h.now);
    h.actions();
    h.session.handle_transport_open(h.now);
    h.sent();
    h.feed(&connack(
        false,
        crate::packet::ConnectReturnCode::BadUsernamePassword,
    ));
    let events = h.events();
    assert_eq!(
        events,
        vec![Event::ConnectionLost {
            error: ConnectionError::Refused(ConnectRefused::BadUserNameOrPassword),
            reconnect_in: None,
            attempt: 0,
        }]
    );
    assert_eq!(h.actions(), vec![TransportAction::Close]);
    assert_eq!(h.session.poll_timeout(), None, "nothing is retried");
    assert_eq!(
        ConnectionError::Refused(ConnectRefused::BadUserNameOrPassword).code(),
        "bad_credentials"
    );
}

#[test]
fn every_refusal_code_maps_to_its_error() {
    use crate::packet::ConnectReturnCode as Code;
    let cases = [
        (
            Code::RefusedProtocolVersion,
            ConnectRefused::UnacceptableProtocolVersion,
            false,
        ),
        (
            Code::RefusedIdentifierRejected,
            ConnectRefused::IdentifierRejected,
            false,
        ),
        (
            Code::ServerUnavailable,
            ConnectRefused::ServerUnavailable,
            true,
        ),
        (
            Code::BadUsernamePassword,
            ConnectRefused::BadUserNameOrPassword,
            false,
        ),
        (Code::NotAuthorized, ConnectRefused::NotAuthorized, false),
    ];
    for (code, expected, retried) in cases {
        let mut h = Harness::new(Harness::options());
        h.session.connect(h.now);
        h.session.handle_transport_open(h.now);
        h.feed(&connack(false, code));
        match h.events().as_slice() {
            [Event::ConnectionLost {
                error: ConnectionError::Refused(refused),
                reconnect_in,
                ..
            }] => {
                assert_eq!(*refused, expected);
                assert_eq!(reconnect_in.is_some(), retried, "{expected:?}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn backoff_grows_and_stops_at_its_cap() {
    let mut h = Harness::new(Harness::options());
    h.session.connect(h.now);
    let mut delays = Vec::new();
    for _ in 0..8 {
        assert_eq!(h.actions(), vec![TransportAction::Open]);
        h.session.handle_transport_closed(
            h.now,
            TransportFailure::Unreachable("connection refused".into()),
        );
        for event in h.events() {
            if let Event::ConnectionLost {
                reconnect_in: Some(d),
                error: ConnectionError::Transport(_),
                ..
            } = event
            {
                delays.push(d.as_millis() as u64);
            }
        }
        h.fire_timer();
        h.events();
    }
    assert_eq!(delays.len(), 8);
    for (attempt, delay) in delays.iter().enumerate() {
        let ceiling = (100u64 << attempt).min(2_000);
        assert!(
            *delay >= ceiling / 2 && *delay <= ceiling,
            "attempt {attempt}: {delay} ms"
        );
    }
    assert!(
        delays[7] >= 1_000,
        "capped at 2 s, at least half of it: {delays:?}"
    );
}

#[test]
fn no_connack_in_time_is_a_connect_timeout() {
    let mut options = Harness::options();
    options.connect_timeout = Duration::from_secs(3);
    let mut h = Harness::new(options);
    h.session.connect(h.now);
    h.actions();
    h.session.handle_transport_open(h.now);
    h.fire_timer();
    assert!(matches!(
        h.events().as_slice(),
        [Event::ConnectionLost {
            error: ConnectionError::ConnectTimeout(3_000),
            ..
        }]
    ));
    assert_eq!(h.actions(), vec![TransportAction::Close]);
}

#[test]
fn disconnect_sends_disconnect_then_closes_and_stops_retrying() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    h.session.disconnect(h.now);
    assert_eq!(h.sent(), vec![Sent::Disconnect]);
    assert_eq!(h.actions(), vec![TransportAction::Close]);
    assert_eq!(h.events(), vec![Event::Disconnected]);
    assert_eq!(h.session.poll_timeout(), None);
    // A close reported afterwards changes nothing.
    h.session
        .handle_transport_closed(h.now, TransportFailure::Dropped("closed".into()));
    assert!(h.events().is_empty());
}

#[test]
fn close_frames_carry_code_and_reason_and_retry_follows_the_wire_rule() {
    let mut h = Harness::new(Harness::options());
    h.session.connect(h.now);
    h.actions();
    h.session
        .handle_transport_closed(h.now, TransportFailure::closed(4403, "origin not allowed"));
    let events = h.events();
    assert_eq!(
        events,
        vec![Event::ConnectionLost {
            error: ConnectionError::Transport(TransportFailure::Closed {
                code: 4403,
                reason: "origin not allowed".into(),
            }),
            reconnect_in: None,
            attempt: 0,
        }]
    );
    assert!(h.actions().is_empty(), "the transport is already closed");

    // 4502 (upstream unreachable) is retried: the adapter has no say in it.
    let mut h = Harness::new(Harness::options());
    h.session.connect(h.now);
    h.actions();
    h.session
        .handle_transport_closed(h.now, TransportFailure::closed(4502, ""));
    assert!(matches!(
        h.events().as_slice(),
        [Event::ConnectionLost { error, reconnect_in: Some(_), .. }]
            if error.to_string() == "closed by the server (4502): upstream unreachable"
    ));
}

/// MQTT 3.1.1 §3.2: one CONNACK per connection. A second one is a typed violation, retried.
#[test]
fn a_second_connack_is_a_violation() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    h.feed(&connack(false, crate::packet::ConnectReturnCode::Accepted));
    let events = h.events();
    assert!(
        matches!(
            events.as_slice(),
            [Event::ConnectionLost {
                error: ConnectionError::Violation(ProtocolViolation::SecondConnack),
                reconnect_in: Some(_),
                ..
            }]
        ),
        "{events:?}"
    );
}

/// A CONNECT the options cannot fill (a client id over 65,535 bytes) fails the connection for
/// good instead of retrying the same bytes forever.
#[test]
fn options_that_do_not_fit_a_connect_are_not_retried() {
    let mut h = Harness::new(Options::new("x".repeat(70_000)));
    h.session.connect(h.now);
    h.actions();
    h.session.handle_transport_open(h.now);
    let events = h.events();
    assert!(
        matches!(
            events.as_slice(),
            [Event::ConnectionLost {
                error: ConnectionError::InvalidOptions(_),
                reconnect_in: None,
                ..
            }]
        ),
        "{events:?}"
    );
}

/// [MQTT-3.2.2-1]: a broker accepting a clean session must answer session present 0. One that
/// says 1 would have the client resume state the broker does not hold.
#[test]
fn session_present_on_a_clean_session_is_a_violation() {
    let mut h = Harness::new(Harness::options());
    h.session.connect(h.now);
    h.actions();
    h.session.handle_transport_open(h.now);
    h.sent();
    h.feed(&connack(true, crate::packet::ConnectReturnCode::Accepted));
    let events = h.events();
    assert!(
        matches!(
            events.as_slice(),
            [Event::ConnectionLost {
                error: ConnectionError::Violation(ProtocolViolation::SessionPresentOnCleanSession),
                ..
            }]
        ),
        "{events:?}"
    );
}

/// CONNECT's rules are checked before anything is sent: [MQTT-3.1.2-22] (password needs a user
/// name), [MQTT-3.1.3-7] (an empty client id needs clean session), the will topic is a topic
/// name, and no U+0000 in strings.
#[test]
fn options_that_break_connects_rules_are_refused() {
    let cases: Vec<(Options, OptionsError)> = vec![
        (
            Options {
                password: Some(b"secret".to_vec()),
                ..Harness::options()
            },
            OptionsError::PasswordWithoutUserName,
        ),
        (
            Options {
                client_id: String::new(),
                ..Harness::persistent()
            },
            OptionsError::EmptyClientIdWithoutCleanSession,
        ),
        (
            Options {
                will: Some(Will {
                    topic: "status/#".into(),
                    payload: Vec::new(),
                    qos: QoS::AtMostOnce,
                    retain: false,
                }),
                ..Harness::options()
            },
            OptionsError::WillTopic(TopicError::WildcardInName),
        ),
        (
            Options {
                username: Some("a\0b".into()),
                ..Harness::options()
            },
            OptionsError::ContainsNul { field: "user name" },
        ),
    ];
    for (options, expected) in cases {
        assert_eq!(options.check(), Err(expected.clone()));
        let mut h = Harness::new(options);
        h.session.connect(h.now);
        h.actions();
        h.session.handle_transport_open(h.now);
        assert!(h.sent().is_empty(), "{expected}: no CONNECT goes out");
        let events = h.events();
        assert!(
            matches!(
                events.as_slice(),
                [Event::ConnectionLost {
                    error: ConnectionError::InvalidOptions(e),
                    reconnect_in: None,
                    ..
                }] if *e == expected
            ),
            "{events:?}"
        );
    }
    assert_eq!(Harness::options().check(), Ok(()));
}

/// [MQTT-3.1.4-2]: another client with this id makes the broker drop the older connection.
/// When that happens right after each CONNACK, three times in a row, the session stops
/// reconnecting (no storm of CONNECTs), reports `ConnectedElsewhere`, and `connect` takes the
/// id over with a fresh count.
#[test]
fn repeated_takeovers_end_in_connected_elsewhere_and_connect_takes_over() {
    let mut h = Harness::new(Harness::options());
    let mut connects = 0;
    let mut last = None;
    for _ in 0..10 {
        h.establish(false);
        connects += 1;
        h.advance(Duration::from_millis(300));
        h.session.handle_transport_closed(
            h.now,
            TransportFailure::Closed {
                code: crate::wire::close::NORMAL,
                reason: "upstream closed".into(),
            },
        );
        last = h.events().pop();
        if h.session.poll_timeout().is_none() {
            break;
        }
        h.fire_timer();
        h.events();
    }
    assert_eq!(
        connects, 3,
        "stopped after the third short-lived connection"
    );
    assert!(
        matches!(
            &last,
            Some(Event::ConnectionLost {
                error: ConnectionError::ConnectedElsewhere { drops: 3 },
                reconnect_in: None,
                ..
            })
        ),
        "{last:?}"
    );
    assert_eq!(
        last.map(|e| match e {
            Event::ConnectionLost { error, .. } => error.code(),
            _ => "",
        }),
        Some("connected_elsewhere")
    );
    assert!(h.actions().is_empty(), "no reconnect is scheduled");
    assert!(h.session.is_connected_elsewhere());
    h.advance(Duration::from_secs(60));
    assert!(h.actions().is_empty(), "still none a minute later");

    // The user takes the id over: it connects, and two more short drops do not trip the rule.
    h.establish(false);
    assert!(!h.session.is_connected_elsewhere());
    for _ in 0..2 {
        h.advance(Duration::from_millis(300));
        h.drop_and_wait_reopen();
        h.session.handle_transport_open(h.now);
        h.sent();
        h.feed(&connack(false, crate::packet::ConnectReturnCode::Accepted));
        h.events();
    }
}
