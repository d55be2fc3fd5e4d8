//! MQTT 3.1.1 control packets (section 3 of the spec): `mqttrs`'s types, and their encoding
//! through `mqttrs`'s encoder behind our own checks.
//!
//! Decoding lives in [`crate::codec`], which builds these types with a total, bounds-checked
//! reader (mqttrs 0.4.1's own decoder panics on some malformed input). mqttrs's error type is only
//! matched, never formatted: its `Debug`/`Display` would pull `io::ErrorKind` tables into the
//! browser package.

pub use mqttrs::{
    Connack, Connect, ConnectReturnCode, LastWill, Packet, Pid, Protocol, Publish, QoS, QosPid,
    Suback, Subscribe, SubscribeReturnCodes, SubscribeTopic, Unsubscribe,
};

use crate::wire::frame::write_remaining_length;

/// The QoS of a number (0, 1 or 2).
pub fn qos_from_u8(value: u8) -> Option<QoS> {
    match value {
        0 => Some(QoS::AtMostOnce),
        1 => Some(QoS::AtLeastOnce),
        2 => Some(QoS::ExactlyOnce),
        _ => None,
    }
}

/// The number of a QoS.
pub fn qos_to_u8(qos: QoS) -> u8 {
    match qos {
        QoS::AtMostOnce => 0,
        QoS::AtLeastOnce => 1,
        QoS::ExactlyOnce => 2,
    }
}

/// A packet identifier, `None` for 0 (section 2.3.1 forbids it).
pub fn pid_from_u16(value: u16) -> Option<Pid> {
    Pid::try_from(value).ok()
}

/// The CONNACK return code of a byte, if it is one of the six defined (section 3.2.2.3).
pub fn return_code_from_u8(value: u8) -> Option<ConnectReturnCode> {
    use ConnectReturnCode::*;
    Some(match value {
        0 => Accepted,
        1 => RefusedProtocolVersion,
        2 => RefusedIdentifierRejected,
        3 => ServerUnavailable,
        4 => BadUsernamePassword,
        5 => NotAuthorized,
        _ => return None,
    })
}

/// The byte of a CONNACK return code.
pub fn return_code_to_u8(code: ConnectReturnCode) -> u8 {
    use ConnectReturnCode::*;
    match code {
        Accepted => 0,
        RefusedProtocolVersion => 1,
        RefusedIdentifierRejected => 2,
        ServerUnavailable => 3,
        BadUsernamePassword => 4,
        NotAuthorized => 5,
    }
}

/// The protocol of a CONNECT's name and level, if we speak it.
pub fn protocol_of(name: &[u8], level: u8) -> Option<Protocol> {
    match (name, level) {
        (b"MQTT", 4) => Some(Protocol::MQTT311),
        (b"MQIsdp", 3) => Some(Protocol::MQIsdp),
        _ => None,
    }
}

const PACKET_NAMES: [&str; 16] = [
    "reserved",
    "CONNECT",
    "CONNACK",
    "PUBLISH",
    "PUBACK",
    "PUBREC",
    "PUBREL",
    "PUBCOMP",
    "SUBSCRIBE",
    "SUBACK",
    "UNSUBSCRIBE",
    "UNSUBACK",
    "PINGREQ",
    "PINGRESP",
    "DISCONNECT",
    "reserved",
];

/// The name of a packet type as the spec writes it ("CONNACK"), from the first byte of its
/// fixed header.
pub fn packet_name(first_byte: u8) -> &'static str {
    PACKET_NAMES[usize::from(first_byte >> 4)]
}

/// The packet type, the high nibble of the first byte.
pub fn kind(packet: &Packet<'_>) -> u8 {
    match packet {
        Packet::Connect(_) => 1,
        Packet::Connack(_) => 2,
        Packet::Publish(_) => 3,
        Packet::Puback(_) => 4,
        Packet::Pubrec(_) => 5,
        Packet::Pubrel(_) => 6,
        Packet::Pubcomp(_) => 7,
        Packet::Subscribe(_) => 8,
        Packet::Suback(_) => 9,
        Packet::Unsubscribe(_) => 10,
        Packet::Unsuback(_) => 11,
        Packet::Pingreq => 12,
        Packet::Pingresp => 13,
        Packet::Disconnect => 14,
    }
}

