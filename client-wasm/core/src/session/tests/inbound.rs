//! Inbound messages: acknowledgements, QoS 2 exactly once, topic names, the drain before DISCONNECT.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn inbound_qos1_is_acknowledged_and_qos2_delivered_exactly_once() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    h.feed(&publish(
        "007/temperature",
        b"212",
        QosPid::AtLeastOnce(pid(5)),
        false,
    ));
    assert_eq!(h.sent(), vec![Sent::Puback(5)]);
    assert_eq!(h.events().len(), 1);

    h.feed(&publish(
        "007/humidity",
        b"40",
        QosPid::ExactlyOnce(pid(6)),
        false,
    ));
    h.feed(&publish(
        "007/humidity",
        b"40",
        QosPid::ExactlyOnce(pid(6)),
        true,
    ));
    assert_eq!(h.sent(), vec![Sent::Pubrec(6), Sent::Pubrec(6)]);
    let events = h.events();
    assert_eq!(
        events.len(),
        1,
        "the DUP repeat before PUBREL is not delivered: {events:?}"
    );
    h.feed(&bytes(Packet::Pubrel(pid(6))));
    assert_eq!(h.sent(), vec![Sent::Pubcomp(6)]);
    // After PUBREL the id is free again: a new message with it is a new message.
    h.feed(&publish(
        "007/humidity",
        b"41",
        QosPid::ExactlyOnce(pid(6)),
        false,
    ));
    assert_eq!(h.events().len(), 1);
}

#[test]
fn inbound_qos2_state_survives_a_reconnect_into_a_kept_session() {
    let mut options = Harness::options();
    options.clean_session = false;
    let mut h = Harness::new(options);
    h.establish(false);
    h.feed(&publish("t", b"once", QosPid::ExactlyOnce(pid(9)), false));
    assert_eq!(h.events().len(), 1);
    h.drop_and_wait_reopen();
    h.establish(true);
    h.feed(&publish("t", b"once", QosPid::ExactlyOnce(pid(9)), true));
    assert!(
        h.events().is_empty(),
        "redelivery after reconnect is not a second delivery"
    );
    assert_eq!(h.sent(), vec![Sent::Pubrec(9)]);
}

/// [MQTT-3.3.2-2], [MQTT-4.7.3-1], [MQTT-1.5.3-2]: a topic name from the broker with a wildcard,
/// empty, or with U+0000 is a protocol violation, never delivered.
#[test]
fn inbound_topic_names_with_wildcards_or_nul_are_refused() {
    for bad in ["a/+", "a/#", "", "a\0b"] {
        let mut h = Harness::new(Harness::options());
        h.establish(false);
        h.feed(&publish(bad, b"x", QosPid::AtMostOnce, false));
        let events = h.events();
        assert!(
            matches!(
                events.as_slice(),
                [Event::ConnectionLost {
                    error: ConnectionError::Violation(ProtocolViolation::InvalidTopicName(_)),
                    ..
                }]
            ),
            "{bad:?}: {events:?}"
        );
    }
}

/// A PUBREL for an inbound QoS 2 message gets its PUBCOMP even when the caller disconnects
/// right after the message was delivered (the CLI's `sub -C 1`): DISCONNECT waits for it, at
/// most `drain_timeout`, delivering nothing new meanwhile.
#[test]
fn disconnect_waits_for_the_pubrel_of_delivered_qos2_messages() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    h.feed(&publish("t", b"once", QosPid::ExactlyOnce(pid(5)), false));
    assert_eq!(h.sent(), vec![Sent::Pubrec(5)]);
    h.events();
    h.session.disconnect(h.now);
    assert!(h.sent().is_empty(), "DISCONNECT waits for PUBREL 5");
    h.feed(&publish("t", b"later", QosPid::AtLeastOnce(pid(6)), false));
    assert!(
        h.sent().is_empty(),
        "nothing new is acknowledged while draining"
    );
    h.feed(&bytes(Packet::Pubrel(pid(5))));
    assert_eq!(h.sent(), vec![Sent::Pubcomp(5), Sent::Disconnect]);
    assert_eq!(h.actions(), vec![TransportAction::Close]);
    assert_eq!(h.events(), vec![Event::Disconnected]);

    // No PUBREL: DISCONNECT after `drain_timeout`.
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    h.feed(&publish("t", b"once", QosPid::ExactlyOnce(pid(7)), false));
    h.sent();
    let asked = h.now;
    h.session.disconnect(h.now);
    h.fire_timer();
    assert_eq!(h.now, asked + Duration::from_secs(2));
    assert_eq!(h.sent(), vec![Sent::Disconnect]);
    assert!(h.events().contains(&Event::Disconnected));
}
