//! The session against a scripted broker, on simulated time: every test runs in microseconds.

use core::time::Duration;

use crate::packet::{Packet, Pid, QosPid};

use super::*;
use crate::codec::{self, DecodeError};
use crate::error::{
    CommandError, ConnectRefused, ConnectionError, OptionsError, ProtocolViolation,
    TransportFailure,
};
use crate::topic::TopicError;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// A packet the client sent, owned so tests can compare it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sent {
    Connect {
        client_id: String,
        clean: bool,
        keep_alive: u16,
        username: Option<String>,
        will: Option<String>,
    },
    Publish {
        topic: String,
        payload: Vec<u8>,
        qos: u8,
        pid: Option<u16>,
        dup: bool,
        retain: bool,
    },
    Puback(u16),
    Pubrec(u16),
    Pubrel(u16),
    Pubcomp(u16),
    Subscribe {
        pid: u16,
        filters: Vec<(String, u8)>,
    },
    Unsubscribe {
        pid: u16,
        filters: Vec<String>,
    },
    Pingreq,
    Disconnect,
}

pub(crate) fn parse_sent(mut bytes: &[u8]) -> Vec<Sent> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (packet, used) = codec::decode_any(bytes, usize::MAX)
            .expect("client sent valid MQTT")
            .expect("whole packets");
        out.push(match packet {
            Packet::Connect(c) => Sent::Connect {
                client_id: c.client_id.into(),
                clean: c.clean_session,
                keep_alive: c.keep_alive,
                username: c.username.map(Into::into),
                will: c.last_will.map(|w| w.topic.to_string()),
            },
            Packet::Publish(p) => Sent::Publish {
                topic: p.topic_name.into(),
                payload: p.payload.to_vec(),
                qos: crate::qos_to_u8(p.qospid.qos()),
                pid: p.qospid.pid().map(Pid::get),
                dup: p.dup,
                retain: p.retain,
            },
            Packet::Puback(p) => Sent::Puback(p.get()),
            Packet::Pubrec(p) => Sent::Pubrec(p.get()),
            Packet::Pubrel(p) => Sent::Pubrel(p.get()),
            Packet::Pubcomp(p) => Sent::Pubcomp(p.get()),
            Packet::Subscribe(s) => Sent::Subscribe {
                pid: s.pid.get(),
                filters: s
                    .topics
                    .iter()
                    .map(|t| (t.topic_path.clone(), crate::qos_to_u8(t.qos)))
                    .collect(),
            },
            Packet::Unsubscribe(u) => Sent::Unsubscribe {
                pid: u.pid.get(),
                filters: u.topics.clone(),
            },
            Packet::Pingreq => Sent::Pingreq,
            Packet::Disconnect => Sent::Disconnect,
            other => panic!("a client must not send {other:?}"),
        });
        bytes = &bytes[used..];
    }
    out
}

fn pid(n: u16) -> Pid {
    Pid::try_from(n).unwrap()
}

fn bytes(packet: Packet<'_>) -> Vec<u8> {
    codec::encode(&packet).unwrap()
}

fn connack(session_present: bool, code: crate::packet::ConnectReturnCode) -> Vec<u8> {
    bytes(Packet::Connack(crate::packet::Connack {
        session_present,
        code,
    }))
}

fn publish(topic: &str, payload: &[u8], qospid: QosPid, dup: bool) -> Vec<u8> {
    bytes(Packet::Publish(crate::packet::Publish {
        dup,
        qospid,
        retain: false,
        topic_name: topic,
        payload,
    }))
}

fn suback(id: u16, codes: &[Option<QoS>]) -> Vec<u8> {
    let return_codes = codes
        .iter()
        .map(|c| match c {
            Some(q) => crate::packet::SubscribeReturnCodes::Success(*q),
            None => crate::packet::SubscribeReturnCodes::Failure,
        })
        .collect();
    bytes(Packet::Suback(crate::packet::Suback {
        pid: pid(id),
        return_codes,
    }))
}

/// A session plus simulated time and a scripted broker's side of the wire.
struct Harness {
    session: Session,
    now: Instant,
}

impl Harness {
    fn new(options: Options) -> Self {
        Self {
            session: Session::new(options),
            now: Instant::from_millis(1_000),
        }
    }

    fn options() -> Options {
        let mut options = Options::new("007");
        options.keep_alive_secs = 10;
        options.reconnect.initial_delay = Duration::from_millis(100);
        options.reconnect.max_delay = Duration::from_secs(2);
        options
    }

    /// [`Harness::options`] with a persistent session: the only kind a broker may answer with
    /// "session present" ([MQTT-3.2.2-1]).
    fn persistent() -> Options {
        let mut options = Self::options();
        options.clean_session = false;
        options
    }

    fn advance(&mut self, by: Duration) {
        self.now = self.now + by;
        self.session.handle_timeout(self.now);
    }

