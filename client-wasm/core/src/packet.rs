//! MQTT 3.1.1 control packets (section 3 of the spec) as borrowed views, and their encoding.
//!
//! Decoding lives in [`crate::codec`], which checks a frame's whole structure while it reads it.
//! Our own types rather than a general-purpose MQTT crate: the browser package pays for every
//! byte of code, and this is all the client, the demo broker front and the tests need.

use core::num::NonZeroU16;

/// Quality of service (section 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QoS {
    /// At most once: no acknowledgement.
    AtMostOnce,
    /// At least once: PUBACK.
    AtLeastOnce,
    /// Exactly once: PUBREC, PUBREL, PUBCOMP.
    ExactlyOnce,
}

impl QoS {
    /// The QoS of a number (0, 1 or 2).
    pub fn from_u8(value: u8) -> Option<QoS> {
        match value {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }

    /// The number of this QoS.
    pub fn to_u8(self) -> u8 {
        self as u8
    }
}

/// A packet identifier: never 0 (section 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pid(NonZeroU16);

impl Pid {
    /// The identifier's value.
    pub fn get(self) -> u16 {
        self.0.get()
    }
}

impl Default for Pid {
    fn default() -> Pid {
        Pid(NonZeroU16::MIN)
    }
}

/// Packet identifier 0 is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroPid;

impl TryFrom<u16> for Pid {
    type Error = ZeroPid;
    fn try_from(value: u16) -> Result<Pid, ZeroPid> {
        NonZeroU16::new(value).map(Pid).ok_or(ZeroPid)
    }
}

/// A PUBLISH's QoS with the identifier that QoS 1 and 2 carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QosPid {
    /// QoS 0: no identifier.
    AtMostOnce,
    /// QoS 1.
    AtLeastOnce(Pid),
    /// QoS 2.
    ExactlyOnce(Pid),
}

impl QosPid {
    /// The identifier, for QoS 1 and 2.
    pub fn pid(self) -> Option<Pid> {
        match self {
            QosPid::AtMostOnce => None,
            QosPid::AtLeastOnce(pid) | QosPid::ExactlyOnce(pid) => Some(pid),
        }
    }

    /// The QoS alone.
    pub fn qos(self) -> QoS {
        match self {
            QosPid::AtMostOnce => QoS::AtMostOnce,
            QosPid::AtLeastOnce(_) => QoS::AtLeastOnce,
            QosPid::ExactlyOnce(_) => QoS::ExactlyOnce,
        }
    }
}

/// The protocol a CONNECT names: 3.1.1, or 3.1 as some brokers still accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// "MQTT", level 4.
    MQTT311,
    /// "MQIsdp", level 3.
    MQIsdp,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::MQTT311 => "MQTT",
            Protocol::MQIsdp => "MQIsdp",
        }
    }

    fn level(self) -> u8 {
        match self {
            Protocol::MQTT311 => 4,
            Protocol::MQIsdp => 3,
        }
    }

    /// The protocol of a name and level, if we speak it.
    pub fn of(name: &[u8], level: u8) -> Option<Protocol> {
        match (name, level) {
            (b"MQTT", 4) => Some(Protocol::MQTT311),
            (b"MQIsdp", 3) => Some(Protocol::MQIsdp),
            _ => None,
        }
    }
}

/// The will of a CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastWill<'a> {
    pub topic: &'a str,
    pub message: &'a [u8],
    pub qos: QoS,
    pub retain: bool,
}

/// CONNECT (section 3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect<'a> {
    pub protocol: Protocol,
    pub keep_alive: u16,
    pub client_id: &'a str,
    pub clean_session: bool,
    pub last_will: Option<LastWill<'a>>,
    pub username: Option<&'a str>,
    pub password: Option<&'a [u8]>,
}

/// CONNACK return codes (section 3.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectReturnCode {
    Accepted,
    RefusedProtocolVersion,
    RefusedIdentifierRejected,
    ServerUnavailable,
    BadUsernamePassword,
    NotAuthorized,
}

impl ConnectReturnCode {
    /// The code of a byte, if it is one of the six defined.
    pub fn from_u8(value: u8) -> Option<ConnectReturnCode> {
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
}

/// CONNACK (section 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connack {
    pub session_present: bool,
    pub code: ConnectReturnCode,
}

/// PUBLISH (section 3.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish<'a> {
    pub dup: bool,
    pub qospid: QosPid,
    pub retain: bool,
    pub topic_name: &'a str,
    pub payload: &'a [u8],
}

/// One filter of a SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeTopic {
    pub topic_path: String,
    pub qos: QoS,
}

/// SUBSCRIBE (section 3.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    pub pid: Pid,
    pub topics: Vec<SubscribeTopic>,
}

/// One return code of a SUBACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeReturnCodes {
    /// Granted, at this maximum QoS.
    Success(QoS),
    /// 0x80.
    Failure,
}

