//! Bytes from a broker that is wrong: typed errors, never a panic, in any chunking.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn oversized_incoming_packets_close_the_connection_with_a_typed_error() {
    let mut options = Harness::options();
    options.max_incoming_packet = 64;
    let mut h = Harness::new(options);
    h.establish(false);
    h.feed(&publish("t", &[0u8; 100], QosPid::AtMostOnce, false)[..3]);
    let events = h.events();
    assert!(
        matches!(
            events.as_slice(),
            [Event::ConnectionLost {
                error: ConnectionError::Protocol(DecodeError::TooLarge { size: 105, max: 64 }),
                ..
            }]
        ),
        "{events:?}"
    );
    assert_eq!(h.actions(), vec![TransportAction::Close]);
}

#[test]
fn malformed_broker_bytes_are_typed_errors_never_panics() {
    let vectors: &[&[u8]] = &[
        &[0x20, 0x00],
        &[0x40, 0x00],
        &[0x20, 0x01, 0xbc],
        &[0x30, 0x02, 0x00, 0x05, 0x61, 0x62, 0x63, 0x64, 0x65],
        &[0xff, 0xfb, 0xff, 0xff, 0xff, 0xff],
        &[0x90, 0x02, 0x00, 0x01],
        &[0x10, 0x02, 0x00, 0x04],
    ];
    for vector in vectors {
        let mut h = Harness::new(Harness::options());
        h.establish(false);
        h.feed(vector);
        let events = h.events();
        assert!(
            matches!(
                events.as_slice(),
                [Event::ConnectionLost {
                    error: ConnectionError::Protocol(_) | ConnectionError::Violation(_),
                    ..
                }]
            ),
            "{vector:02x?}: {events:?}"
        );
    }
}

#[test]
fn a_packet_before_connack_or_a_server_only_packet_is_a_violation() {
    let mut h = Harness::new(Harness::options());
    h.session.connect(h.now);
    h.session.handle_transport_open(h.now);
    h.feed(&bytes(Packet::Pingresp));
    assert!(matches!(
        h.events().as_slice(),
        [Event::ConnectionLost {
            error: ConnectionError::Violation(_),
            ..
        }]
    ));

    let mut h = Harness::new(Harness::options());
    h.establish(false);
    h.feed(&bytes(Packet::Pingreq));
    assert!(matches!(
        h.events().as_slice(),
        [Event::ConnectionLost {
            error: ConnectionError::Violation(_),
            ..
        }]
    ));
}

#[test]
fn a_peer_that_is_not_an_mqtt_server_is_refused_at_its_first_byte() {
    let mut h = Harness::new(Harness::options());
    h.session.connect(h.now);
    h.actions();
    h.session.handle_transport_open(h.now);
    h.feed(b"HTTP/1.1 400 Bad Request\r\n");
    let events = h.events();
    assert!(
        matches!(
            events.as_slice(),
            [Event::ConnectionLost {
                error: ConnectionError::Violation(ProtocolViolation::NotConnack {
                    first_byte: b'H',
                    ..
                }),
                ..
            }]
        ),
        "{events:?}"
    );
    assert_eq!(h.actions(), vec![TransportAction::Close]);
}

#[test]
fn input_in_single_bytes_gives_the_same_result() {
    let mut h = Harness::new(Harness::options());
    h.session.connect(h.now);
    h.session.handle_transport_open(h.now);
    let mut wire = connack(false, crate::packet::ConnectReturnCode::Accepted);
    wire.extend(publish(
        "007/temperature",
        b"32",
        QosPid::AtLeastOnce(pid(1)),
        false,
    ));
    for byte in wire {
        h.feed(&[byte]);
    }
    let events = h.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(
        matches!(&events[1], Event::Message(m) if m.topic == "007/temperature" && m.payload == b"32")
    );
}
