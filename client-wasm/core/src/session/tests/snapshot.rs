//! What survives a reload: pending publishes, the change counter, inbound QoS 2 ids, checked rows.

use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn pending_publishes_survive_a_restart_of_the_session() {
    let mut options = Harness::options();
    options.clean_session = false;
    let mut h = Harness::new(options.clone());
    h.establish(false);
    h.session
        .publish(h.now, "t", b"a", QoS::AtLeastOnce, false)
        .unwrap();
    h.session
        .publish(h.now, "t", b"b", QoS::ExactlyOnce, false)
        .unwrap();
    h.sent();
    h.feed(&bytes(Packet::Pubrec(pid(2))));
    h.session
        .handle_transport_closed(h.now, TransportFailure::Dropped("page unloaded".into()));
    h.session
        .publish(h.now, "t", b"c", QoS::AtLeastOnce, false)
        .unwrap();
    let stored = h.session.pending_publishes();
    assert_eq!(stored.len(), 3);

    let mut reloaded = Harness::new(options);
    let restored = reloaded.session.restore(Snapshot {
        pending: stored,
        incoming_qos2: Vec::new(),
    });
    assert_eq!(restored.publishes.len(), 3);
    assert!(restored.rejected.is_empty());
    let sent = reloaded.establish(true);
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert!(matches!(
        &sent[0],
        Sent::Publish {
            pid: Some(1),
            dup: true,
            ..
        }
    ));
    assert_eq!(sent[1], Sent::Pubrel(2));
    assert!(
        matches!(&sent[2], Sent::Publish { pid: Some(3), dup: false, payload, .. } if payload == b"c")
    );
}

/// The browser adapter rewrites `localStorage` only when this counter moves: it must move on
/// every change to the pending set and stand still otherwise.
#[test]
fn the_pending_counter_moves_exactly_when_pending_publishes_change() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    let mut seen = h.session.pending_changes();
    let mut step = |h: &mut Harness, what: &str, changes: bool| {
        let now = h.session.pending_changes();
        assert_eq!(now != seen, changes, "{what}");
        seen = now;
    };
    let snapshot = |h: &Harness| format!("{:?}", h.session.pending_publishes());

    h.session
        .publish(h.now, "t", b"a", QoS::ExactlyOnce, false)
        .unwrap();
    step(&mut h, "a QoS 2 publish accepted", true);
    let before = snapshot(&h);
    h.feed(&bytes(Packet::Pingresp));
    h.session.handle_timeout(h.now);
    step(&mut h, "PINGRESP and a timer", false);
    assert_eq!(snapshot(&h), before);
    h.feed(&bytes(Packet::Pubrec(pid(1))));
    step(&mut h, "PUBREC releases it", true);
    assert_ne!(snapshot(&h), before);
    h.feed(&bytes(Packet::Pubrec(pid(1))));
    step(&mut h, "a repeated PUBREC", false);
    h.feed(&bytes(Packet::Pubcomp(pid(1))));
    step(&mut h, "PUBCOMP completes it", true);
    assert!(h.session.pending_publishes().is_empty());
    h.feed(&bytes(Packet::Puback(pid(7))));
    step(&mut h, "an ack for an unknown id", false);
}

/// Simulator finding (reload): an inbound QoS 2 message delivered, its PUBREC lost with the
/// page. The broker resends it with DUP after the reload ([MQTT-4.3.3-2]); the restored ids make
/// the new session answer PUBREC without delivering it again.
#[test]
fn inbound_qos2_ids_survive_a_reload() {
    let mut options = Harness::options();
    options.clean_session = false;
    let mut h = Harness::new(options.clone());
    h.establish(false);
    let before = h.session.pending_changes();
    h.feed(&publish("t", b"once", QosPid::ExactlyOnce(pid(9)), false));
    assert_ne!(
        h.session.pending_changes(),
        before,
        "a new inbound id is persisted state"
    );
    let stored = h.session.incoming_qos2_ids();
    assert_eq!(stored, vec![9]);

    let mut reloaded = Harness::new(options);
    let _ = reloaded.session.restore(Snapshot {
        pending: Vec::new(),
        incoming_qos2: stored,
    });
    reloaded.establish(true);
    reloaded.feed(&publish("t", b"once", QosPid::ExactlyOnce(pid(9)), true));
    assert_eq!(reloaded.sent(), vec![Sent::Pubrec(9)]);
    assert!(
        !reloaded
            .events()
            .iter()
            .any(|e| matches!(e, Event::Message(_))),
        "delivered once, before the reload"
    );
    let before = reloaded.session.pending_changes();
    reloaded.feed(&bytes(Packet::Pubrel(pid(9))));
    assert_eq!(reloaded.sent(), vec![Sent::Pubcomp(9)]);
    assert_ne!(reloaded.session.pending_changes(), before);
    assert!(reloaded.session.incoming_qos2_ids().is_empty());
}

