//! MQTT 3.1.1 control packets (section 3 of the spec): `mqttrs`'s types, and their encoding
//! through `mqttrs`'s encoder behind our own checks.
//!
//! Decoding lives in [`crate::codec`], which builds these types with a total, bounds-checked
//! reader (mqttrs 0.4.1's own decoder panics on some malformed input). mqttrs's error type is only
//! matched, never formatted: its `Debug`/`Display` would pull `io::ErrorKind` tables into the
//! browser package.

pub use mqttrs::{
    Connack, Connect, ConnectReturnCode, LastWill, Packet, PacketType, Pid, Protocol, Publish, QoS,
    QosPid, Suback, Subscribe, SubscribeReturnCodes, SubscribeTopic, Unsubscribe,
};

pub use crate::error::EncodeError;
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

/// The packet type of a fixed header's first byte (its high nibble, §2.2.1); `None` for the
/// reserved types 0 and 15.
pub fn packet_type(first_byte: u8) -> Option<PacketType> {
    TYPES[usize::from(first_byte >> 4)]
}

/// The packet types by number (§2.2.1, table 2.1).
const TYPES: [Option<PacketType>; 16] = {
    use PacketType::*;
    [
        None,
        Some(Connect),
        Some(Connack),
        Some(Publish),
        Some(Puback),
        Some(Pubrec),
        Some(Pubrel),
        Some(Pubcomp),
        Some(Subscribe),
        Some(Suback),
        Some(Unsubscribe),
        Some(Unsuback),
        Some(Pingreq),
        Some(Pingresp),
        Some(Disconnect),
        None,
    ]
};

/// The number of a packet type (§2.2.1, table 2.1): the high nibble of its first byte.
pub const fn type_number(kind: PacketType) -> u8 {
    use PacketType::*;
    match kind {
        Connect => 1,
        Connack => 2,
        Publish => 3,
        Puback => 4,
        Pubrec => 5,
        Pubrel => 6,
        Pubcomp => 7,
        Subscribe => 8,
        Suback => 9,
        Unsubscribe => 10,
        Unsuback => 11,
        Pingreq => 12,
        Pingresp => 13,
        Disconnect => 14,
    }
}

/// The first byte of a packet type with its flags (§2.2).
pub const fn first_byte(kind: PacketType, flags: u8) -> u8 {
    type_number(kind) << 4 | flags & FLAGS_MASK
}

/// The fixed header's flags: the low nibble of the first byte (§2.2.2).
pub const FLAGS_MASK: u8 = 0x0f;
/// The flags PUBREL, SUBSCRIBE and UNSUBSCRIBE must carry (§2.2.2, [MQTT-3.6.1-1] ...).
pub const REQUIRED_FLAGS: u8 = 0b0010;
/// A CONNACK's first byte: it has no flags (§3.2.1).
pub const CONNACK_FIRST_BYTE: u8 = first_byte(PacketType::Connack, 0);
/// PUBLISH flags (§3.3.1): DUP, the QoS's two bits, RETAIN.
pub const PUBLISH_DUP: u8 = 0b1000;
/// Where the QoS's two bits start in a PUBLISH's flags (bits 2-1).
pub const PUBLISH_QOS_SHIFT: u8 = 1;
/// The QoS's two bits, once shifted down by [`PUBLISH_QOS_SHIFT`].
pub const PUBLISH_QOS_MASK: u8 = 0b11;
/// A PUBLISH's RETAIN flag (§3.3.1.3).
pub const PUBLISH_RETAIN: u8 = 0b0001;
/// CONNACK's acknowledge flags (§3.2.2.1): only session present may be set.
pub const CONNACK_SESSION_PRESENT: u8 = 0b1;
/// The SUBACK return code of a refused filter (§3.9.3).
pub const SUBACK_FAILURE: u8 = 0x80;

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

/// The name of a packet type as the spec writes it ("CONNACK").
pub fn type_name(kind: PacketType) -> &'static str {
    packet_name(first_byte(kind, 0))
}

