//! The app's state as a pure reducer: `State::apply(Action)`. No browser API, no clock and no
//! MQTT client here: the provider (`app.rs`, `mqtt.rs`) turns clicks and client events into
//! [`Action`]s with the time already attached, so every transition is tested natively.
//!
//! Each page owns its state and reducer (`pages/<page>/state.rs`); this module holds what they
//! share (the connection panel's settings and the tab's connection) and routes each action to
//! the page it concerns. Pages sit behind `Rc`: an action copies only the page it changes (a few
//! strings; the logs and charts are shared, see [`shared`]), and two states compare by pointer.
//!
//! One tab holds at most one MQTT connection. Each start (activate, console, echo host, device,
//! platform) opens a new one under a new generation number; events of older generations are
//! ignored, so a late callback from a closed client cannot touch the new page.

pub mod connection;
pub mod log;
pub mod loop_stats;
pub mod page;
pub mod shared;

use std::rc::Rc;

use mqtt_core::flows::{
    resource, ActivationError, ActivationMode, ConsoleMode, ConsoleOutput, Credentials,
    DeviceOutput, EchoOutput, LoginStyle,
};
use mqtt_core::Event;

use crate::format::{self, PayloadFormat};
use crate::pages::activate::state::{self as activate, ActivationState};
use crate::pages::console::state::{self as console, ConsoleState};
use crate::pages::device::state::{self as device, DeviceState};
use crate::pages::echo_host::state::{self as echo, EchoState};
use crate::pages::platform::state::{self as platform, PlatformState};

pub use connection::{Conn, Field, Settings, Status};
pub use log::{Dir, Row};
pub use page::{Page, Purpose};

#[derive(Debug, Clone, Default)]
pub struct State {
    pub page: Page,
    pub settings: Rc<Settings>,
    pub conn: Rc<Conn>,
    /// A problem with the last command (invalid topic, bad URL...), shown next to the status.
    pub notice: Option<String>,
    /// Minutes to add to UTC for clock times.
    pub tz_offset_min: i64,
    /// How both message logs show payloads.
    pub format: PayloadFormat,
    pub activation: Rc<ActivationState>,
    pub console: Rc<ConsoleState>,
    pub echo: Rc<EchoState>,
    pub device: Rc<DeviceState>,
    pub platform: Rc<PlatformState>,
}

/// Equal when no part changed: parts behind `Rc` compare by pointer, since the reducer replaces
/// exactly the parts an action changes. O(1), so the provider skips renders of no-op actions.
impl PartialEq for State {
    fn eq(&self, o: &Self) -> bool {
        self.page == o.page
            && self.notice == o.notice
            && self.tz_offset_min == o.tz_offset_min
            && self.format == o.format
            && Rc::ptr_eq(&self.settings, &o.settings)
            && Rc::ptr_eq(&self.conn, &o.conn)
            && Rc::ptr_eq(&self.activation, &o.activation)
            && Rc::ptr_eq(&self.console, &o.console)
            && Rc::ptr_eq(&self.echo, &o.echo)
            && Rc::ptr_eq(&self.device, &o.device)
            && Rc::ptr_eq(&self.platform, &o.platform)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Navigate(Page),
    /// A field of the connection panel.
    Set(Field, String),
    SetRemember(bool),
    /// Forget the remembered credentials (the provider clears the storage).
    Forget,
    SetFormat(PayloadFormat),
    /// Edits on one page (its fields, its log).
    Activate(activate::Action),
    Console(console::Action),
    Echo(echo::Action),
    Device(device::Action),
    Platform(platform::Action),
    /// The provider opened a client for `purpose` under `generation`.
    Started {
        generation: u64,
        purpose: Purpose,
    },
    /// The user stopped the connection; later events of it are ignored.
    Stopped,
    /// A command could not be carried out; `None` clears the notice.
    Notice(Option<String>),
    /// The tab's role in a shared connection ("leader", "follower"; "" when not shared).
    Role {
        generation: u64,
        role: &'static str,
    },
    Event {
        generation: u64,
        at_ms: u64,
        event: Event,
    },
    Activated {
        generation: u64,
        outcome: Result<Credentials, ActivationError>,
    },
    ConsoleOutput {
        generation: u64,
        at_ms: u64,
        output: ConsoleOutput,
    },
    EchoOutput {
        generation: u64,
        output: EchoOutput,
    },
    DeviceOutput {
        generation: u64,
        output: DeviceOutput,
    },
    /// A publish the console or the platform made.
    Sent {
        generation: u64,
        at_ms: u64,
        topic: String,
        payload: Vec<u8>,
        qos: u8,
        retain: bool,
    },
    /// Copy the activated credentials into the connection panel and open the console.
    UseCredentials,
}

impl State {
    /// The initial state: bridge URL from the page, page from the hash, remembered credentials.
    pub fn new(
        url: String,
        page: Page,
        remembered: Option<Credentials>,
        tz_offset_min: i64,
    ) -> Self {
        let mut settings = Settings {
            url,
            ..Settings::default()
        };
        if let Some(c) = remembered {
            settings.identity = c.username.clone();
            settings.username = c.username;
            settings.password = c.password;
            settings.remember = true;
        }
        State {
            page,
            tz_offset_min,
            settings: Rc::new(settings),
            ..State::default()
        }
    }

