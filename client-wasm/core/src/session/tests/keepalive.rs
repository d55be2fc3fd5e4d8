//! Keepalive: PINGREQ when idle, a dead link found within one and a half intervals.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn keepalive_pings_when_idle_and_detects_a_dead_link_within_one_and_a_half_intervals() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    let start = h.now;
    h.fire_timer();
    assert_eq!(h.now, start + Duration::from_secs(10));
    assert_eq!(h.sent(), vec![Sent::Pingreq]);
    h.feed(&bytes(Packet::Pingresp));
    h.fire_timer();
    assert_eq!(h.sent(), vec![Sent::Pingreq]);
    // No PINGRESP this time.
    h.fire_timer();
    let events = h.events();
    assert!(
        matches!(
            events.as_slice(),
            [Event::ConnectionLost {
                error: ConnectionError::KeepaliveTimeout(5_000),
                reconnect_in: Some(_),
                ..
            }]
        ),
        "{events:?}"
    );
    assert_eq!(
        h.now,
        start + Duration::from_secs(25),
        "ping at 20 s, declared dead 5 s later"
    );
    assert_eq!(h.actions(), vec![TransportAction::Close]);
}

#[test]
fn traffic_both_ways_postpones_the_ping() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    h.advance(Duration::from_secs(8));
    h.session
        .publish(h.now, "t", b"x", QoS::AtMostOnce, false)
        .unwrap();
    h.feed(&publish("t", b"y", QosPid::AtMostOnce, false));
    h.sent();
    h.advance(Duration::from_secs(8));
    assert!(
        h.sent().is_empty(),
        "only 8 s since the last packet each way"
    );
    h.advance(Duration::from_secs(2));
    assert_eq!(h.sent(), vec![Sent::Pingreq]);
}

#[test]
fn a_link_that_only_carries_our_sends_is_still_probed() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    let start = h.now;
    for _ in 0..12 {
        h.advance(Duration::from_secs(1));
        h.session
            .publish(h.now, "t", b"x", QoS::AtMostOnce, false)
            .unwrap();
    }
    let sent = h.sent();
    assert!(
        sent.contains(&Sent::Pingreq),
        "nothing received for 10 s: probe the link"
    );
    h.fire_timer();
    assert_eq!(
        h.now,
        start + Duration::from_secs(15),
        "declared dead 5 s after the probe"
    );
    assert!(matches!(
        h.events().last(),
        Some(Event::ConnectionLost {
            error: ConnectionError::KeepaliveTimeout(_),
            ..
        })
    ));
}

/// A PINGRESP queued behind a backlog of messages arrives late, yet every byte before it proves
/// the link alive (§3.1.2.10 lets a client close only when no PINGRESP comes "within a
/// reasonable amount of time"): a subscriber behind a steady stream keeps its connection, and a
/// link that then goes silent is still declared dead one ping timeout after its last byte.
#[test]
fn data_arriving_while_a_ping_is_outstanding_keeps_the_link() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    h.fire_timer();
    assert_eq!(h.sent(), vec![Sent::Pingreq]);
    for _ in 0..100 {
        h.advance(Duration::from_millis(100));
        h.feed(&publish("t", b"x", QosPid::AtMostOnce, false));
    }
    let lost = h
        .events()
        .into_iter()
        .any(|e| matches!(e, Event::ConnectionLost { .. }));
    assert!(!lost, "10 s of data behind the PINGREQ is not a dead link");
    let last_byte = h.now;
    h.fire_timer();
    assert!(h
        .events()
        .iter()
        .any(|e| matches!(e, Event::ConnectionLost { .. })));
    assert_eq!(
        h.now,
        last_byte + Duration::from_secs(5),
        "one ping timeout after the last byte"
    );
}
