//! Why bytes from the peer are not a packet: always the peer's fault.

use crate::wire::frame::RemainingLengthTooLong;

/// Why bytes from the peer are not an MQTT 3.1.1 packet. Always the peer's fault: the
/// connection carrying them should be dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The remaining length's variable-length encoding continues past its fourth byte
    /// (MQTT 3.1.1 §2.2.3 Remaining Length).
    #[error("remaining length uses more than four bytes")]
    RemainingLengthTooLong,
    /// The whole packet (fixed header included) is larger than the configured maximum.
    #[error("packet of {size} bytes exceeds the maximum of {max}")]
    TooLarge {
        /// Size of the whole packet in bytes, fixed header included.
        size: usize,
        /// The maximum packet size allowed, in bytes.
        max: usize,
    },
    /// The packet type nibble is 0 or 15, both reserved (MQTT 3.1.1 §2.2.1). Holds the nibble.
    #[error("reserved packet type {0}")]
    ReservedPacketType(u8),
    /// The fixed header's flag bits are not the ones the packet type requires
    /// (MQTT 3.1.1 §2.2.2 Flags).
    #[error("invalid fixed header flags {flags:#06b} for {packet}")]
    InvalidFlags {
        /// Name of the packet type, e.g. `"PUBREL"`.
        packet: &'static str,
        /// The low four bits of the first byte as received.
        flags: u8,
    },
    /// The remaining length is one a packet of this type cannot have (e.g. a PUBACK that is
    /// not 2 bytes long).
    #[error("{packet} has remaining length {length}, which its type does not allow")]
    WrongLength {
        /// Name of the packet type.
        packet: &'static str,
        /// The remaining length as received, in bytes.
        length: usize,
    },
    /// A field is cut off: the remaining length ends before it does.
    #[error("{packet}: {field} runs past the end of the packet")]
    Truncated {
        /// Name of the packet type.
        packet: &'static str,
        /// Name of the field that was cut off, e.g. `"topic name"`.
        field: &'static str,
    },
    /// The remaining length goes on after the packet's last field.
    #[error("{packet} has bytes after its last field")]
    TrailingBytes {
        /// Name of the packet type.
        packet: &'static str,
    },
    /// A packet identifier is 0, which MQTT 3.1.1 §2.3.1 forbids.
    #[error("{packet} carries packet identifier 0")]
    ZeroPacketId {
        /// Name of the packet type.
        packet: &'static str,
    },
    /// A byte that must be one of a fixed set of codes is not: a CONNACK return code, a
    /// SUBACK return code, a QoS, or CONNECT's flags.
    #[error("{packet} carries invalid code {code:#04x}")]
    InvalidCode {
        /// Name of the packet type.
        packet: &'static str,
        /// The byte as received.
        code: u8,
    },
    /// A string field is not well-formed UTF-8 (MQTT 3.1.1 §1.5.3 UTF-8 encoded strings).
    #[error("{packet}: {field} is not UTF-8")]
    NotUtf8 {
        /// Name of the packet type.
        packet: &'static str,
        /// Name of the string field, e.g. `"topic name"`.
        field: &'static str,
    },
    /// A CONNECT's protocol name and level are neither MQTT 3.1.1 (`MQTT`, 4) nor MQTT 3.1
    /// (`MQIsdp`, 3) (MQTT 3.1.1 §3.1.2.1 Protocol Name, §3.1.2.2 Protocol Level).
    #[error("CONNECT asks for protocol level {level}, not MQTT 3.1.1 (or 3.1)")]
    UnknownProtocol {
        /// The protocol level byte as received.
        level: u8,
    },
    /// A server sent a packet only clients send [MQTT-3.1.0-2, 3.8, 3.10, 3.12, 3.14].
    #[error("a server must not send {packet}")]
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