/// SUBACK (section 3.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suback {
    pub pid: Pid,
    pub return_codes: Vec<SubscribeReturnCodes>,
}

/// UNSUBSCRIBE (section 3.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub pid: Pid,
    pub topics: Vec<String>,
}

/// An MQTT 3.1.1 control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    Connect(Connect<'a>),
    Connack(Connack),
    Publish(Publish<'a>),
    Puback(Pid),
    Pubrec(Pid),
    Pubrel(Pid),
    Pubcomp(Pid),
    Subscribe(Subscribe),
    Suback(Suback),
    Unsubscribe(Unsubscribe),
    Unsuback(Pid),
    Pingreq,
    Pingresp,
    Disconnect,
}

impl Packet<'_> {
    /// The packet type, the high nibble of the first byte.
    pub fn kind(&self) -> u8 {
        match self {
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
    pub fn name(&self) -> &'static str {
        crate::codec::packet_name(self.kind() << 4)
    }
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
}

/// The remaining length of a packet's encoding.
fn body_len(packet: &Packet<'_>) -> usize {
    let prefixed = |bytes: usize| 2 + bytes;
    match packet {
        Packet::Connect(c) => {
            prefixed(c.protocol.name().len())
                + 4
                + prefixed(c.client_id.len())
                + c.last_will
                    .as_ref()
                    .map_or(0, |w| prefixed(w.topic.len()) + prefixed(w.message.len()))
                + c.username.map_or(0, |u| prefixed(u.len()))
                + c.password.map_or(0, |p| prefixed(p.len()))
        }
        Packet::Publish(p) => {
            prefixed(p.topic_name.len()) + p.qospid.pid().map_or(0, |_| 2) + p.payload.len()
        }
        Packet::Subscribe(s) => {
            2 + s
                .topics
                .iter()
                .map(|t| prefixed(t.topic_path.len()) + 1)
                .sum::<usize>()
        }
        Packet::Suback(s) => 2 + s.return_codes.len(),
        Packet::Unsubscribe(u) => 2 + u.topics.iter().map(|t| prefixed(t.len())).sum::<usize>(),
        Packet::Connack(_)
        | Packet::Puback(_)
        | Packet::Pubrec(_)
        | Packet::Pubrel(_)
        | Packet::Pubcomp(_)
        | Packet::Unsuback(_) => 2,
        Packet::Pingreq | Packet::Pingresp | Packet::Disconnect => 0,
    }
}

