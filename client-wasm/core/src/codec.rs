//! MQTT 3.1.1 framing and decoding into `mqttrs`'s packet types.
//!
//! [`decode`] is total: any input gives a packet, a request for more bytes, or a typed error,
//! never a panic (a panic in a browser tab cannot be caught). It refuses a bad first byte before
//! the length arrives, an oversized frame from its header alone, and reads every field of the
//! body through a bounds-checked reader that names the field that is wrong. We build mqttrs's
//! types ourselves rather than call `mqttrs::decode_slice`: it indexes past its input on
//! malformed frames (`20 00`, `40 00`, a truncated PUBLISH or CONNECT), and a reader that
//! already checked every field has nothing left for it to do.
//!
//! [`decode`] is the client's: packets a server sends. Packets only a client sends (CONNECT,
//! SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT) are refused from their first byte; reading them is
//! `decode_any`'s job, built only with the `server` feature (brokers, fronts, tests), so the
//! browser package carries none of it.

pub use crate::error::DecodeError;
pub use crate::packet::{encode, packet_name, EncodeError};
use crate::packet::{
    packet_type, pid_from_u16, qos_from_u8, return_code_from_u8, Connack, Packet, PacketType, Pid,
    Publish, QosPid, Suback, SubscribeReturnCodes, CONNACK_SESSION_PRESENT, FLAGS_MASK,
    PUBLISH_DUP, PUBLISH_QOS_MASK, PUBLISH_QOS_SHIFT, PUBLISH_RETAIN, REQUIRED_FLAGS,
    SUBACK_FAILURE,
};
pub use crate::wire::frame::{read_frame_header, FrameHeader, MAX_REMAINING_LENGTH};

/// Packet types only a client sends: CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT.
fn is_client_only(kind: Option<PacketType>) -> bool {
    use PacketType::*;
    matches!(
        kind,
        Some(Connect | Subscribe | Unsubscribe | Pingreq | Disconnect)
    )
}

/// Decodes the first packet a server sent in `buf`, if it is complete.
///
/// Returns the packet and the bytes it used, `Ok(None)` when more bytes are needed, or an error
/// for a frame that is malformed, only sent by clients, or larger than `max_packet` (checked
/// from the header alone, so an oversized packet is refused before it is buffered).
pub fn decode(buf: &[u8], max_packet: usize) -> Result<Option<(Packet<'_>, usize)>, DecodeError> {
    if let Some(&first_byte) = buf.first() {
        validate_first_byte(first_byte)?;
        if is_client_only(packet_type(first_byte)) {
            return Err(DecodeError::ClientOnlyPacket {
                packet: packet_name(first_byte),
            });
        }
    }
    decode_frame(buf, max_packet)
}

/// Decodes the first packet in `buf` whichever side sent it: what a broker or a front reads
/// from clients. As [`decode`] otherwise.
#[cfg(any(test, feature = "server"))]
pub fn decode_any(
    buf: &[u8],
    max_packet: usize,
) -> Result<Option<(Packet<'_>, usize)>, DecodeError> {
    if let Some(&first_byte) = buf.first() {
        validate_first_byte(first_byte)?;
    }
    decode_frame(buf, max_packet)
}

/// The frame after its first byte was accepted.
fn decode_frame(buf: &[u8], max_packet: usize) -> Result<Option<(Packet<'_>, usize)>, DecodeError> {
    let Some(header) = read_frame_header(buf)? else {
        return Ok(None);
    };
    let size = header.frame_len();
    if size > max_packet {
        return Err(DecodeError::TooLarge {
            size,
            max: max_packet,
        });
    }
    let Some(body) = buf.get(header.header_len..size) else {
        return Ok(None);
    };
    Ok(Some((parse(header.first_byte, body)?, size)))
}

/// A bounds-checked reader over a packet body.
struct Body<'a> {
    packet: &'static str,
    rest: &'a [u8],
}

