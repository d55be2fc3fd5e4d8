//! The console page's state and reducer: the publish form, the message log and the charts. The
//! API and log-in style are the device's, so they live in the settings (an activation sets them).

use std::collections::{BTreeMap, VecDeque};

use mqtt_flows::{resource, ConsoleOutput};

use crate::format;
use crate::model::log::{Log, LogAction};
use crate::model::shared::Shared;
use crate::model::{Around, Hooks, Page, PageState, Row, Settings};

/// This page: its route, title and client-id suffix.
pub(crate) const PAGE: Page = Page::new("console", "Console", "");

/// Points kept per chart.
pub(crate) const CHART_POINTS: usize = 120;

/// Platform writes listed (newest first).
pub(crate) const WRITES_SHOWN: usize = 20;

/// A value written on the platform side (`$resource/<alias>/<timestamp>`), at its platform time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlatformWrite {
    pub resource: String,
    pub value: String,
    pub at_ms: u64,
}

/// Numeric values per resource for the charts.
#[derive(Debug, Default)]
pub(crate) struct Charts {
    pub series: BTreeMap<String, VecDeque<(u64, f64)>>,
}

impl Charts {
    pub(crate) fn push(&mut self, resource: &str, at_ms: u64, value: f64) {
        let series = self.series.entry(resource.to_string()).or_default();
        series.push_back((at_ms, value));
        if series.len() > CHART_POINTS {
            series.pop_front();
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConsoleState {
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
pub(crate) enum Field {
    Topic,
    Message,
    Batch,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    Set(Field, String),
    SetQos(u8),
    SetRetain(bool),
    Log(LogAction),
    /// The console flow's output, received at `at_ms`.
    Output { at_ms: u64, output: ConsoleOutput },
}

impl PageState for ConsoleState {
    type Action = Action;

    fn reduce(&mut self, action: Action, _: &mut Around<'_>) {
        match action {
            Action::Set(Field::Topic, value) => self.topic = value,
            Action::Set(Field::Message, value) => self.message = value,
            Action::Set(Field::Batch, value) => self.batch = value,
            Action::SetQos(qos) => self.qos = qos.min(2),
            Action::SetRetain(retain) => self.retain = retain,
            Action::Log(action) => self.log.update(|log| log.apply(action)),
            Action::Output { at_ms, output } => self.received(at_ms, output),
        }
    }
}

impl Hooks for ConsoleState {
    /// A new console connection began: the charts start over.
    fn started(&mut self, _: &Settings) {
        self.charts = Shared::default();
        self.writes.clear();
    }

    fn logged(&mut self, row: Row) {
        self.log.update(|log| log.push(row));
    }
}

impl ConsoleState {
    /// A resource value: charted when numeric; a platform write is listed and charted at its
    /// platform time.
    fn received(&mut self, at_ms: u64, output: ConsoleOutput) {
        let ConsoleOutput::Received {
            resource,
            payload,
            timestamp,
            ..
        } = output
        else {
            return;
        };
        let stamped = timestamp.as_deref().and_then(resource::timestamp_ms);
        if let Some(platform_ms) = stamped {
            self.writes.push_front(PlatformWrite {
                resource: resource.clone(),
                value: String::from_utf8_lossy(&payload).into_owned(),
                at_ms: platform_ms,
            });
            self.writes.truncate(WRITES_SHOWN);
        }
        if let Some(value) = format::number(&payload) {
            let at_ms = stamped.unwrap_or(at_ms);
            self.charts
                .update(|charts| charts.push(&resource, at_ms, value));
        }
    }
}
