use core::time::Duration;

use mqtt_core::{ConnectRefused, ConnectionError, QoS, TransportFailure};

use super::*;
use crate::msgs::{LinkState, Publish, RequestKey, TabId};

fn key(tab: u64, number: u64) -> RequestKey {
    RequestKey {
        tab: TabId(tab),
        number,
    }
}

fn publish() -> Publish {
    Publish {
        topic: "dev/ü".into(),
        payload: vec![0, 1, 255],
        qos: QoS::ExactlyOnce,
        retain: true,
    }
}

/// One message of every kind, with fields that test the edges (large numbers, empty lists).
fn every_kind() -> Vec<TabMessage> {
    vec![
        TabMessage::Hi {
            from: TabId(u64::MAX),
        },
        TabMessage::Hello {
            from: TabId(3),
            to: None,
        },
        TabMessage::Hello {
            from: TabId(3),
            to: Some(TabId(u64::MAX)),
        },
        TabMessage::State {
            to: None,
            state: LinkState::Connected {
                session_present: true,
            },
        },
        TabMessage::State {
            to: Some(TabId(7)),
            state: LinkState::Reconnecting { attempt: u32::MAX },
        },
        TabMessage::State {
            to: None,
            state: LinkState::Lost {
                error: ConnectionError::KeepaliveTimeout(90_000),
                reconnect_in: Some(Duration::from_millis(1_500)),
                attempt: 3,
            },
        },
        TabMessage::State {
            to: Some(TabId(0)),
            state: LinkState::Lost {
                error: ConnectionError::ConnectedElsewhere { drops: 3 },
                reconnect_in: None,
                attempt: 0,
            },
        },
        TabMessage::Delivery(Message {
            topic: "a/b".into(),
            payload: vec![9; 300],
            qos: QoS::AtLeastOnce,
            retain: false,
            dup: true,
        }),
        TabMessage::Publish {
            request: key(1, 2),
            leader: TabId(3),
            publish: publish(),
        },
        TabMessage::Adopt {
            request: key(1, 1 << 53),
            leader: TabId(3),
            publish: publish(),
        },
        TabMessage::Subscribe {
            request: key(3, 0),
            leader: TabId(4),
            filters: vec![
                ("a/#".into(), QoS::ExactlyOnce),
                ("b".into(), QoS::AtMostOnce),
            ],
        },
        TabMessage::Unsubscribe {
            request: key(3, 4),
            leader: TabId(4),
            filters: vec!["a/#".into(), String::new()],
        },
        TabMessage::Bye { from: TabId(5) },
        TabMessage::TakeOver { from: TabId(6) },
        TabMessage::Accepted {
            request: key(1, 2),
            stored: true,
        },
        TabMessage::Done {
            request: key(1, 2),
            granted: vec![Some(QoS::AtLeastOnce), None],
        },
        TabMessage::Done {
            request: key(1, 3),
            granted: vec![],
        },
        TabMessage::Refused {
            request: key(1, 2),
            reason: Refusal::StorageFull,
        },
    ]
}

#[test]
fn every_kind_of_message_round_trips() {
    for message in every_kind() {
        let bytes = message.encode();
        assert_eq!(TabMessage::decode(&bytes), Ok(message));
    }
}

/// A message cut anywhere is an error, never a panic or another message.
#[test]
fn every_truncation_of_every_message_is_an_error() {
    for message in every_kind() {
        let bytes = message.encode();
        for end in 0..bytes.len() {
            assert!(
                TabMessage::decode(&bytes[..end]).is_err(),
                "{message:?} cut at {end}"
            );
        }
    }
}