impl<'a> Body<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Truncated {
                packet: self.packet,
                field,
            });
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let bytes = self.take(1, field)?;
        Ok(bytes.first().copied().unwrap_or_default())
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let bytes = self.take(2, field)?;
        Ok(bytes.iter().fold(0, |n, &b| n << 8 | u16::from(b)))
    }

    fn pid(&mut self) -> Result<Pid, DecodeError> {
        let packet = self.packet;
        pid_from_u16(self.u16("packet identifier")?).ok_or(DecodeError::ZeroPacketId { packet })
    }

    /// A two-byte length followed by that many bytes.
    fn prefixed(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.u16(field)?;
        self.take(usize::from(len), field)
    }

    fn utf8(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let packet = self.packet;
        core::str::from_utf8(self.prefixed(field)?)
            .map_err(|_| DecodeError::NotUtf8 { packet, field })
    }

    #[cfg(any(test, feature = "server"))]
    fn qos(&mut self, field: &'static str) -> Result<crate::packet::QoS, DecodeError> {
        let code = self.u8(field)?;
        qos_from_u8(code).ok_or(DecodeError::InvalidCode {
            packet: self.packet,
            code,
        })
    }

    /// The fixed-length packets: exactly `len` bytes of body.
    fn exactly(&self, len: usize) -> Result<(), DecodeError> {
        if self.rest.len() == len {
            Ok(())
        } else {
            Err(DecodeError::WrongLength {
                packet: self.packet,
                length: self.rest.len(),
            })
        }
    }

    fn end(&self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                packet: self.packet,
            })
        }
    }
}

/// Checks the packet type and the fixed header flags (section 2.2).
pub fn validate_first_byte(first_byte: u8) -> Result<(), DecodeError> {
    use PacketType::*;
    let flags = first_byte & FLAGS_MASK;
    let packet = packet_name(first_byte);
    let flags_ok = match packet_type(first_byte) {
        None => return Err(DecodeError::ReservedPacketType(first_byte >> 4)),
        // DUP and RETAIN are free; QoS 3 is malformed [MQTT-3.3.1-4].
        Some(Publish) => (flags >> PUBLISH_QOS_SHIFT) & PUBLISH_QOS_MASK != 3,
        Some(Pubrel | Subscribe | Unsubscribe) => flags == REQUIRED_FLAGS,
        Some(_) => flags == 0,
    };
    if flags_ok {
        Ok(())
    } else {
        Err(DecodeError::InvalidFlags { packet, flags })
    }
}

/// Reads a body (sections 2 and 3 of the spec); the first byte is valid.
fn parse(first_byte: u8, body: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let packet = packet_name(first_byte);
    let invalid = |code| DecodeError::InvalidCode { packet, code };
    let mut r = Body { packet, rest: body };
    // `validate_first_byte` refused the reserved types.
    let Some(kind) = packet_type(first_byte) else {
        return Err(DecodeError::ReservedPacketType(first_byte >> 4));
    };
    let parsed = match kind {
        PacketType::Connack => {
            r.exactly(2)?;
            let ack_flags = r.u8("acknowledge flags")?;
            let code = r.u8("return code")?;
            if ack_flags & !CONNACK_SESSION_PRESENT != 0 {
                return Err(invalid(ack_flags));
            }
            Packet::Connack(Connack {
                session_present: ack_flags == CONNACK_SESSION_PRESENT,
                code: return_code_from_u8(code).ok_or(invalid(code))?,
            })
        }
        PacketType::Publish => {
            let topic_name = r.utf8("topic name")?;
            let qospid = match (first_byte >> PUBLISH_QOS_SHIFT) & PUBLISH_QOS_MASK {
                0 => QosPid::AtMostOnce,
                1 => QosPid::AtLeastOnce(r.pid()?),
                _ => QosPid::ExactlyOnce(r.pid()?),
            };
            let payload = core::mem::take(&mut r.rest);
            Packet::Publish(Publish {
                dup: first_byte & PUBLISH_DUP != 0,
                qospid,
                retain: first_byte & PUBLISH_RETAIN != 0,
                topic_name,
                payload,
            })
        }
        kind @ (PacketType::Puback
        | PacketType::Pubrec
        | PacketType::Pubrel
        | PacketType::Pubcomp
        | PacketType::Unsuback) => {
            r.exactly(2)?;
            let pid = r.pid()?;
            match kind {
                PacketType::Puback => Packet::Puback(pid),
                PacketType::Pubrec => Packet::Pubrec(pid),
                PacketType::Pubrel => Packet::Pubrel(pid),
                PacketType::Pubcomp => Packet::Pubcomp(pid),
                _ => Packet::Unsuback(pid),
            }
        }
        PacketType::Suback => {
            let pid = r.pid()?;
            if r.rest.is_empty() {
                return Err(DecodeError::Truncated {
                    packet,
                    field: "return codes",
                });
            }
            let return_codes = core::mem::take(&mut r.rest)
                .iter()
                .map(|&code| match code {
                    SUBACK_FAILURE => Ok(SubscribeReturnCodes::Failure),
                    _ => qos_from_u8(code)
                        .map(SubscribeReturnCodes::Success)
                        .ok_or(invalid(code)),
                })
                .collect::<Result<_, _>>()?;
            Packet::Suback(Suback { pid, return_codes })
        }
        PacketType::Pingresp => {
            r.exactly(0)?;
            Packet::Pingresp
        }
        #[cfg(any(test, feature = "server"))]
        kind => client_only::parse(kind, &mut r)?,
        // `decode` refused these from their first byte.
        #[cfg(not(any(test, feature = "server")))]
        _ => return Err(DecodeError::ClientOnlyPacket { packet }),
    };
    r.end()?;
    Ok(parsed)
}