/// The name of a packet type as the spec writes it ("CONNACK"), from the first byte of its
/// fixed header ("reserved" for types 0 and 15).
pub fn packet_name(first_byte: u8) -> &'static str {
    PACKET_NAMES[usize::from(first_byte >> 4)]
}

/// The packet type, the high nibble of the first byte.
pub fn kind(packet: &Packet<'_>) -> u8 {
    type_number(packet.get_type())
}

/// The packet's name as the spec writes it ("CONNACK").
pub fn name(packet: &Packet<'_>) -> &'static str {
    type_name(packet.get_type())
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
    if let Packet::Publish(publish) = packet {
        if !publish.payload.is_empty() {
            return encode_publish(publish, remaining);
        }
    }
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

/// A PUBLISH whose payload is appended in one copy. mqttrs 0.4.1 writes a payload byte by
/// byte (a bounds check and a `Result` each), which costs more than the rest of a 1 KiB
/// publish; it still writes the headers, those of the same publish without the payload.
fn encode_publish(publish: &Publish<'_>, remaining: usize) -> Result<Vec<u8>, EncodeError> {
    let headers = encode(&Packet::Publish(Publish {
        dup: publish.dup,
        qospid: publish.qospid,
        retain: publish.retain,
        topic_name: publish.topic_name,
        payload: &[],
    }))?;
    // `headers`: the first byte, the remaining length of the headers alone, the topic and id.
    let mut headers_length = Vec::with_capacity(crate::wire::frame::MAX_HEADER_LEN);
    write_remaining_length(remaining - publish.payload.len(), &mut headers_length)
        .ok_or(EncodeError::TooLarge)?;
    let (Some(&first), Some(variable)) = (headers.first(), headers.get(1 + headers_length.len()..))
    else {
        return Err(EncodeError::Encoder);
    };
    let mut buf = Vec::with_capacity(crate::wire::frame::MAX_HEADER_LEN + remaining);
    buf.push(first);
    write_remaining_length(remaining, &mut buf).ok_or(EncodeError::TooLarge)?;
    buf.extend_from_slice(variable);
    buf.extend_from_slice(publish.payload);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The publish fast path writes what mqttrs writes, across the remaining length's 1 to 3
    /// byte forms (MQTT-2.2.3) and every QoS.
    #[test]
    fn publishes_encode_as_mqttrs_encodes_them() {
        for size in [1, 100, 127, 128, 16_383, 16_384, 70_000] {
            let payload: Vec<u8> = (0..size).map(|i| (i * 7 + 3) as u8).collect();
            for qospid in [
                QosPid::AtMostOnce,
                QosPid::AtLeastOnce(pid(7)),
                QosPid::ExactlyOnce(pid(65_535)),
            ] {
                let packet = Packet::Publish(Publish {
                    dup: false,
                    qospid,
                    retain: true,
                    topic_name: "a/b/é",
                    payload: &payload,
                });
                let mut reference = vec![0u8; size + 64];
                let written = mqttrs::encode_slice(&packet, &mut reference).unwrap();
                reference.truncate(written);
                assert_eq!(encode(&packet).unwrap(), reference, "{size} B, {qospid:?}");
            }
        }
    }
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

    /// Every type number from 0 to 15: the reserved two have no type, the others round-trip,
    /// and the names are the spec's.
    #[test]
    fn packet_types_round_trip_through_their_numbers() {
        assert_eq!(packet_type(0x00), None);
        assert_eq!(packet_type(0xf0), None);
        for number in 1..=14u8 {
            let kind = packet_type(number << 4).unwrap();
            assert_eq!(type_number(kind), number);
            assert_eq!(packet_type(first_byte(kind, FLAGS_MASK)), Some(kind));
        }
        assert_eq!(CONNACK_FIRST_BYTE, 0x20);
        assert_eq!(packet_name(0x62), "PUBREL");
        assert_eq!(packet_name(0xf0), "reserved");
        assert_eq!(name(&Packet::Pingresp), "PINGRESP");
        assert_eq!(kind(&Packet::Disconnect), 14);
    }
}
