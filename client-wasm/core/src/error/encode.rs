//! Why a packet could not be encoded: the caller's fault.

/// Why a packet could not be encoded. The caller's fault (validated inputs never hit it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A string or binary field is longer than its two-byte length prefix can say
    /// (MQTT 3.1.1 §1.5.3). Holds the field's name.
    #[error("cannot encode packet: {0} is longer than 65,535 bytes")]
    FieldTooLong(&'static str),
    /// The remaining length would exceed 268,435,455 bytes, the most four bytes of Remaining
    /// Length can encode (MQTT 3.1.1 §2.2.3).
    #[error("cannot encode packet: larger than MQTT's 268,435,455-byte limit")]
    TooLarge,
    /// A SUBSCRIBE or UNSUBSCRIBE with an empty list of filters ([MQTT-3.8.3-3], [MQTT-3.10.3-2]).
    #[error("cannot encode packet: a SUBSCRIBE or UNSUBSCRIBE needs at least one filter")]
    NoFilters,
    /// mqttrs 0.4.1 writes the 3.1 name ("MQIsdp") with a wrong length and level.
    #[error("cannot encode packet: only MQTT 3.1.1 CONNECTs are sent")]
    UnsupportedProtocol,
    /// mqttrs refused a packet our checks passed, or wrote another length than they computed.
    #[error("cannot encode packet: the encoder disagreed with its checks")]
    Encoder,
}
