//! MQTT 3.1.1 framing in front of `mqttrs`.
//!
//! `mqttrs::decode_slice` indexes past the end of its input on some malformed packets (for
//! example `20 00`, `40 00`, or a PUBLISH whose topic length runs past the packet), and a panic
//! in a browser tab cannot be caught. So [`decode`] checks the whole structure of a frame first:
//! fixed header flags, a remaining length of at most four bytes, the size limit, and every
//! length-prefixed field of the body. Only a frame that passed is handed to `mqttrs`, and only
//! as a slice holding exactly that frame. The function is total: any input gives `Ok` or `Err`.

use mqttrs::Packet;

/// Why bytes from the peer are not an MQTT 3.1.1 packet. Always the peer's fault: the
/// connection carrying them should be dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("remaining length uses more than four bytes")]
    RemainingLengthTooLong,
    #[error("packet of {size} bytes exceeds the maximum of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("reserved packet type {0}")]
    ReservedPacketType(u8),
    #[error("invalid fixed header flags {flags:#06b} for {packet}")]
    InvalidFlags { packet: &'static str, flags: u8 },
    #[error("{packet} has remaining length {length}, which its type does not allow")]
    WrongLength { packet: &'static str, length: usize },
    #[error("{packet}: {field} runs past the end of the packet")]
    Truncated {
        packet: &'static str,
        field: &'static str,
    },
    #[error("{packet} has bytes after its last field")]
    TrailingBytes { packet: &'static str },
    #[error("{packet} carries packet identifier 0")]
    ZeroPacketId { packet: &'static str },
    #[error("{packet} carries invalid code {code:#04x}")]
    InvalidCode { packet: &'static str, code: u8 },
    #[error("invalid packet: {0}")]
    Codec(String),
}

/// Why a packet could not be encoded. The caller's fault (validated inputs never hit it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode packet: {0}")]
pub struct EncodeError(String);

/// The largest remaining length MQTT can express.
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// The fixed header of a frame whose remaining length is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The first byte: packet type and flags.
    pub first_byte: u8,
    /// Bytes of fixed header (1 + length of the remaining-length field).
    pub header_len: usize,
    /// The remaining length.
    pub body_len: usize,
}

impl FrameHeader {
    /// Bytes of the whole frame.
    pub fn frame_len(&self) -> usize {
        self.header_len + self.body_len
    }
}

/// Reads a fixed header. `Ok(None)` means more bytes are needed to know the length.
pub fn read_frame_header(buf: &[u8]) -> Result<Option<FrameHeader>, DecodeError> {
    let Some(&first_byte) = buf.first() else {
        return Ok(None);
    };
    let mut body_len = 0usize;
    for index in 0..4 {
        let Some(&byte) = buf.get(1 + index) else {
            return Ok(None);
        };
        body_len |= usize::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Ok(Some(FrameHeader {
                first_byte,
                header_len: 2 + index,
                body_len,
            }));
        }
    }
    Err(DecodeError::RemainingLengthTooLong)
}

/// Decodes the first packet in `buf`, if it is complete.
///
/// Returns the packet and the bytes it used, `Ok(None)` when more bytes are needed, or an error
/// for a frame that is malformed or larger than `max_packet` (checked from the header alone, so
/// an oversized packet is refused before it is buffered).
pub fn decode(buf: &[u8], max_packet: usize) -> Result<Option<(Packet<'_>, usize)>, DecodeError> {
    // The first byte alone can already be wrong: refuse it now rather than wait for a length
    // that a non-MQTT peer may never send.
    if let Some(&first_byte) = buf.first() {
        validate_first_byte(first_byte)?;
    }
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
    let Some(frame) = buf.get(..size) else {
        return Ok(None);
    };
    let body = frame.get(header.header_len..).unwrap_or_default();
    validate(header.first_byte, body)?;
    match mqttrs::decode_slice(frame) {
        Ok(Some(packet)) => Ok(Some((packet, size))),
        Ok(None) => Err(DecodeError::Codec("incomplete after validation".into())),
        Err(error) => Err(DecodeError::Codec(error.to_string())),
    }
}

/// Encodes one packet.
pub fn encode(packet: &Packet<'_>) -> Result<Vec<u8>, EncodeError> {
    let mut buf = vec![0u8; encoded_len_bound(packet)];
    let written = mqttrs::encode_slice(packet, &mut buf).map_err(|e| EncodeError(e.to_string()))?;
    buf.truncate(written);
    Ok(buf)
}

/// An upper bound of the encoded size: 5 header bytes plus every field with its prefix.
fn encoded_len_bound(packet: &Packet<'_>) -> usize {
    let body = match packet {
        Packet::Connect(c) => {
            let will = c
                .last_will
                .as_ref()
                .map_or(0, |w| w.topic.len() + w.message.len() + 4);
            12 + c.client_id.len()
                + will
                + c.username.map_or(0, |u| u.len() + 2)
                + c.password.map_or(0, |p| p.len() + 2)
        }
        Packet::Publish(p) => p.topic_name.len() + p.payload.len() + 4,
        Packet::Subscribe(s) => {
            2 + s
                .topics
                .iter()
                .map(|t| t.topic_path.len() + 3)
                .sum::<usize>()
        }
        Packet::Unsubscribe(u) => 2 + u.topics.iter().map(|t| t.len() + 2).sum::<usize>(),
        Packet::Suback(s) => 2 + s.return_codes.len(),
        _ => 2,
    };
    body + 5
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
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let bytes = self.take(2, field)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn pid(&mut self) -> Result<(), DecodeError> {
        match self.u16("packet identifier")? {
            0 => Err(DecodeError::ZeroPacketId {
                packet: self.packet,
            }),
            _ => Ok(()),
        }
    }

    /// A two-byte length followed by that many bytes.
    fn prefixed(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.u16(field)?;
        self.take(usize::from(len), field)
    }

    fn utf8(&mut self, field: &'static str) -> Result<(), DecodeError> {
        let bytes = self.prefixed(field)?;
        core::str::from_utf8(bytes)
            .map(|_| ())
            .map_err(|_| DecodeError::Codec(format!("{}: {field} is not UTF-8", self.packet)))
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

/// The name of a packet type, from the first byte of its fixed header.
pub fn packet_name(first_byte: u8) -> &'static str {
    PACKET_NAMES[usize::from(first_byte >> 4)]
}

/// Checks the packet type and the fixed header flags (section 2.2).
pub fn validate_first_byte(first_byte: u8) -> Result<(), DecodeError> {
    let kind = first_byte >> 4;
    let flags = first_byte & 0x0f;
    let packet = packet_name(first_byte);
    let flags_ok = match kind {
        0 | 15 => return Err(DecodeError::ReservedPacketType(kind)),
        3 => (flags >> 1) & 0b11 != 3, // PUBLISH: DUP and RETAIN free, QoS 3 is malformed
        6 | 8 | 10 => flags == 0b0010,
        _ => flags == 0,
    };
    if flags_ok {
        Ok(())
    } else {
        Err(DecodeError::InvalidFlags { packet, flags })
    }
}

/// Checks the structure of the body (sections 2 and 3 of the spec); the first byte is valid.
fn validate(first_byte: u8, body: &[u8]) -> Result<(), DecodeError> {
    let kind = first_byte >> 4;
    let flags = first_byte & 0x0f;
    let packet = packet_name(first_byte);
    let fixed_len = |len: usize| {
        if body.len() == len {
            Ok(())
        } else {
            Err(DecodeError::WrongLength {
                packet,
                length: body.len(),
            })
        }
    };
    let mut r = Body { packet, rest: body };
    match kind {
        1 => validate_connect(&mut r)?,
        2 => {
            fixed_len(2)?;
            let ack_flags = r.u8("acknowledge flags")?;
            let code = r.u8("return code")?;
            if ack_flags > 1 {
                return Err(DecodeError::InvalidCode {
                    packet,
                    code: ack_flags,
                });
            }
            if code > 5 {
                return Err(DecodeError::InvalidCode { packet, code });
            }
        }
        3 => {
            let qos = (flags >> 1) & 0b11;
            r.utf8("topic name")?;
            if qos > 0 {
                r.pid()?;
            }
            return Ok(()); // the rest is payload
        }
        4..=7 | 11 => {
            fixed_len(2)?;
            r.pid()?;
        }
        8 => {
            r.pid()?;
            loop {
                r.utf8("topic filter")?;
                let qos = r.u8("requested QoS")?;
                if qos > 2 {
                    return Err(DecodeError::InvalidCode { packet, code: qos });
                }
                if r.rest.is_empty() {
                    break;
                }
            }
        }
        9 => {
            r.pid()?;
            if r.rest.is_empty() {
                return Err(DecodeError::Truncated {
                    packet,
                    field: "return codes",
                });
            }
            if let Some(&code) = r.rest.iter().find(|&&c| c > 2 && c != 0x80) {
                return Err(DecodeError::InvalidCode { packet, code });
            }
            return Ok(());
        }
        10 => {
            r.pid()?;
            loop {
                r.utf8("topic filter")?;
                if r.rest.is_empty() {
                    break;
                }
            }
        }
        _ => fixed_len(0)?,
    }
    r.end()
}

fn validate_connect(r: &mut Body<'_>) -> Result<(), DecodeError> {
    r.utf8("protocol name")?;
    r.u8("protocol level")?;
    let flags = r.u8("connect flags")?;
    if flags & 1 != 0 {
        return Err(DecodeError::InvalidCode {
            packet: "CONNECT",
            code: flags,
        });
    }
    r.u16("keep alive")?;
    r.utf8("client identifier")?;
    if flags & 0b100 != 0 {
        r.utf8("will topic")?;
        r.prefixed("will message")?;
    }
    if flags & 0b1000_0000 != 0 {
        r.utf8("user name")?;
    }
    if flags & 0b0100_0000 != 0 {
        r.prefixed("password")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const MAX: usize = 1 << 20;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    /// Inputs that made mqttrs 0.4.1 `decode_slice` panic, and other malformed frames: each must
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
                decode(&hex(input), MAX).map(|_| ()),
                Err(expected.clone()),
                "{input}"
            );
        }
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
}
