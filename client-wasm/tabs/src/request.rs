//! What a page asks of its connection: the browser crate's command type.

use mqtt_core::{PublishId, QoS, RequestId};

/// A call of a page on its client, run on the session by the tab holding the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Publish {
        topic: String,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
    },
    Subscribe(Vec<(String, QoS)>),
    Unsubscribe(Vec<String>),
}

/// What the session gave for a request: the id its outcome event will carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handle {
    Publish(PublishId),
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