#[test]
fn malformed_messages_are_typed_errors() {
    let hi = TabMessage::Hi { from: TabId(1) }.encode();
    assert_eq!(TabMessage::decode(&[]), Err(DecodeError::Truncated));
    assert_eq!(TabMessage::decode(&[0, 1, 1]), Err(DecodeError::Format(0)));
    assert_eq!(
        TabMessage::decode(&[FORMAT, 200]),
        Err(DecodeError::UnknownKind(200))
    );
    let mut trailing = hi.clone();
    trailing.push(0);
    assert_eq!(
        TabMessage::decode(&trailing),
        Err(DecodeError::TrailingBytes)
    );
    // A number of more than 64 bits.
    let mut huge = vec![FORMAT, kind::HI];
    huge.extend([0xff; 10]);
    huge.push(0x01);
    assert_eq!(TabMessage::decode(&huge), Err(DecodeError::OutOfRange));
    // A list claiming more items than there are bytes.
    let long = [FORMAT, kind::UNSUBSCRIBE, 1, 1, 2, 0xff, 0xff, 0x03];
    assert_eq!(TabMessage::decode(&long), Err(DecodeError::Truncated));
    // A topic that is not UTF-8.
    let bad_text = [FORMAT, kind::DELIVERY, 1, 0xff, 0, 0, 0, 0];
    assert_eq!(TabMessage::decode(&bad_text), Err(DecodeError::InvalidUtf8));
    // QoS 3, a flag of 2, a refusal and a state tag no variant has.
    let bad_qos = [FORMAT, kind::DELIVERY, 0, 0, 3, 0, 0];
    assert_eq!(TabMessage::decode(&bad_qos), Err(DecodeError::OutOfRange));
    let bad_flag = [FORMAT, kind::ACCEPTED, 1, 1, 2];
    assert_eq!(TabMessage::decode(&bad_flag), Err(DecodeError::OutOfRange));
    let bad_refusal = [FORMAT, kind::REFUSED, 1, 1, 99];
    assert_eq!(
        TabMessage::decode(&bad_refusal),
        Err(DecodeError::OutOfRange)
    );
    let bad_state = [FORMAT, kind::STATE, 0, 0, 9];
    assert_eq!(TabMessage::decode(&bad_state), Err(DecodeError::OutOfRange));
    // An attempt beyond u32.
    let big_attempt = [FORMAT, kind::STATE, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x7f];
    assert_eq!(
        TabMessage::decode(&big_attempt),
        Err(DecodeError::OutOfRange)
    );
    assert!(!DecodeError::Truncated.to_string().is_empty());
}

/// Arbitrary bytes never panic (a cheap deterministic fuzz).
#[test]
fn random_bytes_never_panic() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let len = (seed % 24) as usize;
        let mut bytes = vec![FORMAT];
        let mut s = seed;
        for _ in 0..len {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            bytes.push((s >> 33) as u8 % 16);
        }
        let _ = TabMessage::decode(&bytes);
    }
}

/// A follower shows the leader's connection errors with the same code, close code and retry
/// class (refusals, close frames and timeouts exactly; the rest by their words).
#[test]
fn connection_errors_cross_with_their_code_and_retry_class() {
    let cross = |error: ConnectionError| {
        let message = TabMessage::State {
            to: None,
            state: LinkState::Lost {
                error,
                reconnect_in: None,
                attempt: 1,
            },
        };
        match TabMessage::decode(&message.encode()) {
            Ok(TabMessage::State {
                state: LinkState::Lost { error, .. },
                ..
            }) => error,
            other => panic!("{other:?}"),
        }
    };
    let exact = [
        ConnectionError::Refused(ConnectRefused::BadUserNameOrPassword),
        ConnectionError::Refused(ConnectRefused::ServerUnavailable),
        ConnectionError::Refused(ConnectRefused::UnacceptableProtocolVersion),
        ConnectionError::ConnectTimeout(10_000),
        ConnectionError::KeepaliveTimeout(90_000),
        ConnectionError::ConnectedElsewhere { drops: 3 },
        ConnectionError::Transport(TransportFailure::Closed {
            code: 4002,
            reason: "upstream unreachable".into(),
        }),
    ];
    for error in exact {
        assert_eq!(cross(error.clone()), error);
    }
    let other = ConnectionError::Transport(TransportFailure::TlsHandshake("alert".into()));
    let back = cross(other.clone());
    assert_eq!(back.is_retried(), other.is_retried());
    assert_eq!(back.to_string(), "connection closed: alert");
    let retried = ConnectionError::Transport(TransportFailure::Io("reset".into()));
    assert!(cross(retried).is_retried());
}

#[test]
fn refusal_codes_are_the_stable_codes() {
    for reason in Refusal::ALL {
        assert_eq!(Refusal::from_code(reason.code()), reason);
        assert_eq!(Refusal::from_byte(reason.byte()), Some(reason));
    }
    assert_eq!(Refusal::from_code("storage_full"), Refusal::StorageFull);
    assert_eq!(Refusal::from_code("<script>"), Refusal::Other);
}