    /// Jumps to the session's next timeout, like an adapter's timer would.
    fn fire_timer(&mut self) {
        let due = self.session.poll_timeout().expect("a timer is armed");
        self.now = self.now.max(due);
        self.session.handle_timeout(self.now);
    }

    fn sent(&mut self) -> Vec<Sent> {
        let mut all = Vec::new();
        while let Some(bytes) = self.session.poll_transmit() {
            all.extend(parse_sent(&bytes));
        }
        all
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }

    fn actions(&mut self) -> Vec<TransportAction> {
        std::iter::from_fn(|| self.session.poll_transport()).collect()
    }

    fn feed(&mut self, data: &[u8]) {
        self.session.handle_bytes(self.now, data);
    }

    /// connect → Open → transport open → CONNECT → CONNACK accepted.
    fn establish(&mut self, session_present: bool) -> Vec<Sent> {
        if self.session.link == Link::Idle {
            self.session.connect(self.now);
        }
        assert_eq!(self.actions(), vec![TransportAction::Open]);
        self.session.handle_transport_open(self.now);
        let mut sent = self.sent();
        assert!(matches!(sent.remove(0), Sent::Connect { .. }));
        self.feed(&connack(
            session_present,
            crate::packet::ConnectReturnCode::Accepted,
        ));
        let events = self.events();
        assert!(
            events.contains(&Event::Connected { session_present }),
            "{events:?}"
        );
        sent.extend(self.sent());
        sent
    }

