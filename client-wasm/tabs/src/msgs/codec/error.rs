//! Why bytes are not a tab message.

use super::layout::FORMAT;

/// Why bytes from another tab are not a [`TabMessage`](crate::msgs::TabMessage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The channel carried something other than bytes.
    NotBytes,
    /// Written by a build with another format (or not by a tab at all).
    Format(u8),
    /// A kind byte no message has.
    UnknownKind(u8),
    /// The bytes end inside a field.
    Truncated,
    /// Bytes left after the message.
    TrailingBytes,
    /// A string that is not UTF-8.
    InvalidUtf8,
    /// A number too large for its field, or a tag no variant has.
    OutOfRange,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::NotBytes => f.write_str("a tab message is bytes"),
            DecodeError::Format(v) => write!(f, "tab message of format {v}, not {FORMAT}"),
            DecodeError::UnknownKind(k) => write!(f, "unknown tab message kind {k}"),
            DecodeError::Truncated => f.write_str("tab message truncated"),
            DecodeError::TrailingBytes => f.write_str("bytes after the tab message"),
            DecodeError::InvalidUtf8 => f.write_str("a string of a tab message is not UTF-8"),
            DecodeError::OutOfRange => f.write_str("a field of a tab message is out of range"),
        }
    }
}

impl std::error::Error for DecodeError {}