    /// The reducer: routes each action to the part it changes and copies only that part.
    pub fn apply(mut self, action: Action) -> Self {
        match action {
            Action::Navigate(page) => self.page = page,
            Action::Set(field, value) => Rc::make_mut(&mut self.settings).set(field, value),
            Action::SetRemember(remember) => Rc::make_mut(&mut self.settings).remember = remember,
            Action::Forget => Rc::make_mut(&mut self.settings).remember = false,
            Action::SetFormat(format) => self.format = format,
            Action::Activate(a) => Rc::make_mut(&mut self.activation).reduce(a),
            Action::Console(a) => Rc::make_mut(&mut self.console).reduce(a),
            Action::Echo(a) => Rc::make_mut(&mut self.echo).reduce(a),
            Action::Device(a) => Rc::make_mut(&mut self.device).reduce(a),
            Action::Platform(a) => Rc::make_mut(&mut self.platform).reduce(a),
            Action::Started {
                generation,
                purpose,
            } => self.started(generation, purpose),
            Action::Stopped => {
                self.set_running(false);
                if self.conn.purpose.is_some() {
                    let conn = Rc::make_mut(&mut self.conn);
                    conn.status = Status::Disconnected;
                    conn.purpose = None;
                }
            }
            Action::Notice(notice) => self.notice = notice,
            Action::Role { generation, role } => {
                if self.conn.current(generation).is_some() {
                    Rc::make_mut(&mut self.conn).role = role;
                }
            }
            Action::Event {
                generation,
                at_ms,
                event,
            } => self.event(generation, at_ms, event),
            Action::Activated {
                generation,
                outcome,
            } => {
                if self.conn.current(generation) == Some(Page::Activate) {
                    // Copied into the connection panel at once: the console and "remember" use them.
                    if let Ok(c) = &outcome {
                        self.use_credentials(c.clone());
                    }
                    Rc::make_mut(&mut self.activation).reduce(activate::Action::Outcome(outcome));
                }
            }
            Action::ConsoleOutput {
                generation,
                at_ms,
                output,
            } => {
                if let (
                    Some(Page::Console),
                    ConsoleOutput::Received {
                        resource,
                        payload,
                        timestamp,
                        ..
                    },
                ) = (self.conn.current(generation), output)
                {
                    // A platform write is charted and listed at its platform time.
                    let stamped = timestamp.as_deref().and_then(resource::timestamp_ms);
                    let console = Rc::make_mut(&mut self.console);
                    if let Some(platform_ms) = stamped {
                        console.reduce(console::Action::PlatformWrite(console::PlatformWrite {
                            resource: resource.clone(),
                            value: String::from_utf8_lossy(&payload).into_owned(),
                            at_ms: platform_ms,
                        }));
                    }
                    if let Some(value) = format::number(&payload) {
                        console.reduce(console::Action::Value {
                            resource,
                            at_ms: stamped.unwrap_or(at_ms),
                            value,
                        });
                    }
                }
            }
            Action::EchoOutput { generation, output } => {
                if self.conn.current(generation) == Some(Page::Echo) {
                    Rc::make_mut(&mut self.echo).reduce(echo::Action::Output(output));
                }
            }
            Action::DeviceOutput { generation, output } => {
                if self.conn.current(generation) == Some(Page::Device) {
                    Rc::make_mut(&mut self.device).reduce(device::Action::Output(output));
                }
            }
            Action::Sent {
                generation,
                at_ms,
                topic,
                payload,
                qos,
                retain,
            } => {
                let row = Row {
                    at_ms,
                    dir: Dir::Out,
                    topic,
                    qos,
                    retain,
                    payload,
                };
                if let Some(purpose) = self.conn.current(generation) {
                    self.log(purpose, row);
                }
            }
            Action::UseCredentials => {
                if let Some(c) = self.activation.credentials.clone() {
                    self.use_credentials(c);
                    self.page = Page::Console;
                }
            }
        }
        self
    }