    /// The transport drops; waits out the backoff until the session asks to reopen.
    fn drop_and_wait_reopen(&mut self) {
        self.session
            .handle_transport_closed(self.now, TransportFailure::Dropped("reset by peer".into()));
        let events = self.events();
        assert!(
            matches!(
                events.last(),
                Some(Event::ConnectionLost {
                    reconnect_in: Some(_),
                    ..
                })
            ),
            "{events:?}"
        );
        self.fire_timer();
        assert!(self
            .events()
            .iter()
            .any(|e| matches!(e, Event::Reconnecting { .. })));
    }
}

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
    h.feed(&bytes(Packet::Unsuback(super::tests::pid(*pid))));
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
fn publish_runs_each_qos_acknowledgement_flow() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    let q0 = h
        .session
        .publish(h.now, "007/temperature", b"32", QoS::AtMostOnce, false)
        .unwrap();
    assert_eq!(h.events(), vec![Event::Published { id: q0 }]);
    let q1 = h
        .session
        .publish(h.now, "007/temperature", b"33", QoS::AtLeastOnce, true)
        .unwrap();
    let q2 = h
        .session
        .publish(h.now, "007/temperature", b"34", QoS::ExactlyOnce, false)
        .unwrap();
    let sent = h.sent();
    assert_eq!(sent.len(), 3);
    assert!(matches!(
        &sent[0],
        Sent::Publish {
            qos: 0,
            pid: None,
            ..
        }
    ));
    assert!(matches!(
        &sent[1],
        Sent::Publish {
            qos: 1,
            pid: Some(1),
            retain: true,
            dup: false,
            ..
        }
    ));
    assert!(matches!(
        &sent[2],
        Sent::Publish {
            qos: 2,
            pid: Some(2),
            ..
        }
    ));
    h.feed(&bytes(Packet::Puback(pid(1))));
    assert_eq!(h.events(), vec![Event::Published { id: q1 }]);
    h.feed(&bytes(Packet::Pubrec(pid(2))));
    assert_eq!(h.sent(), vec![Sent::Pubrel(2)]);
    assert!(h.events().is_empty(), "QoS 2 completes only on PUBCOMP");
    // A repeated PUBREC is answered again, not an error.
    h.feed(&bytes(Packet::Pubrec(pid(2))));
    assert_eq!(h.sent(), vec![Sent::Pubrel(2)]);
    h.feed(&bytes(Packet::Pubcomp(pid(2))));
    assert_eq!(h.events(), vec![Event::Published { id: q2 }]);
    assert_eq!(h.session.pending_count(), 0);
    // Acks for unknown ids are ignored.
    h.feed(&bytes(Packet::Puback(pid(99))));
    assert!(h.events().is_empty() && h.session.is_connected());
}

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
fn packet_ids_are_not_reused_while_in_flight_and_the_window_is_bounded() {
    let mut options = Harness::options();
    options.max_inflight = 2;
    let mut h = Harness::new(options);
    h.establish(false);
    let ids: Vec<_> = (0..5)
        .map(|i| {
            h.session
                .publish(h.now, "t", &[i], QoS::AtLeastOnce, false)
                .unwrap()
        })
        .collect();
    let pids = |sent: Vec<Sent>| -> Vec<u16> {
        sent.into_iter()
            .map(|s| match s {
                Sent::Publish { pid: Some(p), .. } => p,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(pids(h.sent()), vec![1, 2]);
    h.feed(&bytes(Packet::Puback(pid(2))));
    assert_eq!(h.events(), vec![Event::Published { id: ids[1] }]);
    assert_eq!(
        pids(h.sent()),
        vec![3],
        "pid 1 is still in flight, so the next is 3"
    );
    h.feed(&bytes(Packet::Puback(pid(1))));
    h.feed(&bytes(Packet::Puback(pid(3))));
    assert_eq!(pids(h.sent()), vec![4, 5]);
}

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

#[test]
fn persistent_session_resends_in_flight_packets_in_order_with_dup() {
    let mut options = Harness::options();
    options.clean_session = false;
    let mut h = Harness::new(options);
    h.establish(false);
    h.session
        .publish(h.now, "t", b"a", QoS::AtLeastOnce, false)
        .unwrap();
    h.session
        .publish(h.now, "t", b"b", QoS::ExactlyOnce, false)
        .unwrap();
    h.session
        .publish(h.now, "t", b"c", QoS::ExactlyOnce, false)
        .unwrap();
    h.sent();
    h.feed(&bytes(Packet::Pubrec(pid(3))));
    assert_eq!(h.sent(), vec![Sent::Pubrel(3)]);
    h.drop_and_wait_reopen();
    let resent = h.establish(true);
    assert_eq!(
        resent,
        vec![
            Sent::Publish {
                topic: "t".into(),
                payload: b"a".to_vec(),
                qos: 1,
                pid: Some(1),
                dup: true,
                retain: false
            },
            Sent::Publish {
                topic: "t".into(),
                payload: b"b".to_vec(),
                qos: 2,
                pid: Some(2),
                dup: true,
                retain: false
            },
            Sent::Pubrel(3),
        ]
    );
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
fn offline_publishes_wait_and_a_full_queue_refuses_without_dropping() {
    let mut options = Harness::options();
    options.max_queued = 3;
    let mut h = Harness::new(options);
    for i in 0..3u8 {
        h.session
            .publish(h.now, "t", &[i], QoS::AtLeastOnce, false)
            .unwrap();
    }
    assert_eq!(
        h.session.publish(h.now, "t", &[9], QoS::AtLeastOnce, false),
        Err(CommandError::QueueFull(3))
    );
    assert_eq!(h.session.pending_count(), 3);
    let sent = h.establish(false);
    let payloads: Vec<Vec<u8>> = sent
        .into_iter()
        .map(|s| match s {
            Sent::Publish {
                payload,
                dup: false,
                ..
            } => payload,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        payloads,
        vec![vec![0], vec![1], vec![2]],
        "all accepted messages, in order"
    );
}

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

#[test]
fn invalid_publishes_are_refused() {
    let mut h = Harness::new(Harness::options());
    assert!(matches!(
        h.session.publish(h.now, "a/+", b"", QoS::AtMostOnce, false),
        Err(CommandError::InvalidTopic(_))
    ));
    assert!(matches!(
        h.session.publish(h.now, "", b"", QoS::AtMostOnce, false),
        Err(CommandError::InvalidTopic(_))
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

/// Simulator finding (clean session): a QoS 2 publish whose PUBREL went out when the link
/// dropped, then CONNACK session present 0. The broker discarded the session ([MQTT-3.1.2-6]) and
/// answers a resent PUBREL with PUBCOMP for an id it does not know (mosquitto), so resending it
/// would report `Published` for a message that may never have been forwarded.
#[test]
fn a_released_qos2_publish_fails_when_the_broker_lost_the_session() {
    let mut h = Harness::new(Harness::options());
    h.establish(false);
    let released = h
        .session
        .publish(h.now, "t", b"released", QoS::ExactlyOnce, false)
        .unwrap();
    let unacknowledged = h
        .session
        .publish(h.now, "t", b"unacknowledged", QoS::ExactlyOnce, false)
        .unwrap();
    h.sent();
    h.feed(&bytes(Packet::Pubrec(pid(1))));
    assert_eq!(h.sent(), vec![Sent::Pubrel(1)]);
    h.drop_and_wait_reopen();
    assert_eq!(h.actions(), vec![TransportAction::Open]);
    h.session.handle_transport_open(h.now);
    h.sent();
    h.feed(&connack(false, crate::packet::ConnectReturnCode::Accepted));
    let sent = h.sent();
    assert!(!sent.contains(&Sent::Pubrel(1)), "{sent:?}");
    assert!(
        sent.iter()
            .any(|s| matches!(s, Sent::Publish { payload, .. } if payload == b"unacknowledged")),
        "not yet received by the broker: sent again ({sent:?})"
    );
    let events = h.events();
    assert!(events.contains(&Event::PublishFailed {
        id: released,
        reason: PublishFailure::SessionLostBeforePubcomp
    }));
    h.feed(&bytes(Packet::Pubcomp(pid(1))));
    let events = h.events();
    assert!(
        !events.contains(&Event::Published { id: released }),
        "a PUBCOMP for the forgotten id completes nothing: {events:?}"
    );
    assert!(h
        .session
        .pending_publishes()
        .iter()
        .all(|p| p.payload != b"released"));
    let _ = unacknowledged;
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
