//! What the session reports to its user, and what it asks of its transport.

use core::time::Duration;

use crate::error::{CommandError, ConnectionError, StoreError};
use crate::text::{display_from_text, Text};
use crate::QoS;

/// Identifies one `publish` call until its `Published` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublishId(
    /// The number itself: unique within one session, counted up from 1.
    pub u64,
);

/// Identifies one `subscribe` or `unsubscribe` call until its acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(
    /// The number itself: unique within one session.
    pub u64,
);

/// An application message received from the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The topic name it was published to (MQTT 3.1.1 §3.3.2.1 Topic Name).
    pub topic: String,
    /// The application message, as published (MQTT 3.1.1 §3.3.3 Payload).
    pub payload: Vec<u8>,
    /// The QoS it was delivered with: the lower of the publisher's and the subscription's
    /// (MQTT 3.1.1 §3.3.1.2 QoS).
    pub qos: QoS,
    /// The broker sent it as a retained message, on subscribing (MQTT 3.1.1 §3.3.1.3 RETAIN).
    pub retain: bool,
    /// The broker marked it as a possible redelivery (QoS 1 may repeat; QoS 2 never does here).
    pub dup: bool,
}

/// Something the user of the session should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// CONNACK accepted. `session_present` says whether the broker kept the previous session.
    Connected {
        /// The CONNACK's Session Present flag (MQTT 3.1.1 §3.2.2.2).
        session_present: bool,
    },
    /// The connection is gone. `reconnect_in` is `None` when the session will not retry.
    ConnectionLost {
        /// Why the connection died.
        error: ConnectionError,
        /// When the next attempt starts, counted from this event; `None`: no retry.
        reconnect_in: Option<Duration>,
        /// Reconnect attempts since the last accepted CONNACK, counting the one `reconnect_in`
        /// announces.
        attempt: u32,
    },
    /// The backoff elapsed; a new transport is being opened.
    Reconnecting {
        /// Reconnect attempts since the last accepted CONNACK, this one included (from 1).
        attempt: u32,
    },
    /// `disconnect` finished: DISCONNECT was sent (if connected) and nothing will be retried.
    Disconnected,
    /// A PUBLISH from the broker. A QoS 2 message is delivered on its first PUBLISH; the
    /// broker's resends of it before PUBREL are not delivered again.
    Message(Message),
    /// SUBACK: per filter, the granted QoS or `None` when the broker refused it (code 0x80).
    Subscribed {
        /// The id `subscribe` returned.
        request: RequestId,
        /// One entry per filter, in the order they were given (MQTT 3.1.1 §3.9.3 Payload).
        granted: Vec<Option<QoS>>,
    },
    /// UNSUBACK: the broker removed the filters of one `unsubscribe` call.
    Unsubscribed {
        /// The id `unsubscribe` returned.
        request: RequestId,
    },
    /// QoS 0: handed to the transport. QoS 1: PUBACK. QoS 2: PUBCOMP.
    Published {
        /// The id `publish` returned.
        id: PublishId,
    },
    /// The publish will not complete, and the session will not retry it. Each accepted publish
    /// ends in exactly one `Published` or one `PublishFailed`.
    PublishFailed {
        /// The id `publish` returned.
        id: PublishId,
        /// Why it will not complete.
        reason: PublishFailure,
    },
}

/// Why an accepted publish could not be completed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublishFailure {
    /// QoS 2: PUBREC had arrived and PUBREL was sent, then the broker came back without the
    /// session (CONNACK session present 0, [MQTT-3.1.2-6]). It forwarded the message if the
    /// PUBREL reached it and discarded it otherwise; nothing the client can do tells which, and
    /// sending it again could deliver it twice.
    SessionLostBeforePubcomp,
    /// Its row could not be written to the store before acceptance (see [`crate::persist`]):
    /// the message was never accepted, is not sent, and nothing accepted before it is lost.
    NotStored(StoreError),
    /// Refused when its row was committed (the queue filled meanwhile): never accepted.
    Refused(CommandError),
    /// The browser tab holding a connection shared by several tabs refused the publish that
    /// this tab handed to it (its queue or its store was full); the code says which
    /// (`queue_full`, `storage_full`...). Nothing was accepted.
    RefusedBySharedConnection(&'static str),
}

impl PublishFailure {
    /// A short stable code for UIs and the JavaScript API.
    pub fn code(&self) -> &'static str {
        match self {
            PublishFailure::SessionLostBeforePubcomp => "session_lost",
            PublishFailure::NotStored(StoreError::Full) => "storage_full",
            PublishFailure::NotStored(_) => "storage_unavailable",
            PublishFailure::Refused(e) => e.code(),
            PublishFailure::RefusedBySharedConnection(code) => code,
        }
    }
}

impl Text for PublishFailure {
    fn write_text(&self, out: &mut String) {
        match self {
            PublishFailure::SessionLostBeforePubcomp => out.push_str(
                "the broker discarded the session before confirming this QoS 2 message \
                 (PUBCOMP): it may or may not have been delivered",
            ),
            PublishFailure::NotStored(e) => {
                out.push_str("the publish was not accepted because it cannot be stored: ");
                e.write_text(out);
            }
            PublishFailure::Refused(e) => {
                out.push_str("the publish was not accepted: ");
                e.write_text(out);
            }
            PublishFailure::RefusedBySharedConnection(code) => {
                out.push_str("the tab holding the shared connection refused the publish (");
                out.push_str(code);
                out.push(')');
            }
        }
    }
}

display_from_text!(PublishFailure);

impl std::error::Error for PublishFailure {}

/// What the session asks of the runtime adapter's transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportAction {
    /// Open a connection, then call `handle_transport_open` (or `handle_transport_closed`).
    Open,
    /// Send what `poll_transmit` returned, then close the connection. No need to report back.
    Close,
}
