//! Why a call was refused. The caller's business: nothing was sent, the connection is unharmed.

use super::OptionsError;
use super::StoreError;
use crate::topic::TopicError;

/// Why `subscribe`, `unsubscribe`, `publish` or an adapter's `connect` refused a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The caller gave an invalid topic name or filter.
    #[error("invalid topic: {0}")]
    InvalidTopic(#[from] TopicError),
    /// The offline queue is full; the publish was NOT accepted. Retry after `Published` events.
    #[error("publish queue is full ({0} messages waiting)")]
    QueueFull(usize),
    /// The message is larger than MQTT allows.
    #[error("payload of {0} bytes is too large for one MQTT packet")]
    PayloadTooLarge(usize),
    /// A subscribe or unsubscribe without any filter.
    #[error("at least one topic filter is required")]
    NoFilters,
    /// The adapter cannot use the broker URL (an adapter's `connect`).
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it cannot be used, for people.
        reason: String,
    },
    /// An option has a value the adapter cannot use (an adapter's `connect`).
    #[error("invalid options: {0}")]
    InvalidOptions(#[from] OptionsError),
    /// The publish cannot be stored before it is accepted (see [`crate::persist`]); it was NOT
    /// accepted.
    #[error("the publish was not accepted because it cannot be stored: {0}")]
    Storage(StoreError),
    /// The client was ended; it takes no more commands.
    #[error("the client was ended")]
    Ended,
}

impl CommandError {
    /// A short stable code for UIs and the JavaScript API (`error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::InvalidTopic(_) => "invalid_topic",
            CommandError::QueueFull(_) => "queue_full",
            CommandError::PayloadTooLarge(_) => "payload_too_large",
            CommandError::NoFilters => "no_filters",
            CommandError::InvalidUrl { .. } => "invalid_url",
            CommandError::InvalidOptions(_) => "invalid_options",
            CommandError::Storage(StoreError::Full) => "storage_full",
            CommandError::Storage(_) => "storage_unavailable",
            CommandError::Ended => "ended",
        }
    }
}