    /// Copies activated credentials into the connection panel; the console follows the
    /// activation's API (`$provision`: `$resource`) and log-in style. An empty user
    /// name (token-only style) keeps the identity typed.
    fn use_credentials(&mut self, c: Credentials) {
        let settings = Rc::make_mut(&mut self.settings);
        if !c.username.is_empty() {
            settings.identity = c.username.clone();
        }
        settings.username = c.username;
        settings.password = c.password;
        let console = Rc::make_mut(&mut self.console);
        (console.mode, console.login) = match self.activation.mode {
            ActivationMode::Provision => (ConsoleMode::Resource, self.activation.login),
            ActivationMode::Legacy => (ConsoleMode::Legacy, LoginStyle::Identity),
        };
    }

    fn started(&mut self, generation: u64, purpose: Purpose) {
        self.set_running(false);
        self.conn = Rc::new(Conn {
            generation,
            purpose: Some(purpose),
            status: Status::Connecting { attempt: 0 },
            role: "",
        });
        self.notice = None;
        match purpose {
            Page::Activate => {
                let identity = self.settings.identity.clone();
                Rc::make_mut(&mut self.activation).reduce(activate::Action::Started { identity })
            }
            Page::Echo => Rc::make_mut(&mut self.echo).reduce(echo::Action::Started),
            Page::Device => Rc::make_mut(&mut self.device).reduce(device::Action::Started),
            Page::Console => Rc::make_mut(&mut self.console).reduce(console::Action::Started),
            Page::Platform => {}
        }
        self.set_running(true);
    }

    /// Tells the page that runs a loop (activation, echo host, device) whether it still runs.
    fn set_running(&mut self, running: bool) {
        match self.conn.purpose {
            Some(Page::Activate) => {
                Rc::make_mut(&mut self.activation).reduce(activate::Action::Running(running))
            }
            Some(Page::Echo) => Rc::make_mut(&mut self.echo).reduce(echo::Action::Running(running)),
            Some(Page::Device) => {
                Rc::make_mut(&mut self.device).reduce(device::Action::Running(running))
            }
            _ => {}
        }
    }

    /// Counts an error on the running echo host or device, if that is what is connected.
    fn loop_error(&mut self, reason: String) {
        match self.conn.purpose {
            Some(Page::Echo) => Rc::make_mut(&mut self.echo).reduce(echo::Action::Error(reason)),
            Some(Page::Device) => {
                Rc::make_mut(&mut self.device).reduce(device::Action::Error(reason))
            }
            _ => {}
        }
    }

    /// Logs a message on the page that shows a log (console, platform).
    fn log(&mut self, purpose: Purpose, row: Row) {
        match purpose {
            Page::Console => Rc::make_mut(&mut self.console).reduce(console::Action::Logged(row)),
            Page::Platform => {
                Rc::make_mut(&mut self.platform).reduce(platform::Action::Logged(row))
            }
            _ => {}
        }
    }

    fn set_status(&mut self, status: Status) {
        Rc::make_mut(&mut self.conn).status = status;
    }

    fn event(&mut self, generation: u64, at_ms: u64, event: Event) {
        let Some(purpose) = self.conn.current(generation) else {
            return;
        };
        match event {
            Event::Connected { .. } => self.set_status(Status::Connected),
            Event::Reconnecting { attempt } => self.set_status(Status::Connecting { attempt }),
            Event::ConnectionLost {
                error: mqtt_core::ConnectionError::ConnectedElsewhere { .. },
                ..
            } => {
                // The client stays: "take over" connects it again.
                let since = format::clock(at_ms, self.tz_offset_min);
                self.set_status(Status::Elsewhere {
                    since: since.get(..8).unwrap_or(&since).to_string(),
                });
            }
            Event::ConnectionLost {
                error,
                reconnect_in,
                attempt,
            } => {
                let reason = error.to_string();
                self.loop_error(reason.clone());
                let status = match reconnect_in {
                    Some(delay) => Status::Reconnecting {
                        in_secs: delay.as_millis().div_ceil(1000) as u64,
                        attempt,
                        reason,
                    },
                    None => {
                        self.set_running(false);
                        Status::Failed {
                            code: error.code().into(),
                            reason,
                        }
                    }
                };
                self.set_status(status);
            }
            Event::Disconnected => {
                // Activation ends with DISCONNECT once the reply is in: that is success, not a loss.
                self.set_status(Status::Disconnected);
                self.set_running(false);
            }
            Event::Message(m) => {
                let row = Row {
                    at_ms,
                    dir: Dir::In,
                    topic: m.topic,
                    qos: mqtt_core::qos_to_u8(m.qos),
                    retain: m.retain,
                    payload: m.payload,
                };
                self.log(purpose, row);
            }
            Event::Subscribed { granted, .. }
                if granted.iter().any(Option::is_none) && purpose != Page::Activate =>
            {
                let text = "the broker refused the subscription (not authorized)".to_string();
                self.loop_error(text.clone());
                self.notice = Some(text);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
pub mod test_support;
#[cfg(test)]
mod tests;
