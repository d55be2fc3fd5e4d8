//! Why bytes from the peer are not a packet: always the peer's fault.

use crate::text::{display_from_text, push_num, push_radix, Text};
use crate::wire::frame::RemainingLengthTooLong;

/// Why bytes from the peer are not an MQTT 3.1.1 packet. Always the peer's fault: the
/// connection carrying them should be dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The remaining length's variable-length encoding continues past its fourth byte
    /// (MQTT 3.1.1 §2.2.3 Remaining Length).
    RemainingLengthTooLong,
    /// The whole packet (fixed header included) is larger than the configured maximum.
    TooLarge {
        /// Size of the whole packet in bytes, fixed header included.
        size: usize,
        /// The maximum packet size allowed, in bytes.
        max: usize,
    },
    /// The packet type nibble is 0 or 15, both reserved (MQTT 3.1.1 §2.2.1). Holds the nibble.
    ReservedPacketType(u8),
    /// The fixed header's flag bits are not the ones the packet type requires
    /// (MQTT 3.1.1 §2.2.2 Flags).
    InvalidFlags {
        /// Name of the packet type, e.g. `"PUBREL"`.
        packet: &'static str,
        /// The low four bits of the first byte as received.
        flags: u8,
    },
    /// The remaining length is one a packet of this type cannot have (e.g. a PUBACK that is
    /// not 2 bytes long).
    WrongLength {
        /// Name of the packet type.
        packet: &'static str,
        /// The remaining length as received, in bytes.
        length: usize,
    },
    /// A field is cut off: the remaining length ends before it does.
    Truncated {
        /// Name of the packet type.
        packet: &'static str,
        /// Name of the field that was cut off, e.g. `"topic name"`.
        field: &'static str,
    },
    /// The remaining length goes on after the packet's last field.
    TrailingBytes {
        /// Name of the packet type.
        packet: &'static str,
    },
    /// A packet identifier is 0, which MQTT 3.1.1 §2.3.1 forbids.
    ZeroPacketId {
        /// Name of the packet type.
        packet: &'static str,
    },
    /// A byte that must be one of a fixed set of codes is not: a CONNACK return code, a
    /// SUBACK return code, a QoS, or CONNECT's flags.
    InvalidCode {
        /// Name of the packet type.
        packet: &'static str,
        /// The byte as received.
        code: u8,
    },
    /// A string field is not well-formed UTF-8 (MQTT 3.1.1 §1.5.3 UTF-8 encoded strings).
    NotUtf8 {
        /// Name of the packet type.
        packet: &'static str,
        /// Name of the string field, e.g. `"topic name"`.
        field: &'static str,
    },
    /// A CONNECT's protocol name and level are neither MQTT 3.1.1 (`MQTT`, 4) nor MQTT 3.1
    /// (`MQIsdp`, 3) (MQTT 3.1.1 §3.1.2.1 Protocol Name, §3.1.2.2 Protocol Level).
    UnknownProtocol {
        /// The protocol level byte as received.
        level: u8,
    },
    /// A server sent a packet only clients send [MQTT-3.1.0-2, 3.8, 3.10, 3.12, 3.14].
    ClientOnlyPacket {
        /// Name of the packet type.
        packet: &'static str,
    },
}

impl From<RemainingLengthTooLong> for DecodeError {
    fn from(_: RemainingLengthTooLong) -> DecodeError {
        DecodeError::RemainingLengthTooLong
    }
}

impl Text for DecodeError {
    fn write_text(&self, out: &mut String) {
        match self {
            DecodeError::RemainingLengthTooLong => {
                out.push_str("remaining length uses more than four bytes");
            }
            DecodeError::TooLarge { size, max } => {
                out.push_str("packet of ");
                push_num(out, *size as u64);
                out.push_str(" bytes exceeds the maximum of ");
                push_num(out, *max as u64);
            }
            DecodeError::ReservedPacketType(nibble) => {
                out.push_str("reserved packet type ");
                push_num(out, u64::from(*nibble));
            }
            DecodeError::InvalidFlags { packet, flags } => {
                out.push_str("invalid fixed header flags ");
                push_radix(out, *flags, 1, 4);
                out.push_str(" for ");
                out.push_str(packet);
            }
            DecodeError::WrongLength { packet, length } => {
                out.push_str(packet);
                out.push_str(" has remaining length ");
                push_num(out, *length as u64);
                out.push_str(", which its type does not allow");
            }
            DecodeError::Truncated { packet, field } => {
                for part in [packet, ": ", field, " runs past the end of the packet"] {
                    out.push_str(part);
                }
            }
            DecodeError::TrailingBytes { packet } => {
                out.push_str(packet);
                out.push_str(" has bytes after its last field");
            }
            DecodeError::ZeroPacketId { packet } => {
                out.push_str(packet);
                out.push_str(" carries packet identifier 0");
            }
            DecodeError::InvalidCode { packet, code } => {
                out.push_str(packet);
                out.push_str(" carries invalid code ");
                push_radix(out, *code, 4, 2);
            }
            DecodeError::NotUtf8 { packet, field } => {
                for part in [packet, ": ", field, " is not UTF-8"] {
                    out.push_str(part);
                }
            }
            DecodeError::UnknownProtocol { level } => {
                out.push_str("CONNECT asks for protocol level ");
                push_num(out, u64::from(*level));
                out.push_str(", not MQTT 3.1.1 (or 3.1)");
            }
            DecodeError::ClientOnlyPacket { packet } => {
                out.push_str("a server must not send ");
                out.push_str(packet);
            }
        }
    }
}

display_from_text!(DecodeError);

impl std::error::Error for DecodeError {}
