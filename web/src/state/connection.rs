//! The small state every page shares: where to connect and as whom (the connection panel), and
//! the tab's one connection as the status line shows it.

use super::page::{Page, Purpose};
use crate::format;

/// The connection as the status line shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
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
    pub fn key(&self) -> &'static str {
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

    pub fn text(&self) -> String {
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

/// A text input of the connection panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Url,
    Route,
    Product,
    Identity,
    Username,
    Password,
    ClientId,
}

/// Where to connect and as whom (the connection panel).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub url: String,
    pub route: String,
    pub product: String,
    pub identity: String,
    pub username: String,
    pub password: String,
    /// Empty: the identity plus the page's suffix.
    pub client_id: String,
    /// Remember the credentials in this browser (localStorage).
    pub remember: bool,
}

impl Settings {
    pub fn endpoint(&self) -> Result<String, String> {
        format::endpoint(&self.url, &self.route, &self.product)
    }

    pub fn client_id_for(&self, page: Page) -> String {
        match self.client_id.trim() {
            "" => self.default_client_id(page),
            id => id.to_string(),
        }
    }

    /// The client id used when the field is empty: the identity plus the page's suffix.
    pub fn default_client_id(&self, page: Page) -> String {
        format!("{}{}", self.identity.trim(), page.client_suffix())
    }

    pub fn set(&mut self, field: Field, value: String) {
        *match field {
            Field::Url => &mut self.url,
            Field::Route => &mut self.route,
            Field::Product => &mut self.product,
            Field::Identity => &mut self.identity,
            Field::Username => &mut self.username,
            Field::Password => &mut self.password,
            Field::ClientId => &mut self.client_id,
        } = value;
    }
}

/// The connection of this tab.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Conn {
    /// Generation of the current client; events of other generations are ignored.
    pub generation: u64,
    /// What the current client is for (`None`: no client).
    pub purpose: Option<Purpose>,
    pub status: Status,
    /// With a connection shared by the tabs of one identity: "leader" (this tab holds it) or
    /// "follower" (another tab does); empty when not shared.
    pub role: &'static str,
}

impl Conn {
    /// What the client of `generation` is for, if it is the current one.
    pub fn current(&self, generation: u64) -> Option<Purpose> {
        (generation == self.generation)
            .then_some(self.purpose)
            .flatten()
    }
}
