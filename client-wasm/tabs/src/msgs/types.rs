//! The message types: one variant per kind, typed fields.

use core::time::Duration;

use mqtt_core::{ConnectionError, Message, QoS};

/// A tab's id on the channel (random per tab).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TabId(pub u64);

/// A follower's request: the tab that made it and its number there (0: needs no reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestKey {
    pub tab: TabId,
    pub number: u64,
}

/// The leader's connection, as every tab shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    Connected {
        session_present: bool,
    },
    Reconnecting {
        attempt: u32,
    },
    /// Lost; `reconnect_in` is `None` when the session will not retry. Errors other than
    /// refusals, close frames, timeouts and "connected elsewhere" keep only their words and
    /// whether they are retried.
    Lost {
        error: ConnectionError,
        reconnect_in: Option<Duration>,
        attempt: u32,
    },
}

/// Why the leader refused or failed a follower's request (its stable code). On the wire: its
/// discriminant, which is its position in `ALL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Refusal {
    /// A QoS 2 message whose session the broker dropped after PUBREL (`session_lost`).
    SessionLost,
    StorageFull,
    StorageUnavailable,
    QueueFull,
    PayloadTooLarge,
    InvalidTopic,
    NoFilters,
    Ended,
    /// Any other code.
    Other,
}

impl Refusal {
    pub(super) const ALL: [Refusal; 9] = [
        Refusal::SessionLost,
        Refusal::StorageFull,
        Refusal::StorageUnavailable,
        Refusal::QueueFull,
        Refusal::PayloadTooLarge,
        Refusal::InvalidTopic,
        Refusal::NoFilters,
        Refusal::Ended,
        Refusal::Other,
    ];

    /// The refusal a stable code names (`CommandError::code`, `PublishFailure::code`).
    pub fn from_code(code: &str) -> Refusal {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .unwrap_or(Refusal::Other)
    }

    pub fn code(self) -> &'static str {
        match self {
            Refusal::SessionLost => "session_lost",
            Refusal::StorageFull => "storage_full",
            Refusal::StorageUnavailable => "storage_unavailable",
            Refusal::QueueFull => "queue_full",
            Refusal::PayloadTooLarge => "payload_too_large",
            Refusal::InvalidTopic => "invalid_topic",
            Refusal::NoFilters => "no_filters",
            Refusal::Ended => "ended",
            Refusal::Other => "refused",
        }
    }

    pub(super) fn from_byte(byte: u8) -> Option<Refusal> {
        Self::ALL.get(usize::from(byte)).copied()
    }

    pub(super) fn byte(self) -> u8 {
        self as u8
    }
}

/// The content of a publish handed between tabs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: QoS,
    pub retain: bool,
}

/// One message on the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabMessage {
    Hi {
        from: TabId,
    },
    /// A new leader (to every tab), or the answer to one tab's `Hi`.
    Hello {
        from: TabId,
        to: Option<TabId>,
    },
    State {
        /// `Some`: the answer to one tab's `Hi`.
        to: Option<TabId>,
        state: LinkState,
    },
    Delivery(Message),
    Publish {
        request: RequestKey,
        leader: TabId,
        publish: Publish,
    },
    Adopt {
        request: RequestKey,
        leader: TabId,
        publish: Publish,
    },
    Subscribe {
        request: RequestKey,
        leader: TabId,
        filters: Vec<(String, QoS)>,
    },
    Unsubscribe {
        request: RequestKey,
        leader: TabId,
        filters: Vec<String>,
    },
    Bye {
        from: TabId,
    },
    TakeOver {
        from: TabId,
    },
    Accepted {
        request: RequestKey,
        stored: bool,
    },
    Done {
        request: RequestKey,
        /// A subscribe's granted QoS per filter (`None`: refused by the broker).
        granted: Vec<Option<QoS>>,
    },
    Refused {
        request: RequestKey,
        reason: Refusal,
    },
}

impl TabMessage {
    /// The one tab this message is for (`None`: every tab).
    pub fn to(&self) -> Option<TabId> {
        match self {
            TabMessage::State { to, .. } | TabMessage::Hello { to, .. } => *to,
            TabMessage::Accepted { request, .. }
            | TabMessage::Done { request, .. }
            | TabMessage::Refused { request, .. } => Some(request.tab),
            _ => None,
        }
    }
}
