//! Property tests: the decoder is total, every packet the core emits round-trips through the
//! codec, and topic matching agrees with a straightforward reference implementation.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use mqtt_core::codec::{decode, decode_any, encode, EncodeError};
use mqtt_core::packet::{Packet, Pid, QosPid};
use mqtt_core::{topic, Instant, Options, QoS, Session, TransportAction};
use proptest::prelude::*;

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn pid() -> impl Strategy<Value = Pid> {
    (1u16..=u16::MAX).prop_map(|n| Pid::try_from(n).unwrap())
}

/// Owned parts of a packet the client emits, to build a borrowed `mqtt_core::packet::Packet` from.
#[derive(Debug, Clone)]
enum Emitted {
    Connect {
        client_id: String,
        clean: bool,
        keep_alive: u16,
        user: Option<(String, Vec<u8>)>,
        will: Option<(String, Vec<u8>, QoS, bool)>,
    },
    Publish {
        topic: String,
        payload: Vec<u8>,
        qos: QoS,
        pid: Pid,
        dup: bool,
        retain: bool,
    },
    Ack(u8, Pid),
    Subscribe(Pid, Vec<(String, QoS)>),
    Unsubscribe(Pid, Vec<String>),
    Pingreq,
    Disconnect,
}

fn topic_text() -> impl Strategy<Value = String> {
    "[a-z0-9/$é]{1,40}"
}

fn emitted() -> impl Strategy<Value = Emitted> {
    prop_oneof![
        (
            "[a-zA-Z0-9]{0,23}",
            any::<bool>(),
            any::<u16>(),
            proptest::option::of(("[a-z]{1,10}", proptest::collection::vec(any::<u8>(), 0..40))),
            proptest::option::of((
                topic_text(),
                proptest::collection::vec(any::<u8>(), 0..40),
                qos(),
                any::<bool>()
            )),
        )
            .prop_map(
                |(client_id, clean, keep_alive, user, will)| Emitted::Connect {
                    client_id,
                    clean,
                    keep_alive,
                    user,
                    will
                }
            ),
        (
            topic_text(),
            proptest::collection::vec(any::<u8>(), 0..300),
            qos(),
            pid(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(topic, payload, qos, pid, dup, retain)| Emitted::Publish {
                topic,
                payload,
                qos,
                pid,
                dup,
                retain
            }),
        (4u8..=7, pid()).prop_map(|(kind, pid)| Emitted::Ack(kind, pid)),
        (
            pid(),
            proptest::collection::vec((topic_text(), qos()), 1..5)
        )
            .prop_map(|(p, t)| Emitted::Subscribe(p, t)),
        (pid(), proptest::collection::vec(topic_text(), 1..5))
            .prop_map(|(p, t)| Emitted::Unsubscribe(p, t)),
        Just(Emitted::Pingreq),
        Just(Emitted::Disconnect),
    ]
}

fn packet(e: &Emitted) -> Packet<'_> {
    match e {
        Emitted::Connect {
            client_id,
            clean,
            keep_alive,
            user,
            will,
        } => Packet::Connect(mqtt_core::packet::Connect {
            protocol: mqtt_core::packet::Protocol::MQTT311,
            keep_alive: *keep_alive,
            client_id,
            clean_session: *clean,
            last_will: will
                .as_ref()
                .map(|(t, m, q, r)| mqtt_core::packet::LastWill {
                    topic: t,
                    message: m,
                    qos: *q,
                    retain: *r,
                }),
            username: user.as_ref().map(|(u, _)| u.as_str()),
            password: user.as_ref().map(|(_, p)| p.as_slice()),
        }),
        Emitted::Publish {
            topic,
            payload,
            qos,
            pid,
            dup,
            retain,
        } => Packet::Publish(mqtt_core::packet::Publish {
            dup: *dup,
            qospid: match qos {
                QoS::AtMostOnce => QosPid::AtMostOnce,
                QoS::AtLeastOnce => QosPid::AtLeastOnce(*pid),
                QoS::ExactlyOnce => QosPid::ExactlyOnce(*pid),
            },
            retain: *retain,
            topic_name: topic,
            payload,
        }),
        Emitted::Ack(4, p) => Packet::Puback(*p),
        Emitted::Ack(5, p) => Packet::Pubrec(*p),
        Emitted::Ack(6, p) => Packet::Pubrel(*p),
        Emitted::Ack(_, p) => Packet::Pubcomp(*p),
        Emitted::Subscribe(pid, topics) => Packet::Subscribe(mqtt_core::packet::Subscribe {
            pid: *pid,
            topics: topics
                .iter()
                .map(|(t, q)| mqtt_core::packet::SubscribeTopic {
                    topic_path: t.clone(),
                    qos: *q,
                })
                .collect(),
        }),
        Emitted::Unsubscribe(pid, topics) => Packet::Unsubscribe(mqtt_core::packet::Unsubscribe {
            pid: *pid,
            topics: topics.clone(),
        }),
        Emitted::Pingreq => Packet::Pingreq,
        Emitted::Disconnect => Packet::Disconnect,
    }
}

