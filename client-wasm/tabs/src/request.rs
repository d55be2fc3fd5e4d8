//! What a page asks of its connection: the browser crate's command type.

use mqtt_core::{PublishId, QoS, RequestId};

/// A call of a page on its client, run on the session by the tab holding the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Publish a message.
    Publish {
        /// The topic name.
        topic: String,
        /// The payload.
        payload: Vec<u8>,
        /// Its QoS.
        qos: QoS,
        /// The RETAIN flag.
        retain: bool,
    },
    /// Subscribe to filters, each with its QoS.
    Subscribe(Vec<(String, QoS)>),
    /// Unsubscribe from filters.
    Unsubscribe(Vec<String>),
}

/// What the session gave for a request: the id its outcome event will carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handle {
    /// A publish, until `Published`/`PublishFailed`.
    Publish(PublishId),
    /// A subscribe or unsubscribe, until its acknowledgement.
    Request(RequestId),
}

impl Handle {
    /// The number the caller's event carries.
    pub fn number(self) -> u64 {
        match self {
            Handle::Publish(id) => id.0,
            Handle::Request(id) => id.0,
        }
    }
}
