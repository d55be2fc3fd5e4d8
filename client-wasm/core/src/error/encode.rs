//! Why a packet could not be encoded: the caller's fault.

use crate::text::{display_from_text, Text};

/// Why a packet could not be encoded. The caller's fault (validated inputs never hit it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// A string or binary field is longer than its two-byte length prefix can say
    /// (MQTT 3.1.1 §1.5.3). Holds the field's name.
    FieldTooLong(&'static str),
    /// The remaining length would exceed 268,435,455 bytes, the most four bytes of Remaining
    /// Length can encode (MQTT 3.1.1 §2.2.3).
    TooLarge,
    /// A SUBSCRIBE or UNSUBSCRIBE with an empty list of filters ([MQTT-3.8.3-3], [MQTT-3.10.3-2]).
    NoFilters,
    /// mqttrs 0.4.1 writes the 3.1 name ("MQIsdp") with a wrong length and level.
    UnsupportedProtocol,
    /// mqttrs refused a packet our checks passed, or wrote another length than they computed.
    Encoder,
}

impl Text for EncodeError {
    fn write_text(&self, out: &mut String) {
        out.push_str("cannot encode packet: ");
        match self {
            EncodeError::FieldTooLong(field) => {
                out.push_str(field);
                out.push_str(" is longer than 65,535 bytes");
            }
            EncodeError::TooLarge => out.push_str("larger than MQTT's 268,435,455-byte limit"),
            EncodeError::NoFilters => {
                out.push_str("a SUBSCRIBE or UNSUBSCRIBE needs at least one filter");
            }
            EncodeError::UnsupportedProtocol => out.push_str("only MQTT 3.1.1 CONNECTs are sent"),
            EncodeError::Encoder => out.push_str("the encoder disagreed with its checks"),
        }
    }
}

display_from_text!(EncodeError);

impl std::error::Error for EncodeError {}