/// A decoded packet goes back through mqttrs's encoder and decodes to itself (an MQTT 3.1
/// CONNECT excepted: mqttrs 0.4.1 cannot write it, and `encode` says so).
fn reencodes_to_itself(packet: &Packet<'_>) -> Result<(), TestCaseError> {
    match encode(packet) {
        Ok(bytes) => {
            let (again, used) = decode_any(&bytes, usize::MAX).unwrap().unwrap();
            prop_assert_eq!(used, bytes.len());
            prop_assert_eq!(&again, packet);
        }
        Err(e) => prop_assert_eq!(e, EncodeError::UnsupportedProtocol),
    }
    Ok(())
}

/// The reference: a recursive reading of MQTT 3.1.1 section 4.7.
fn reference_matches(filter: &[&str], name: &[&str]) -> bool {
    match (filter.split_first(), name.split_first()) {
        (Some((&"#", _)), _) => true,
        (Some((&"+", f_rest)), Some((_, n_rest))) => reference_matches(f_rest, n_rest),
        (Some((f, f_rest)), Some((n, n_rest))) => f == n && reference_matches(f_rest, n_rest),
        (None, None) => true,
        _ => false,
    }
}

fn name_level() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("a"), Just("b"), Just(""), Just("$sys")]
}

fn filter_level() -> impl Strategy<Value = &'static str> {
    prop_oneof![name_level(), Just("+")]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn decode_is_total_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64), max in 0usize..200) {
        let _ = decode(&bytes, max);
        // What a broker reads, and mqttrs's encoder on whatever it produced.
        if let Ok(Some((packet, _))) = decode_any(&bytes, max) {
            reencodes_to_itself(&packet)?;
        }
    }

    #[test]
    fn decode_is_total_on_plausible_frames(first in any::<u8>(), body in proptest::collection::vec(any::<u8>(), 0..40)) {
        let mut frame = vec![first, body.len() as u8];
        frame.extend(&body);
        let _ = decode(&frame, 1 << 20);
        if let Ok(Some((packet, _))) = decode_any(&frame, 1 << 20) {
            reencodes_to_itself(&packet)?;
        }
    }

    #[test]
    fn the_session_survives_arbitrary_broker_bytes(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..32), 0..8)) {
        let mut session = Session::new(Options::new("fuzz"));
        let now = Instant::from_millis(0);
        session.connect(now);
        prop_assert_eq!(session.poll_transport(), Some(TransportAction::Open));
        session.handle_transport_open(now);
        session.handle_bytes(now, &[0x20, 0x02, 0x00, 0x00]);
        for chunk in &chunks {
            session.handle_bytes(now, chunk);
        }
        while session.poll_event().is_some() {}
    }

    #[test]
    fn every_packet_the_core_emits_round_trips(e in emitted()) {
        let original = packet(&e);
        let bytes = encode(&original).unwrap();
        let (decoded, used) = decode_any(&bytes, usize::MAX).unwrap().unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(decoded, original);
    }

    #[test]
    fn matching_agrees_with_the_reference(
        filter in proptest::collection::vec(filter_level(), 0..5),
        multi_level in any::<bool>(),
        name in proptest::collection::vec(name_level(), 1..5),
    ) {
        let mut filter = filter;
        if multi_level || filter.is_empty() {
            filter.push("#");
        }
        let filter = filter.join("/");
        let name = name.join("/");
        prop_assume!(topic::validate_filter(&filter).is_ok() && topic::validate_name(&name).is_ok());
        let f: Vec<&str> = filter.split('/').collect();
        let n: Vec<&str> = name.split('/').collect();
        let dollar_guard = name.starts_with('$') && (f[0] == "+" || f[0] == "#");
        prop_assert_eq!(topic::matches(&filter, &name), !dollar_guard && reference_matches(&f, &n), "{} vs {}", filter, name);
    }
}
