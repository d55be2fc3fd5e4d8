//! The tab's one connection as the rest of the app sees it: its status in words, the tab's part
//! when the connection is shared, and the [`Report`]s the runtime sends the reducer.

use mqtt_core::Event;

use super::log::Row;
use super::page::Page;

/// The connection as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Status {
    #[default]
    Idle,
    Connecting {
        attempt: u32,
    },
    Connected,
    /// Lost; the session retries in `in_secs`.
    Reconnecting {
        in_secs: u64,
        attempt: u32,
        reason: String,
    },
    /// Lost for good (or refused); `reason` is the bridge's or broker's words.
    Failed {
        code: String,
        reason: String,
    },
    Disconnected,
    /// Another client (a device, the CLI, another browser) keeps taking this client id: the
    /// session stopped reconnecting at `since` (local clock) until the user takes it over.
    Elsewhere {
        since: String,
    },
}

impl Status {
    /// A stable key for `data-state`.
    pub(crate) fn key(&self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Connecting { .. } => "connecting",
            Status::Connected => "connected",
            Status::Reconnecting { .. } => "reconnecting",
            Status::Failed { .. } => "error",
            Status::Disconnected => "disconnected",
            Status::Elsewhere { .. } => "elsewhere",
        }
    }

    pub(crate) fn text(&self) -> String {
        match self {
            Status::Idle => "Not connected".into(),
            Status::Connecting { attempt: 0 } => "Connecting…".into(),
            Status::Connecting { attempt } => format!("Connecting… (attempt {attempt})"),
            Status::Connected => "Connected".into(),
            Status::Reconnecting {
                in_secs,
                attempt,
                reason,
            } => {
                format!("Reconnecting in {in_secs} s (attempt {attempt}): {reason}")
            }
            Status::Failed { code, reason } => format!("Error: {reason}{}", hint(code)),
            Status::Disconnected => "Disconnected".into(),
            Status::Elsewhere { since } => {
                format!("Connected elsewhere since {since}: another client uses this client id")
            }
        }
    }
}

/// What a refusal most likely means. mosquitto 2.0 answers a wrong password on MQTT 3.1.1 with
/// CONNACK 5 ("not authorized"), Murano and others with 4 ("bad user name or password").
fn hint(code: &str) -> &'static str {
    match code {
        "not_authorized" => " (bad user name or password, or this client may not connect)",
        "bad_credentials" => " (check the user name and password)",
        "identifier_rejected" => " (the broker refuses this client id)",
        _ => "",
    }
}

/// The tab's part in a connection shared by the tabs of one identity. Parsed once from the
/// browser crate's role (`runtime.rs`); a tab that shares nothing has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TabRole {
    /// This tab holds the connection.
    Leader,
    /// Another tab holds it and this one goes through it.
    Follower,
}

impl TabRole {
    /// A stable key for `data-role`.
    pub(crate) fn key(self) -> &'static str {
        match self {
            TabRole::Leader => "leader",
            TabRole::Follower => "follower",
        }
    }
}

/// The connection of this tab.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Conn {
    /// Generation of the current client; events of other generations are ignored.
    pub generation: u64,
    /// The page the current client runs for (`None`: no client).
    pub purpose: Option<Page>,
    pub status: Status,
    /// `None` when the connection is not shared with other tabs.
    pub role: Option<TabRole>,
}

impl Conn {
    /// The page the client of `generation` runs for, if it is the current one.
    pub(crate) fn current(&self, generation: u64) -> Option<Page> {
        (generation == self.generation)
            .then_some(self.purpose)
            .flatten()
    }
}

/// What the runtime tells the reducer about the tab's client, the time already attached.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Report {
    /// A client for `purpose` opened under `generation`.
    Started { generation: u64, purpose: Page },
    /// The user stopped the connection; later events of it are ignored.
    Stopped,
    /// The tab's part in the shared connection changed.
    Role {
        generation: u64,
        role: Option<TabRole>,
    },
    Event {
        generation: u64,
        at_ms: u64,
        event: Event,
    },
    /// A publish a page made (console, platform), for its log.
    Sent { generation: u64, row: Row },
}