/// The fixed header flags (section 2.2.2).
fn flags(packet: &Packet<'_>) -> u8 {
    match packet {
        Packet::Publish(p) => {
            u8::from(p.dup) << 3 | p.qospid.qos().to_u8() << 1 | u8::from(p.retain)
        }
        Packet::Pubrel(_) | Packet::Subscribe(_) | Packet::Unsubscribe(_) => 0b0010,
        _ => 0,
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, byte: u8) {
        self.0.push(byte);
    }

    fn u16(&mut self, value: u16) {
        self.0.extend_from_slice(&value.to_be_bytes());
    }

    fn prefixed(&mut self, bytes: &[u8], field: &'static str) -> Result<(), EncodeError> {
        let len = u16::try_from(bytes.len()).map_err(|_| EncodeError::FieldTooLong(field))?;
        self.u16(len);
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// Encodes one packet.
pub fn encode(packet: &Packet<'_>) -> Result<Vec<u8>, EncodeError> {
    let remaining = body_len(packet);
    let mut w = Writer(Vec::with_capacity(5 + remaining));
    w.u8(packet.kind() << 4 | flags(packet));
    crate::wire::frame::write_remaining_length(remaining, &mut w.0).ok_or(EncodeError::TooLarge)?;
    match packet {
        Packet::Connect(c) => {
            w.prefixed(c.protocol.name().as_bytes(), "protocol name")?;
            w.u8(c.protocol.level());
            let will = c.last_will.as_ref();
            w.u8(u8::from(c.username.is_some()) << 7
                | u8::from(c.password.is_some()) << 6
                | u8::from(will.is_some_and(|w| w.retain)) << 5
                | will.map_or(0, |w| w.qos.to_u8()) << 3
                | u8::from(will.is_some()) << 2
                | u8::from(c.clean_session) << 1);
            w.u16(c.keep_alive);
            w.prefixed(c.client_id.as_bytes(), "client identifier")?;
            if let Some(will) = will {
                w.prefixed(will.topic.as_bytes(), "will topic")?;
                w.prefixed(will.message, "will message")?;
            }
            if let Some(username) = c.username {
                w.prefixed(username.as_bytes(), "user name")?;
            }
            if let Some(password) = c.password {
                w.prefixed(password, "password")?;
            }
        }
        Packet::Connack(c) => {
            w.u8(u8::from(c.session_present));
            w.u8(c.code as u8);
        }
        Packet::Publish(p) => {
            w.prefixed(p.topic_name.as_bytes(), "topic name")?;
            if let Some(pid) = p.qospid.pid() {
                w.u16(pid.get());
            }
            w.0.extend_from_slice(p.payload);
        }
        Packet::Puback(pid)
        | Packet::Pubrec(pid)
        | Packet::Pubrel(pid)
        | Packet::Pubcomp(pid)
        | Packet::Unsuback(pid) => w.u16(pid.get()),
        Packet::Subscribe(s) => {
            if s.topics.is_empty() {
                return Err(EncodeError::NoFilters);
            }
            w.u16(s.pid.get());
            for topic in &s.topics {
                w.prefixed(topic.topic_path.as_bytes(), "topic filter")?;
                w.u8(topic.qos.to_u8());
            }
        }
        Packet::Suback(s) => {
            w.u16(s.pid.get());
            for code in &s.return_codes {
                w.u8(match code {
                    SubscribeReturnCodes::Success(qos) => qos.to_u8(),
                    SubscribeReturnCodes::Failure => 0x80,
                });
            }
        }
        Packet::Unsubscribe(u) => {
            if u.topics.is_empty() {
                return Err(EncodeError::NoFilters);
            }
            w.u16(u.pid.get());
            for topic in &u.topics {
                w.prefixed(topic.as_bytes(), "topic filter")?;
            }
        }
        Packet::Pingreq | Packet::Pingresp | Packet::Disconnect => {}
    }
    Ok(w.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode, DecodeError};
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

    #[test]
    fn every_packet_type_round_trips() {
        let big = vec![7u8; 200]; // a two-byte remaining length
        let packets = [
            Packet::Connect(Connect {
                protocol: Protocol::MQIsdp,
                keep_alive: 0,
                client_id: "",
                clean_session: false,
                last_will: None,
                username: Some("user"),
                password: None,
            }),
            Packet::Connack(Connack {
                session_present: true,
                code: ConnectReturnCode::NotAuthorized,
            }),
            Packet::Publish(Publish {
                dup: false,
                qospid: QosPid::AtMostOnce,
                retain: false,
                topic_name: "t",
                payload: &big,
            }),
            Packet::Puback(pid(1)),
            Packet::Pubrec(pid(2)),
            Packet::Pubcomp(pid(3)),
            Packet::Suback(Suback {
                pid: pid(4),
                return_codes: vec![
                    SubscribeReturnCodes::Success(QoS::AtLeastOnce),
                    SubscribeReturnCodes::Failure,
                ],
            }),
            Packet::Unsuback(pid(5)),
            Packet::Pingresp,
        ];
        for packet in packets {
            let bytes = encode(&packet).unwrap();
            let (decoded, used) = decode(&bytes, 1 << 20).unwrap().unwrap();
            assert_eq!((decoded, used), (packet, bytes.len()));
        }
    }

    /// Section 3.1.2: flag combinations a server must treat as malformed.
    #[test]
    fn inconsistent_connect_flags_are_refused() {
        // CONNECT "MQTT" 4, flags, keep alive 0, client id "c", then user "u" when flagged.
        let connect = |flags: u8| {
            let mut bytes = vec![
                0x10, 0, 0, 4, b'M', b'Q', b'T', b'T', 4, flags, 0, 0, 0, 1, b'c',
            ];
            if flags & 0x80 != 0 {
                bytes.extend_from_slice(&[0, 1, b'u']);
            }
            if flags & 0x40 != 0 {
                bytes.extend_from_slice(&[0, 1, b'p']);
            }
            bytes[1] = (bytes.len() - 2) as u8;
            decode(&bytes, 1 << 20).map(|p| p.map(|(p, _)| p.name()))
        };
        assert_eq!(connect(0b0000_0010), Ok(Some("CONNECT")));
        assert_eq!(connect(0b1100_0010), Ok(Some("CONNECT")));
        for flags in [
            0b0000_0011,
            0b0010_0000,
            0b0000_1000,
            0b0100_0000,
            0b0001_1100,
        ] {
            assert_eq!(
                connect(flags),
                Err(DecodeError::InvalidCode {
                    packet: "CONNECT",
                    code: flags
                }),
                "{flags:#010b}"
            );
        }
        let mut wrong_level = vec![0x10, 12, 0, 4, b'M', b'Q', b'T', b'T', 5, 2, 0, 0, 0, 0];
        assert_eq!(
            decode(&wrong_level, 1 << 20),
            Err(DecodeError::UnknownProtocol { level: 5 })
        );
        wrong_level[8] = 4;
        assert!(decode(&wrong_level, 1 << 20).is_ok());
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
        assert_eq!(Pid::try_from(0), Err(ZeroPid));
    }
}