/// The packets only clients send: CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT.
#[cfg(any(test, feature = "server"))]
mod client_only {
    use super::{Body, DecodeError};
    use crate::packet::{
        protocol_of, qos_from_u8, Connect, LastWill, Packet, PacketType, Subscribe, SubscribeTopic,
        Unsubscribe,
    };

    /// CONNECT flags (§3.1.2.2 to 3.1.2.9).
    const USER_NAME: u8 = 0b1000_0000;
    const PASSWORD: u8 = 0b0100_0000;
    const WILL_RETAIN: u8 = 0b0010_0000;
    const WILL_QOS_SHIFT: u8 = 3;
    const WILL_QOS_MASK: u8 = 0b11;
    const WILL: u8 = 0b0000_0100;
    const CLEAN_SESSION: u8 = 0b0000_0010;
    const RESERVED: u8 = 0b0000_0001;

    /// Reads the body of a client-only packet type (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ or
    /// DISCONNECT).
    pub(super) fn parse<'a>(kind: PacketType, r: &mut Body<'a>) -> Result<Packet<'a>, DecodeError> {
        Ok(match kind {
            PacketType::Connect => Packet::Connect(parse_connect(r)?),
            PacketType::Subscribe => {
                let pid = r.pid()?;
                let mut topics = Vec::new();
                loop {
                    let topic_path = r.utf8("topic filter")?.to_owned();
                    let qos = r.qos("requested QoS")?;
                    topics.push(SubscribeTopic { topic_path, qos });
                    if r.rest.is_empty() {
                        break;
                    }
                }
                Packet::Subscribe(Subscribe { pid, topics })
            }
            PacketType::Unsubscribe => {
                let pid = r.pid()?;
                let mut topics = Vec::new();
                loop {
                    topics.push(r.utf8("topic filter")?.to_owned());
                    if r.rest.is_empty() {
                        break;
                    }
                }
                Packet::Unsubscribe(Unsubscribe { pid, topics })
            }
            PacketType::Pingreq => {
                r.exactly(0)?;
                Packet::Pingreq
            }
            _ => {
                r.exactly(0)?;
                Packet::Disconnect
            }
        })
    }

    fn parse_connect<'a>(r: &mut Body<'a>) -> Result<Connect<'a>, DecodeError> {
        let name = r.prefixed("protocol name")?;
        let level = r.u8("protocol level")?;
        let protocol = protocol_of(name, level).ok_or(DecodeError::UnknownProtocol { level })?;
        let flags = r.u8("connect flags")?;
        let has_will = flags & WILL != 0;
        let will_qos = qos_from_u8((flags >> WILL_QOS_SHIFT) & WILL_QOS_MASK);
        let will_retain = flags & WILL_RETAIN != 0;
        let has_username = flags & USER_NAME != 0;
        let has_password = flags & PASSWORD != 0;
        let will_fields = WILL_RETAIN | WILL_QOS_MASK << WILL_QOS_SHIFT;
        // The reserved bit is 0 [MQTT-3.1.2-3]; without a will, its QoS and retain are 0
        // [MQTT-3.1.2-13, -15]; a password needs a user name [MQTT-3.1.2-22].
        let consistent = flags & RESERVED == 0
            && will_qos.is_some()
            && (has_will || flags & will_fields == 0)
            && (has_username || !has_password);
        let (Some(will_qos), true) = (will_qos, consistent) else {
            return Err(DecodeError::InvalidCode {
                packet: "CONNECT",
                code: flags,
            });
        };
        let keep_alive = r.u16("keep alive")?;
        let client_id = r.utf8("client identifier")?;
        let last_will = match has_will {
            true => Some(LastWill {
                topic: r.utf8("will topic")?,
                message: r.prefixed("will message")?,
                qos: will_qos,
                retain: will_retain,
            }),
            false => None,
        };
        let username = match has_username {
            true => Some(r.utf8("user name")?),
            false => None,
        };
        let password = match has_password {
            true => Some(r.prefixed("password")?),
            false => None,
        };
        Ok(Connect {
            protocol,
            keep_alive,
            client_id,
            clean_session: flags & CLEAN_SESSION != 0,
            last_will,
            username,
            password,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use crate::packet::{
        name, Connect, ConnectReturnCode, Protocol, QoS, Subscribe, SubscribeTopic, Unsubscribe,
    };

    const MAX: usize = 1 << 20;

    fn pid(n: u16) -> Pid {
        Pid::try_from(n).unwrap()
    }

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    /// Inputs that once made a general-purpose MQTT crate panic (mqttrs 0.4.1), and other malformed frames: each must
    /// be a typed error (or a request for more bytes), never a panic.
    #[test]
    fn malformed_vectors_are_typed_errors() {
        let cases: &[(&str, DecodeError)] = &[
            (
                "20 00",
                DecodeError::WrongLength {
                    packet: "CONNACK",
                    length: 0,
                },
            ),
            (
                "40 00",
                DecodeError::WrongLength {
                    packet: "PUBACK",
                    length: 0,
                },
            ),
            (
                "20 01 bc",
                DecodeError::WrongLength {
                    packet: "CONNACK",
                    length: 1,
                },
            ),
            (
                "30 02 00 05 61 62 63 64 65",
                DecodeError::Truncated {
                    packet: "PUBLISH",
                    field: "topic name",
                },
            ),
            ("ff fb ff ff ff ff", DecodeError::ReservedPacketType(15)),
            ("30 ff ff ff ff 01", DecodeError::RemainingLengthTooLong),
            (
                "90 02 00 01",
                DecodeError::Truncated {
                    packet: "SUBACK",
                    field: "return codes",
                },
            ),
            (
                "90 01 00",
                DecodeError::Truncated {
                    packet: "SUBACK",
                    field: "packet identifier",
                },
            ),
            (
                "10 04 00 04 4d 51",
                DecodeError::Truncated {
                    packet: "CONNECT",
                    field: "protocol name",
                },
            ),
            (
                "10 06 00 04 4d 51 54 54",
                DecodeError::Truncated {
                    packet: "CONNECT",
                    field: "protocol level",
                },
            ),
            (
                "36 05 00 01 61 00 01",
                DecodeError::InvalidFlags {
                    packet: "PUBLISH",
                    flags: 0b0110,
                },
            ),
            (
                "32 05 00 01 61 00 00",
                DecodeError::ZeroPacketId { packet: "PUBLISH" },
            ),
            ("00 00", DecodeError::ReservedPacketType(0)),
            ("f0 00", DecodeError::ReservedPacketType(15)),
            (
                "60 02 00 01",
                DecodeError::InvalidFlags {
                    packet: "PUBREL",
                    flags: 0,
                },
            ),
            (
                "d0 01 00",
                DecodeError::WrongLength {
                    packet: "PINGRESP",
                    length: 1,
                },
            ),
            (
                "20 02 00 06",
                DecodeError::InvalidCode {
                    packet: "CONNACK",
                    code: 6,
                },
            ),
            (
                "90 03 00 01 03",
                DecodeError::InvalidCode {
                    packet: "SUBACK",
                    code: 3,
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                decode_any(&hex(input), MAX).map(|_| ()),
                Err(expected.clone()),
                "{input}"
            );
        }
    }

    /// A server never sends CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ or DISCONNECT (3.1, 3.8, 3.10,
    /// 3.12, 3.14 name the client as sender): the client's decoder refuses them at the first
    /// byte, whatever follows; the server side reads them.
    #[test]
    fn the_client_refuses_client_only_packets_at_their_first_byte() {
        for (input, packet) in [
            ("10", "CONNECT"),
            ("82 05 00 01 00 00", "SUBSCRIBE"),
            ("a2", "UNSUBSCRIBE"),
            ("c0 00", "PINGREQ"),
            ("e0 00", "DISCONNECT"),
        ] {
            assert_eq!(
                decode(&hex(input), MAX).map(|_| ()),
                Err(DecodeError::ClientOnlyPacket { packet }),
                "{input}"
            );
        }
        assert_eq!(
            decode_any(&hex("c0 00"), MAX),
            Ok(Some((Packet::Pingreq, 2)))
        );
        assert_eq!(
            decode_any(&hex("e0 00"), MAX),
            Ok(Some((Packet::Disconnect, 2)))
        );
    }

    #[test]
    fn incomplete_frames_ask_for_more() {
        for input in ["30", "30 05 00", "", "30 80", "32 82 01", "d0"] {
            assert_eq!(decode(&hex(input), MAX), Ok(None), "{input}");
        }
    }

    #[test]
    fn a_bad_first_byte_is_refused_before_the_length_arrives() {
        assert_eq!(
            decode(&hex("48"), MAX).map(|_| ()),
            Err(DecodeError::InvalidFlags {
                packet: "PUBACK",
                flags: 8
            })
        );
        assert_eq!(
            decode(&hex("00 ff"), MAX).map(|_| ()),
            Err(DecodeError::ReservedPacketType(0))
        );
        // "HTTP/1.1 ..." from a web server is refused at its first byte.
        assert!(decode(b"H", MAX).is_err());
    }

    #[test]
    fn oversized_frames_are_refused_from_the_header() {
        // Claims 2 MiB, only the header is here.
        let input = hex("30 80 80 80 01");
        assert_eq!(
            decode(&input, MAX).map(|_| ()),
            Err(DecodeError::TooLarge {
                size: 2_097_157,
                max: MAX
            })
        );
    }

    #[test]
    fn valid_frames_decode_with_their_length() {
        let bytes = hex("30 08 00 03 61 2f 62 33 32 ff");
        let (packet, used) = decode(&bytes, MAX).unwrap().unwrap();
        assert_eq!(used, 10);
        match packet {
            Packet::Publish(p) => {
                assert_eq!(p.topic_name, "a/b");
                assert_eq!(p.payload, b"32\xff");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            decode(&hex("d0 00"), MAX),
            Ok(Some((Packet::Pingresp, 2)))
        ));
        assert!(matches!(
            decode(&hex("90 03 00 07 80"), MAX),
            Ok(Some((Packet::Suback(_), 5)))
        ));
    }

    #[test]
    fn every_packet_type_round_trips() {
        let big = vec![7u8; 200]; // a two-byte remaining length
        let packets = [
            Packet::Connect(Connect {
                protocol: Protocol::MQTT311,
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
            Packet::Pubrel(pid(6)),
            Packet::Subscribe(Subscribe {
                pid: pid(7),
                topics: vec![SubscribeTopic {
                    topic_path: "a/+".into(),
                    qos: QoS::ExactlyOnce,
                }],
            }),
            Packet::Unsubscribe(Unsubscribe {
                pid: pid(8),
                topics: vec!["a/+".into(), "b".into()],
            }),
            Packet::Pingreq,
            Packet::Disconnect,
        ];
        for packet in packets {
            let bytes = encode(&packet).unwrap();
            let (decoded, used) = decode_any(&bytes, 1 << 20).unwrap().unwrap();
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
            decode_any(&bytes, 1 << 20).map(|p| p.map(|(p, _)| name(&p)))
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
            decode_any(&wrong_level, 1 << 20),
            Err(DecodeError::UnknownProtocol { level: 5 })
        );
        wrong_level[8] = 4;
        assert!(decode_any(&wrong_level, 1 << 20).is_ok());
    }

    /// mqttrs 0.4.1 writes an MQTT 3.1 CONNECT as `00 04 "MQisdp" 04` (wrong length and level),
    /// so `encode` refuses it; a 3.1 CONNECT from a client still decodes (section 3.1.2.1).
    #[test]
    fn mqtt_3_1_connect_is_read_but_not_written() {
        let connect = Connect {
            protocol: Protocol::MQIsdp,
            keep_alive: 0,
            client_id: "",
            clean_session: false,
            last_will: None,
            username: Some("user"),
            password: None,
        };
        assert_eq!(
            encode(&Packet::Connect(connect.clone())),
            Err(EncodeError::UnsupportedProtocol)
        );
        let mut bytes = vec![0x10, 20, 0, 6];
        bytes.extend_from_slice(b"MQIsdp");
        bytes.extend_from_slice(&[3, 0x80, 0, 0, 0, 0, 0, 4]);
        bytes.extend_from_slice(b"user");
        assert_eq!(
            decode_any(&bytes, 1 << 20),
            Ok(Some((Packet::Connect(connect), bytes.len())))
        );
    }
}