/// Simulator finding (reload): a QoS 0 publish queued offline and sent on connect must leave
/// the persisted set, or a reload sends it a second time.
#[test]
fn a_queued_qos0_publish_leaves_the_persisted_set_when_sent() {
    let mut h = Harness::new(Harness::persistent());
    h.session
        .publish(h.now, "t", b"q0", QoS::AtMostOnce, false)
        .unwrap();
    assert_eq!(h.session.pending_publishes().len(), 1);
    let before = h.session.pending_changes();
    h.establish(true);
    assert!(h.session.pending_publishes().is_empty());
    assert_ne!(h.session.pending_changes(), before);
}

/// Simulator finding (misbehaving broker): after a restore, new packet ids continue after the
/// restored ones, so a late duplicate PUBACK for an id just freed does not complete a new publish
/// that reused it before the broker even saw it.
#[test]
fn ids_after_a_restore_continue_past_the_restored_ones() {
    let mut h = Harness::new(Harness::persistent());
    let stored = vec![
        PendingPublish {
            topic: "t".into(),
            payload: b"restored".to_vec(),
            qos: QoS::AtLeastOnce,
            retain: false,
            packet_id: Some(3),
            released: false,
        },
        PendingPublish {
            topic: "t".into(),
            payload: b"queued".to_vec(),
            qos: QoS::AtLeastOnce,
            retain: false,
            packet_id: None,
            released: false,
        },
    ];
    let _ = h.session.restore(Snapshot {
        pending: stored,
        incoming_qos2: Vec::new(),
    });
    let sent = h.establish(true);
    let pids: Vec<Option<u16>> = sent
        .iter()
        .filter_map(|s| match s {
            Sent::Publish { pid, .. } => Some(*pid),
            _ => None,
        })
        .collect();
    assert_eq!(pids, vec![Some(3), Some(4)]);
}

/// Storage is user-editable: restored rows are checked like user input, and the ones that could
/// not have come from a session are refused and reported, never resent.
#[test]
fn hand_edited_rows_are_refused_and_reported() {
    let row = |topic: &str, qos, packet_id, released| PendingPublish {
        topic: topic.into(),
        payload: b"x".to_vec(),
        qos,
        retain: false,
        packet_id,
        released,
    };
    let mut h = Harness::new(Harness::persistent());
    let restored = h.session.restore(Snapshot {
        pending: vec![
            row("ok", QoS::AtLeastOnce, Some(5), false),
            row("a/#", QoS::AtLeastOnce, None, false),
            row(&"t".repeat(70_000), QoS::ExactlyOnce, None, false),
            row("t", QoS::AtMostOnce, None, false),
            row("t", QoS::AtLeastOnce, Some(0), false),
            row("t", QoS::ExactlyOnce, Some(5), false),
            row("t", QoS::AtLeastOnce, Some(6), true),
            row("t", QoS::ExactlyOnce, None, true),
        ],
        incoming_qos2: vec![0, 9],
    });
    let reasons: Vec<(usize, bool, RowError)> = restored
        .rejected
        .into_iter()
        .map(|r| (r.index, r.incoming, r.reason))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (1, false, RowError::Topic(TopicError::WildcardInName)),
            (2, false, RowError::Topic(TopicError::TooLong(70_000))),
            (3, false, RowError::QoS0),
            (4, false, RowError::ZeroPacketId),
            (5, false, RowError::DuplicatePacketId(5)),
            (6, false, RowError::ReleasedWithoutQos2Id),
            (7, false, RowError::ReleasedWithoutQos2Id),
            (0, true, RowError::ZeroPacketId),
        ]
    );
    assert_eq!(restored.publishes.len(), 1);
    assert_eq!(h.session.incoming_qos2_ids(), vec![9]);
    let sent = h.establish(true);
    assert_eq!(
        sent.iter()
            .filter(|s| matches!(s, Sent::Publish { .. }))
            .count(),
        1,
        "{sent:?}"
    );
}
