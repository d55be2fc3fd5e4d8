//! The app's state as a pure reducer: `State::apply(Action)`. No browser API, no clock and no
//! MQTT client here: the app (`app.rs`) and the runtime (`runtime.rs`) turn clicks and client
//! events into [`Action`]s with the time already attached, so every transition is tested
//! natively.
//!
//! Each page owns its state and reducer (`pages/<page>/state.rs`); this module holds what they
//! share (the settings, the tab's connection, the payload format) and routes each action to the
//! part it concerns. Pages sit behind `Rc` (see `pages::Pages`): an action copies only the page
//! it changes (a few strings; the logs and charts are shared, see `model::shared`), and two
//! states compare by pointer.
//!
//! One tab holds at most one MQTT connection. Each start (activate, console, echo host, device,
//! platform) opens a new one under a new generation number; events of older generations are
//! ignored, so a late callback from a closed client cannot touch the new page.

use std::rc::Rc;

use mqtt_core::{ConnectionError, Event};
use mqtt_flows::Credentials;

use crate::format::{self, PayloadFormat};
use crate::model::{Around, Common, Conn, Dir, Hooks, Page, Report, Row, Settings, Status};
use crate::pages::{PageAction, Pages};

#[derive(Debug, Clone)]
pub(crate) struct State {
    pub page: Page,
    pub settings: Rc<Settings>,
    pub conn: Rc<Conn>,
    /// A problem with the last command (invalid topic, bad URL...), shown next to the status.
    pub notice: Option<String>,
    /// Minutes to add to UTC for clock times.
    pub tz_offset_min: i64,
    /// How both message logs show payloads.
    pub format: PayloadFormat,
    pub pages: Pages,
}

/// Equal when no part changed: parts behind `Rc` compare by pointer, since the reducer replaces
/// exactly the parts an action changes. O(1), so the app skips renders of no-op actions.
impl PartialEq for State {
    fn eq(&self, o: &Self) -> bool {
        self.page == o.page
            && self.notice == o.notice
            && self.tz_offset_min == o.tz_offset_min
            && self.format == o.format
            && Rc::ptr_eq(&self.settings, &o.settings)
            && Rc::ptr_eq(&self.conn, &o.conn)
            && self.pages == o.pages
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    Common(Common),
    /// An edit on a page (its fields, its log), whatever runs.
    Page(PageAction),
    /// An output of a page's flow: applied only while the client of `generation` is the current
    /// one and runs for that page.
    Flow {
        generation: u64,
        action: PageAction,
    },
    /// What the runtime reports about the tab's client.
    Conn(Report),
    /// A command could not be carried out; `None` clears the notice.
    Notice(Option<String>),
}

impl From<Common> for Action {
    fn from(common: Common) -> Self {
        Action::Common(common)
    }
}

impl From<Report> for Action {
    fn from(report: Report) -> Self {
        Action::Conn(report)
    }
}

impl State {
    /// The initial state: bridge URL from the page, page from the hash, remembered credentials.
    pub(crate) fn new(
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
            settings: Rc::new(settings),
            conn: Rc::default(),
            notice: None,
            tz_offset_min,
            format: PayloadFormat::default(),
            pages: Pages::default(),
        }
    }

    /// The reducer: routes each action to the part it changes and copies only that part.
    pub(crate) fn apply(mut self, action: Action) -> Self {
        match action {
            Action::Common(Common::Navigate(page)) => self.page = page,
            Action::Common(Common::Settings(a)) => Rc::make_mut(&mut self.settings).reduce(a),
            Action::Common(Common::Format(format)) => self.format = format,
            Action::Page(action) => self.reduce_page(action),
            Action::Flow { generation, action } => {
                if self.conn.current(generation) == Some(action.page()) {
                    self.reduce_page(action);
                }
            }
            Action::Conn(report) => self.report(report),
            Action::Notice(notice) => self.notice = notice,
        }
        self
    }

    fn reduce_page(&mut self, action: PageAction) {
        let mut around = Around {
            settings: &mut self.settings,
            page: &mut self.page,
        };
        self.pages.reduce(action, &mut around);
    }

    fn report(&mut self, report: Report) {
        match report {
            Report::Started {
                generation,
                purpose,
            } => self.started(generation, purpose),
            Report::Stopped => {
                self.set_running(false);
                if self.conn.purpose.is_some() {
                    let conn = Rc::make_mut(&mut self.conn);
                    conn.status = Status::Disconnected;
                    conn.purpose = None;
                }
            }
            Report::Role { generation, role } => {
                if self.conn.current(generation).is_some() {
                    Rc::make_mut(&mut self.conn).role = role;
                }
            }
            Report::Event {
                generation,
                at_ms,
                event,
            } => self.event(generation, at_ms, event),
            Report::Sent { generation, row } => {
                if let Some(purpose) = self.conn.current(generation) {
                    self.hooks(purpose, |page| page.logged(row));
                }
            }
        }
    }

    /// Runs `hook` on `page`'s state (copied on write).
    fn hooks(&mut self, page: Page, hook: impl FnOnce(&mut dyn Hooks)) {
        if let Some(hooks) = self.pages.hooks(page) {
            hook(hooks);
        }
    }

    fn started(&mut self, generation: u64, purpose: Page) {
        self.set_running(false);
        self.conn = Rc::new(Conn {
            generation,
            purpose: Some(purpose),
            status: Status::Connecting { attempt: 0 },
            role: None,
        });
        self.notice = None;
        let settings = Rc::clone(&self.settings);
        self.hooks(purpose, |page| {
            page.started(&settings);
            page.running(true);
        });
    }

    /// Tells the page of the connection whether it still runs.
    fn set_running(&mut self, running: bool) {
        if let Some(purpose) = self.conn.purpose {
            self.hooks(purpose, |page| page.running(running));
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
                error: ConnectionError::ConnectedElsewhere { .. },
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
                self.hooks(purpose, |page| page.failed(reason.clone()));
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
                self.hooks(purpose, |page| page.logged(row));
            }
            Event::Subscribed { granted, .. }
                if granted.iter().any(Option::is_none)
                    && self.pages.reports_refused_subscriptions(purpose) =>
            {
                let text = "the broker refused the subscription (not authorized)".to_string();
                self.hooks(purpose, |page| page.failed(text.clone()));
                self.notice = Some(text);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
