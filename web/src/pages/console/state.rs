//! The console page's state and reducer: the publish form, the message log and the charts.

use std::collections::{BTreeMap, VecDeque};

use mqtt_core::flows::{ConsoleMode, LoginStyle};

use crate::state::log::{Log, LogAction, Row};
use crate::state::shared::Shared;

/// Points kept per chart.
pub const CHART_POINTS: usize = 120;

/// Platform writes listed (newest first).
pub const WRITES_SHOWN: usize = 20;

/// A value written on the platform side (`$resource/<alias>/<timestamp>`), at its platform time.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformWrite {
    pub resource: String,
    pub value: String,
    pub at_ms: u64,
}

/// Numeric values per resource for the charts.
#[derive(Debug, Default)]
pub struct Charts {
    pub series: BTreeMap<String, VecDeque<(u64, f64)>>,
}

impl Charts {
    pub fn push(&mut self, resource: &str, at_ms: u64, value: f64) {
        let series = self.series.entry(resource.to_string()).or_default();
        series.push_back((at_ms, value));
        if series.len() > CHART_POINTS {
            series.pop_front();
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleState {
    /// Legacy `<identity>/<resource>` or Murano's current `$resource/<alias>`.
    pub mode: ConsoleMode,
    /// How to log in with the current API.
    pub login: LoginStyle,
    /// A resource (`temperature`) or a full topic (`007/temperature`), as in the seed.
    pub topic: String,
    pub message: String,
    pub qos: u8,
    pub retain: bool,
    pub log: Log,
    /// Shared and changed in place like the log: a value per message must not copy them all.
    pub charts: Shared<Charts>,
    /// `$resource.batch` lines: `[TIMESTAMP] alias=value ...`, entries separated by `;`.
    pub batch: String,
    /// Newest first.
    pub writes: VecDeque<PlatformWrite>,
}

impl Default for ConsoleState {
    fn default() -> Self {
        Self {
            mode: ConsoleMode::default(),
            login: LoginStyle::default(),
            topic: "temperature".into(),
            message: String::new(),
            qos: 1,
            retain: false,
            log: Log::default(),
            charts: Shared::default(),
            batch: String::new(),
            writes: VecDeque::new(),
        }
    }
}

/// A text input of the publish form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Topic,
    Message,
    Batch,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetMode(ConsoleMode),
    SetLogin(LoginStyle),
    Set(Field, String),
    SetQos(u8),
    SetRetain(bool),
    Log(LogAction),
    /// A new console connection began: the charts start over.
    Started,
    /// A message went out or came in.
    Logged(Row),
    /// A numeric value of `resource` arrived.
    Value {
        resource: String,
        at_ms: u64,
        value: f64,
    },
    /// A platform write arrived with its platform time.
    PlatformWrite(PlatformWrite),
}

impl ConsoleState {
    pub fn reduce(&mut self, action: Action) {
        match action {
            Action::SetMode(mode) => self.mode = mode,
            Action::SetLogin(login) => self.login = login,
            Action::Set(Field::Topic, value) => self.topic = value,
            Action::Set(Field::Message, value) => self.message = value,
            Action::Set(Field::Batch, value) => self.batch = value,
            Action::PlatformWrite(write) => {
                self.writes.push_front(write);
                self.writes.truncate(WRITES_SHOWN);
            }
            Action::SetQos(qos) => self.qos = qos.min(2),
            Action::SetRetain(retain) => self.retain = retain,
            Action::Log(action) => self.log.update(|log| log.apply(action)),
            Action::Started => {
                self.charts = Shared::default();
                self.writes.clear();
            }
            Action::Logged(row) => self.log.update(|log| log.push(row)),
            Action::Value {
                resource,
                at_ms,
                value,
            } => self
                .charts
                .update(|charts| charts.push(&resource, at_ms, value)),
        }
    }
}
