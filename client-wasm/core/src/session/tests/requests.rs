//! SUBSCRIBE and UNSUBSCRIBE: acknowledgements, resubscribing, requests across a dropped link.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn subscribe_reports_granted_and_refused_filters() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    let request = h
        .session
        .subscribe(
            h.now,
            &[("007/#", QoS::AtLeastOnce), ("008/#", QoS::AtLeastOnce)],
        )
        .unwrap();
    let sent = h.sent();
    let Sent::Subscribe { pid, filters } = &sent[0] else {
        panic!("{sent:?}")
    };
    assert_eq!(
        filters,
        &vec![("007/#".to_string(), 1), ("008/#".to_string(), 1)]
    );
    h.feed(&suback(*pid, &[Some(QoS::AtLeastOnce), None]));
    assert_eq!(
        h.events(),
        vec![Event::Subscribed {
            request,
            granted: vec![Some(QoS::AtLeastOnce), None]
        }]
    );
    // The refused filter is not resubscribed after a reconnect.
    assert_eq!(
        h.session.subscriptions(),
        &[("007/#".to_string(), QoS::AtLeastOnce)]
    );
    assert!(h.session.is_subscribed("007/temperature"));
    assert!(!h.session.is_subscribed("008/temperature"));
}

#[test]
fn unsubscribe_is_acknowledged_and_forgotten() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    h.session
        .subscribe(h.now, &[("a/#", QoS::AtMostOnce)])
        .unwrap();
    h.sent();
    let request = h.session.unsubscribe(h.now, &["a/#"]).unwrap();
    let sent = h.sent();
    let Sent::Unsubscribe { pid, filters } = &sent[0] else {
        panic!("{sent:?}")
    };
    assert_eq!(filters, &vec!["a/#".to_string()]);
    h.feed(&bytes(Packet::Unsuback(tests::pid(*pid))));
    assert!(h.events().contains(&Event::Unsubscribed { request }));
    assert!(h.session.subscriptions().is_empty());
    assert_eq!(
        h.session.subscribe(h.now, &[]),
        Err(CommandError::NoFilters)
    );
    assert!(matches!(
        h.session.subscribe(h.now, &[("a/#/b", QoS::AtMostOnce)]),
        Err(CommandError::InvalidTopic(_))
    ));
}

#[test]
fn resubscribes_only_when_the_broker_forgot_the_session() {
    let mut h = Harness::new(Harness::persistent());
    h.establish(false);
    h.session
        .subscribe(h.now, &[("007/#", QoS::AtLeastOnce)])
        .unwrap();
    let sent = h.sent();
    let Sent::Subscribe { pid, .. } = sent[0] else {
        panic!()
    };
    h.feed(&suback(pid, &[Some(QoS::AtLeastOnce)]));
    h.events();

    h.drop_and_wait_reopen();
    let sent = h.establish(false);
    assert!(
        matches!(&sent[..], [Sent::Subscribe { filters, .. }] if filters == &vec![("007/#".to_string(), 1)])
    );
    let Sent::Subscribe { pid, .. } = sent[0] else {
        panic!()
    };
    h.feed(&suback(pid, &[Some(QoS::AtLeastOnce)]));
    assert!(
        h.events().is_empty(),
        "the session's own resubscribe raises no event"
    );

    h.drop_and_wait_reopen();
    assert!(
        h.establish(true).is_empty(),
        "the broker kept the subscriptions"
    );
}

#[test]
fn requests_in_flight_when_the_link_drops_are_sent_again() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    let request = h
        .session
        .subscribe(h.now, &[("a", QoS::AtMostOnce)])
        .unwrap();
    h.sent();
    h.drop_and_wait_reopen();
    let sent = h.establish(false);
    assert_eq!(sent.len(), 1, "no duplicate resubscribe: {sent:?}");
    let Sent::Subscribe { pid, .. } = sent[0] else {
        panic!()
    };
    h.feed(&suback(pid, &[Some(QoS::AtMostOnce)]));
    assert_eq!(
        h.events(),
        vec![Event::Subscribed {
            request,
            granted: vec![Some(QoS::AtMostOnce)]
        }]
    );
}

#[test]
fn suback_with_the_wrong_number_of_codes_is_a_violation() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    h.session
        .subscribe(h.now, &[("a", QoS::AtMostOnce), ("b", QoS::AtMostOnce)])
        .unwrap();
    h.sent();
    h.feed(&suback(1, &[Some(QoS::AtMostOnce)]));
    assert!(matches!(
        h.events().as_slice(),
        [Event::ConnectionLost {
            error: ConnectionError::Violation(_),
            ..
        }]
    ));
}
