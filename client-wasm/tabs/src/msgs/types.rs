//! The message types: one variant per kind, typed fields.

use core::time::Duration;

use mqtt_core::{ConnectionError, Message, QoS};

/// A tab's id on the channel (random per tab).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TabId(
    /// The id.
    pub u64,
);

/// A follower's request: the tab that made it and its number there (0: needs no reply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestKey {
    /// The tab that made it.
    pub tab: TabId,
    /// Its number in that tab.
    pub number: u64,
}

/// The leader's connection, as every tab shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// CONNACK accepted.
    Connected {
        /// The broker kept the session.
        session_present: bool,
    },
    /// A new transport is being opened.
    Reconnecting {
        /// The how-manieth attempt.
        attempt: u32,
    },
    /// Lost; `reconnect_in` is `None` when the session will not retry. Errors other than
    /// refusals, close frames, timeouts and "connected elsewhere" keep only their words and
    /// whether they are retried.
    Lost {
        /// Why.
        error: ConnectionError,
        /// When the session tries again (`None`: it does not).
        reconnect_in: Option<Duration>,
        /// The attempt that was lost.
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
    /// The leader's store is full (`storage_full`).
    StorageFull,
    /// The leader's store cannot be used (`storage_unavailable`).
    StorageUnavailable,
    /// The leader's queue is full (`queue_full`).
    QueueFull,
    /// The payload is too large (`payload_too_large`).
    PayloadTooLarge,
    /// A topic or filter is invalid (`invalid_topic`).
    InvalidTopic,
    /// A subscribe or unsubscribe without filters (`no_filters`).
    NoFilters,
    /// The leader's client was ended (`ended`).
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

    /// The stable code (`CommandError::code`, `PublishFailure::code`).
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
    /// The topic name.
    pub topic: String,
    /// The payload, as published.
    pub payload: Vec<u8>,
    /// Its QoS.
    pub qos: QoS,
    /// The RETAIN flag.
    pub retain: bool,
}

/// One message on the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabMessage {
    /// A new tab asks for the leader and the connection state.
    Hi {
        /// The tab that posts it.
        from: TabId,
    },
    /// A new leader (to every tab), or the answer to one tab's `Hi`.
    Hello {
        /// The leader.
        from: TabId,
        /// `Some`: the answer to this tab's `Hi`.
        to: Option<TabId>,
    },
    /// The connection state.
    State {
        /// `Some`: the answer to one tab's `Hi`.
        to: Option<TabId>,
        /// The state.
        state: LinkState,
    },
    /// A message the broker delivered.
    Delivery(Message),
    /// A publish to run.
    Publish {
        /// The request.
        request: RequestKey,
        /// The leader it is for.
        leader: TabId,
        /// What to publish.
        publish: Publish,
    },
    /// A publish an earlier leader accepted and stored: to finish from the store.
    Adopt {
        /// The request.
        request: RequestKey,
        /// The leader it is for.
        leader: TabId,
        /// What to publish.
        publish: Publish,
    },
    /// Filters to subscribe (request number 0: a re-subscription, no reply).
    Subscribe {
        /// The request.
        request: RequestKey,
        /// The leader it is for.
        leader: TabId,
        /// Filters and their QoS.
        filters: Vec<(String, QoS)>,
    },
    /// Filters to unsubscribe.
    Unsubscribe {
        /// The request.
        request: RequestKey,
        /// The leader it is for.
        leader: TabId,
        /// Filters.
        filters: Vec<String>,
    },
    /// The tab ended; its filters are no longer its.
    Bye {
        /// The tab that posts it.
        from: TabId,
    },
    /// "Take over" after "connected elsewhere": the leader's to do.
    TakeOver {
        /// The tab that posts it.
        from: TabId,
    },
    /// The request is running.
    Accepted {
        /// The request.
        request: RequestKey,
        /// Its row is committed: the next leader restores it.
        stored: bool,
    },
    /// The request completed.
    Done {
        /// The request.
        request: RequestKey,
        /// A subscribe's granted QoS per filter (`None`: refused by the broker).
        granted: Vec<Option<QoS>>,
    },
    /// The request was refused, or the publish failed.
    Refused {
        /// The request.
        request: RequestKey,
        /// Why.
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

    /// The tab that posted it, for the kinds only a follower posts (`None`: a leader's kind).
    pub fn follower(&self) -> Option<TabId> {
        match self {
            TabMessage::Hi { from } | TabMessage::Bye { from } | TabMessage::TakeOver { from } => {
                Some(*from)
            }
            TabMessage::Publish { request, .. }
            | TabMessage::Adopt { request, .. }
            | TabMessage::Subscribe { request, .. }
            | TabMessage::Unsubscribe { request, .. } => Some(request.tab),
            _ => None,
        }
    }
}