/// The packet's name as the spec writes it ("CONNACK").
pub fn name(packet: &Packet<'_>) -> &'static str {
    packet_name(kind(packet) << 4)
}

/// Why a packet could not be encoded. The caller's fault (validated inputs never hit it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("cannot encode packet: {0} is longer than 65,535 bytes")]
    FieldTooLong(&'static str),
    #[error("cannot encode packet: larger than MQTT's 268,435,455-byte limit")]
    TooLarge,
    #[error("cannot encode packet: a SUBSCRIBE or UNSUBSCRIBE needs at least one filter")]
    NoFilters,
    /// mqttrs 0.4.1 writes the 3.1 name ("MQIsdp") with a wrong length and level.
    #[error("cannot encode packet: only MQTT 3.1.1 CONNECTs are sent")]
    UnsupportedProtocol,
    /// mqttrs refused a packet our checks passed, or wrote another length than they computed.
    #[error("cannot encode packet: the encoder disagreed with its checks")]
    Encoder,
}

/// A length-prefixed field of `len` bytes: checked, and its encoded size.
fn prefixed(len: usize, field: &'static str) -> Result<usize, EncodeError> {
    if len > usize::from(u16::MAX) {
        return Err(EncodeError::FieldTooLong(field));
    }
    Ok(2 + len)
}

/// The remaining length of a packet's encoding, after checking every field fits its prefix
/// (mqttrs would silently truncate a longer one to 16 bits).
fn checked_body_len(packet: &Packet<'_>) -> Result<usize, EncodeError> {
    Ok(match packet {
        Packet::Connect(c) => {
            if c.protocol != Protocol::MQTT311 {
                return Err(EncodeError::UnsupportedProtocol);
            }
            let will = match &c.last_will {
                Some(w) => {
                    prefixed(w.topic.len(), "will topic")?
                        + prefixed(w.message.len(), "will message")?
                }
                None => 0,
            };
            let username = match c.username {
                Some(u) => prefixed(u.len(), "user name")?,
                None => 0,
            };
            let password = match c.password {
                Some(p) => prefixed(p.len(), "password")?,
                None => 0,
            };
            // "MQTT", level, flags, keep alive.
            prefixed(4, "protocol name")?
                + 4
                + prefixed(c.client_id.len(), "client identifier")?
                + will
                + username
                + password
        }
        Packet::Publish(p) => {
            prefixed(p.topic_name.len(), "topic name")?
                + p.qospid.pid().map_or(0, |_| 2)
                + p.payload.len()
        }
        Packet::Subscribe(s) => {
            if s.topics.is_empty() {
                return Err(EncodeError::NoFilters);
            }
            let mut len = 2;
            for topic in &s.topics {
                len += prefixed(topic.topic_path.len(), "topic filter")? + 1;
            }
            len
        }
        Packet::Suback(s) => 2 + s.return_codes.len(),
        Packet::Unsubscribe(u) => {
            if u.topics.is_empty() {
                return Err(EncodeError::NoFilters);
            }
            let mut len = 2;
            for topic in &u.topics {
                len += prefixed(topic.len(), "topic filter")?;
            }
            len
        }
        Packet::Connack(_)
        | Packet::Puback(_)
        | Packet::Pubrec(_)
        | Packet::Pubrel(_)
        | Packet::Pubcomp(_)
        | Packet::Unsuback(_) => 2,
        Packet::Pingreq | Packet::Pingresp | Packet::Disconnect => 0,
    })
}

/// Encodes one packet with `mqttrs::encode_slice`, into a buffer of exactly its size.
pub fn encode(packet: &Packet<'_>) -> Result<Vec<u8>, EncodeError> {
    let remaining = checked_body_len(packet)?;
    // The fixed header as wire::frame writes it, only to size the buffer exactly.
    let mut header = Vec::with_capacity(crate::wire::frame::MAX_HEADER_LEN);
    header.push(0);
    write_remaining_length(remaining, &mut header).ok_or(EncodeError::TooLarge)?;
    let mut buf = vec![0u8; header.len() + remaining];
    match mqttrs::encode_slice(packet, &mut buf) {
        Ok(written) if written == buf.len() => Ok(buf),
        _ => Err(EncodeError::Encoder),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn pid(n: u16) -> Pid {
        Pid::try_from(n).unwrap()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Byte-exact encodings, written out by hand from the spec's field tables.
    #[test]
    fn encodings_match_the_spec_byte_for_byte() {
        let expect = [
            (
                encode(&Packet::Connect(Connect {
                    protocol: Protocol::MQTT311,
                    keep_alive: 60,
                    client_id: "c",
                    clean_session: true,
                    last_will: Some(LastWill {
                        topic: "w",
                        message: b"x",
                        qos: QoS::AtLeastOnce,
                        retain: true,
                    }),
                    username: Some("u"),
                    password: Some(b"p"),
                })),
                "1019" // CONNECT, remaining length 25
                    .to_owned()
                    + "00044d515454" // "MQTT"
                    + "04ee003c" // level 4, flags 1110_1110, keep alive 60
                    + "000163" // client id "c"
                    + "000177000178" // will topic "w", will message "x"
                    + "000175000170", // user "u", password "p"
            ),
            (
                encode(&Packet::Publish(Publish {
                    dup: true,
                    qospid: QosPid::ExactlyOnce(pid(0x1234)),
                    retain: true,
                    topic_name: "a/b",
                    payload: b"hi",
                })),
                "3d09000361 2f62 1234 6869".replace(' ', ""),
            ),
            (
                encode(&Packet::Subscribe(Subscribe {
                    pid: pid(10),
                    topics: vec![
                        SubscribeTopic {
                            topic_path: "a/#".into(),
                            qos: QoS::ExactlyOnce,
                        },
                        SubscribeTopic {
                            topic_path: "+".into(),
                            qos: QoS::AtMostOnce,
                        },
                    ],
                })),
                "820c000a 0003612f2302 00012b00".replace(' ', ""),
            ),
            (
                encode(&Packet::Unsubscribe(Unsubscribe {
                    pid: pid(11),
                    topics: vec!["a".into()],
                })),
                "a205000b00016 1".replace(' ', ""),
            ),
            (encode(&Packet::Pubrel(pid(258))), "62020102".into()),
            (encode(&Packet::Pingreq), "c000".into()),
            (encode(&Packet::Disconnect), "e000".into()),
        ];
        for (encoded, wanted) in expect {
            assert_eq!(hex(&encoded.unwrap()), wanted);
        }
    }

    /// mqttrs writes a field's length as `len as u16`: longer fields must never reach it.
    #[test]
    fn every_prefixed_field_is_checked_before_mqttrs_sees_it() {
        let long = "x".repeat(65_536);
        let base = Connect {
            protocol: Protocol::MQTT311,
            keep_alive: 0,
            client_id: "c",
            clean_session: true,
            last_will: None,
            username: None,
            password: None,
        };
        let cases = [
            (
                Connect {
                    client_id: &long,
                    ..base.clone()
                },
                "client identifier",
            ),
            (
                Connect {
                    username: Some(&long),
                    ..base.clone()
                },
                "user name",
            ),
            (
                Connect {
                    username: Some("u"),
                    password: Some(long.as_bytes()),
                    ..base.clone()
                },
                "password",
            ),
            (
                Connect {
                    last_will: Some(LastWill {
                        topic: "w",
                        message: long.as_bytes(),
                        qos: QoS::AtMostOnce,
                        retain: false,
                    }),
                    ..base.clone()
                },
                "will message",
            ),
        ];
        for (connect, field) in cases {
            assert_eq!(
                encode(&Packet::Connect(connect)),
                Err(EncodeError::FieldTooLong(field))
            );
        }
        let subscribe = Packet::Subscribe(Subscribe {
            pid: pid(1),
            topics: vec![SubscribeTopic {
                topic_path: long.clone(),
                qos: QoS::AtMostOnce,
            }],
        });
        assert_eq!(
            encode(&subscribe),
            Err(EncodeError::FieldTooLong("topic filter"))
        );
        // 65,535 is still a valid length.
        let max = "x".repeat(65_535);
        assert!(encode(&Packet::Connect(Connect {
            client_id: &max,
            ..base
        }))
        .is_ok());
    }

    #[test]
    fn qos_and_return_codes_convert_both_ways() {
        for n in 0..=2 {
            assert_eq!(qos_from_u8(n).map(qos_to_u8), Some(n));
        }
        assert_eq!(qos_from_u8(3), None);
        for n in 0..=5 {
            assert_eq!(return_code_from_u8(n).map(return_code_to_u8), Some(n));
        }
        assert_eq!(return_code_from_u8(6), None);
    }

    #[test]
    fn oversized_fields_are_encode_errors() {
        let long = "x".repeat(70_000);
        let publish = Packet::Publish(Publish {
            dup: false,
            qospid: QosPid::AtMostOnce,
            retain: false,
            topic_name: &long,
            payload: b"",
        });
        assert_eq!(
            encode(&publish),
            Err(EncodeError::FieldTooLong("topic name"))
        );
        let empty = Packet::Unsubscribe(Unsubscribe {
            pid: pid(1),
            topics: vec![],
        });
        assert_eq!(encode(&empty), Err(EncodeError::NoFilters));
        assert_eq!(pid_from_u16(0), None);
    }
}
