//! Why a packet could not be encoded: the caller's fault.

/// Why a packet could not be encoded. The caller's fault (validated inputs never hit it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("cannot encode packet: {0} is longer than 65,535 bytes")]
    FieldTooLong(&'static str),
    #[error("cannot encode packet: larger than MQTT's 268,435,455-byte limit")]
    TooLarge,
    #[error("cannot encode packet: a SUBSCRIBE or UNSUBSCRIBE needs at least one filter")]
    NoFilters,
    /// mqttrs 0.4.1 writes the 3.1 name ("MQIsdp") with a wrong length and level.
    #[error("cannot encode packet: only MQTT 3.1.1 CONNECTs are sent")]
    UnsupportedProtocol,
    /// mqttrs refused a packet our checks passed, or wrote another length than they computed.
    #[error("cannot encode packet: the encoder disagreed with its checks")]
    Encoder,
}
