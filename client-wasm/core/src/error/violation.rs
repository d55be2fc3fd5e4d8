//! Valid MQTT at the wrong moment: what the session itself finds wrong with the broker.

use crate::text::{display_from_text, push_num, push_radix, Text};
use crate::topic::TopicError;

/// A packet that decodes but that a server must not send at this point. The broker's fault;
/// the connection is dropped and retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolViolation {
    /// The first byte from the peer is not a CONNACK's: it is not an MQTT server (an HTTP
    /// error page, say). MQTT 3.1.1 §3.2: the first packet from the server is CONNACK.
    NotConnack {
        /// Name of the packet type the first byte's high nibble names (`"reserved"` for 0 or 15).
        found: &'static str,
        /// The first byte received.
        first_byte: u8,
    },
    /// Another packet arrived before the CONNACK (MQTT 3.1.1 §3.2).
    BeforeConnack {
        /// Name of the packet type that came first.
        packet: &'static str,
    },
    /// A CONNACK on a connection that already has one (MQTT 3.1.1 §3.2: one per connection).
    SecondConnack,
    /// A packet only clients send (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT).
    ClientOnlyPacket {
        /// Name of the packet type.
        packet: &'static str,
    },
    /// A SUBACK whose packet id belongs to an UNSUBSCRIBE (MQTT 3.1.1 §3.9.3).
    SubackForUnsubscribe {
        /// The packet identifier the SUBACK carries (MQTT 3.1.1 §2.3.1).
        pid: u16,
    },
    /// An UNSUBACK whose packet id belongs to a SUBSCRIBE (MQTT 3.1.1 §3.11).
    UnsubackForSubscribe {
        /// The packet identifier the UNSUBACK carries (MQTT 3.1.1 §2.3.1).
        pid: u16,
    },
    /// A PUBLISH whose topic name a client must never receive: empty, with a wildcard or
    /// U+0000 ([MQTT-3.3.2-2], [MQTT-4.7.3-1], [MQTT-1.5.3-2]).
    InvalidTopicName(TopicError),
    /// CONNACK says the broker kept a session for a clean-session connection, which it must
    /// not ([MQTT-3.2.2-1]): the client's state and the broker's would disagree.
    SessionPresentOnCleanSession,
    /// A SUBACK without one return code per filter (MQTT 3.1.1 §3.9.3, MQTT-3.8.4-5).
    SubackCountMismatch {
        /// The packet identifier the SUBACK carries.
        pid: u16,
        /// How many return codes the SUBACK holds (MQTT 3.1.1 §3.9.3 Payload).
        codes: usize,
        /// How many topic filters the SUBSCRIBE sent.
        filters: usize,
    },
}

impl Text for ProtocolViolation {
    fn write_text(&self, out: &mut String) {
        match self {
            ProtocolViolation::NotConnack { found, first_byte } => {
                out.push_str("expected CONNACK, got ");
                out.push_str(found);
                out.push_str(" (first byte ");
                push_radix(out, *first_byte, 4, 2);
                out.push(')');
            }
            ProtocolViolation::BeforeConnack { packet } => {
                out.push_str(packet);
                out.push_str(" before CONNACK");
            }
            ProtocolViolation::SecondConnack => out.push_str("a second CONNACK on one connection"),
            ProtocolViolation::ClientOnlyPacket { packet } => {
                out.push_str("a server must not send ");
                out.push_str(packet);
            }
            ProtocolViolation::SubackForUnsubscribe { pid } => {
                out.push_str("SUBACK ");
                push_num(out, u64::from(*pid));
                out.push_str(" answers an UNSUBSCRIBE");
            }
            ProtocolViolation::UnsubackForSubscribe { pid } => {
                out.push_str("UNSUBACK ");
                push_num(out, u64::from(*pid));
                out.push_str(" answers a SUBSCRIBE");
            }
            ProtocolViolation::InvalidTopicName(e) => {
                out.push_str("PUBLISH with an invalid topic name: ");
                e.write_text(out);
            }
            ProtocolViolation::SessionPresentOnCleanSession => {
                out.push_str("CONNACK says session present for a clean session [MQTT-3.2.2-1]");
            }
            ProtocolViolation::SubackCountMismatch {
                pid,
                codes,
                filters,
            } => {
                out.push_str("SUBACK ");
                push_num(out, u64::from(*pid));
                out.push_str(" has ");
                push_num(out, *codes as u64);
                out.push_str(" codes for ");
                push_num(out, *filters as u64);
                out.push_str(" filters");
            }
        }
    }
}

display_from_text!(ProtocolViolation);

impl std::error::Error for ProtocolViolation {}
