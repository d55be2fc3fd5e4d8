//! Valid MQTT at the wrong moment: what the session itself finds wrong with the broker.

use crate::topic::TopicError;

/// A packet that decodes but that a server must not send at this point. The broker's fault;
/// the connection is dropped and retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolViolation {
    /// The first byte from the peer is not a CONNACK's: it is not an MQTT server (an HTTP
    /// error page, say). MQTT 3.1.1 §3.2: the first packet from the server is CONNACK.
    #[error("expected CONNACK, got {found} (first byte {first_byte:#04x})")]
    NotConnack {
        /// Name of the packet type the first byte's high nibble names (`"reserved"` for 0 or 15).
        found: &'static str,
        /// The first byte received.
        first_byte: u8,
    },
    /// Another packet arrived before the CONNACK (MQTT 3.1.1 §3.2).
    #[error("{packet} before CONNACK")]
    BeforeConnack {
        /// Name of the packet type that came first.
        packet: &'static str,
    },
    /// A CONNACK on a connection that already has one (MQTT 3.1.1 §3.2: one per connection).
    #[error("a second CONNACK on one connection")]
    SecondConnack,
    /// A packet only clients send (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT).
    #[error("a server must not send {packet}")]
    ClientOnlyPacket {
        /// Name of the packet type.
        packet: &'static str,
    },
    /// A SUBACK whose packet id belongs to an UNSUBSCRIBE (MQTT 3.1.1 §3.9.3).
    #[error("SUBACK {pid} answers an UNSUBSCRIBE")]
    SubackForUnsubscribe {
        /// The packet identifier the SUBACK carries (MQTT 3.1.1 §2.3.1).
        pid: u16,
    },
    /// An UNSUBACK whose packet id belongs to a SUBSCRIBE (MQTT 3.1.1 §3.11).
    #[error("UNSUBACK {pid} answers a SUBSCRIBE")]
    UnsubackForSubscribe {
        /// The packet identifier the UNSUBACK carries (MQTT 3.1.1 §2.3.1).
        pid: u16,
    },
    /// A PUBLISH whose topic name a client must never receive: empty, with a wildcard or
    /// U+0000 ([MQTT-3.3.2-2], [MQTT-4.7.3-1], [MQTT-1.5.3-2]).
    #[error("PUBLISH with an invalid topic name: {0}")]
    InvalidTopicName(TopicError),
    /// CONNACK says the broker kept a session for a clean-session connection, which it must
    /// not ([MQTT-3.2.2-1]): the client's state and the broker's would disagree.
    #[error("CONNACK says session present for a clean session [MQTT-3.2.2-1]")]
    SessionPresentOnCleanSession,
    /// A SUBACK without one return code per filter (MQTT 3.1.1 §3.9.3, MQTT-3.8.4-5).
    #[error("SUBACK {pid} has {codes} codes for {filters} filters")]
    SubackCountMismatch {
        /// The packet identifier the SUBACK carries.
        pid: u16,
        /// How many return codes the SUBACK holds (MQTT 3.1.1 §3.9.3 Payload).
        codes: usize,
        /// How many topic filters the SUBSCRIBE sent.
        filters: usize,
    },
}
