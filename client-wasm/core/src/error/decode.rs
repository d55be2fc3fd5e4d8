//! Why bytes from the peer are not a packet: always the peer's fault.

use crate::wire::frame::RemainingLengthTooLong;

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
    #[error("{packet}: {field} is not UTF-8")]
    NotUtf8 {
        packet: &'static str,
        field: &'static str,
    },
    #[error("CONNECT asks for protocol level {level}, not MQTT 3.1.1 (or 3.1)")]
    UnknownProtocol { level: u8 },
    /// A server sent a packet only clients send [MQTT-3.1.0-2, 3.8, 3.10, 3.12, 3.14].
    #[error("a server must not send {packet}")]
    ClientOnlyPacket { packet: &'static str },
}

impl From<RemainingLengthTooLong> for DecodeError {
    fn from(_: RemainingLengthTooLong) -> DecodeError {
        DecodeError::RemainingLengthTooLong
    }
}
