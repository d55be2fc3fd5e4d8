//! Why a call was refused. The caller's business: nothing was sent, the connection is unharmed.

use super::OptionsError;
use super::StoreError;
use crate::text::{display_from_text, push_num, Text};
use crate::topic::TopicError;

/// Why `subscribe`, `unsubscribe`, `publish` or an adapter's `connect` refused a call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandError {
    /// The caller gave an invalid topic name or filter.
    InvalidTopic(TopicError),
    /// The offline queue is full; the publish was NOT accepted. Retry after `Published` events.
    QueueFull(usize),
    /// The message is larger than MQTT allows.
    PayloadTooLarge(usize),
    /// A subscribe or unsubscribe without any filter.
    NoFilters,
    /// The adapter cannot use the broker URL (an adapter's `connect`).
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it cannot be used, for people.
        reason: String,
    },
    /// An option has a value the adapter cannot use (an adapter's `connect`).
    InvalidOptions(OptionsError),
    /// The publish cannot be stored before it is accepted (see [`crate::persist`]); it was NOT
    /// accepted.
    Storage(StoreError),
    /// The client was ended; it takes no more commands.
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

impl Text for CommandError {
    fn write_text(&self, out: &mut String) {
        match self {
            CommandError::InvalidTopic(e) => {
                out.push_str("invalid topic: ");
                e.write_text(out);
            }
            CommandError::QueueFull(n) => {
                out.push_str("publish queue is full (");
                push_num(out, *n as u64);
                out.push_str(" messages waiting)");
            }
            CommandError::PayloadTooLarge(n) => {
                out.push_str("payload of ");
                push_num(out, *n as u64);
                out.push_str(" bytes is too large for one MQTT packet");
            }
            CommandError::NoFilters => out.push_str("at least one topic filter is required"),
            CommandError::InvalidUrl { url, reason } => {
                for part in ["invalid URL \"", url, "\": ", reason] {
                    out.push_str(part);
                }
            }
            CommandError::InvalidOptions(e) => {
                out.push_str("invalid options: ");
                e.write_text(out);
            }
            CommandError::Storage(e) => {
                out.push_str("the publish was not accepted because it cannot be stored: ");
                e.write_text(out);
            }
            CommandError::Ended => out.push_str("the client was ended"),
        }
    }
}

display_from_text!(CommandError);

impl std::error::Error for CommandError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CommandError::InvalidTopic(e) => Some(e),
            CommandError::InvalidOptions(e) => Some(e),
            _ => None,
        }
    }
}

impl From<TopicError> for CommandError {
    fn from(e: TopicError) -> Self {
        CommandError::InvalidTopic(e)
    }
}

impl From<OptionsError> for CommandError {
    fn from(e: OptionsError) -> Self {
        CommandError::InvalidOptions(e)
    }
}
