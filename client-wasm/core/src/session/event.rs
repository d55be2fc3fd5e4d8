//! What the session reports to its user, and what it asks of its transport.

use core::time::Duration;

use crate::{ConnectionError, QoS};

/// Identifies one `publish` call until its `Published` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublishId(pub u64);

/// Identifies one `subscribe` or `unsubscribe` call until its acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// An application message received from the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
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
        session_present: bool,
    },
    /// The connection is gone. `reconnect_in` is `None` when the session will not retry.
    ConnectionLost {
        error: ConnectionError,
        reconnect_in: Option<Duration>,
        attempt: u32,
    },
    /// The backoff elapsed; a new transport is being opened.
    Reconnecting {
        attempt: u32,
    },
    /// `disconnect` finished: DISCONNECT was sent (if connected) and nothing will be retried.
    Disconnected,
    Message(Message),
    /// SUBACK: per filter, the granted QoS or `None` when the broker refused it (code 0x80).
    Subscribed {
        request: RequestId,
        granted: Vec<Option<QoS>>,
    },
    Unsubscribed {
        request: RequestId,
    },
    /// QoS 0: handed to the transport. QoS 1: PUBACK. QoS 2: PUBCOMP.
    Published {
        id: PublishId,
    },
}

/// What the session asks of the runtime adapter's transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportAction {
    /// Open a connection, then call `handle_transport_open` (or `handle_transport_closed`).
    Open,
    /// Send what `poll_transmit` returned, then close the connection. No need to report back.
    Close,
}
