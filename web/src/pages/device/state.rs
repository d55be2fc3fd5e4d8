//! The device page's state and reducer.

use mqtt_flows::DeviceOutput;

use crate::model::loop_stats::LoopStats;
use crate::model::{Around, Dir, Hooks, Page, PageState, Settings};

/// This page: its route, title and client-id suffix.
pub(crate) const PAGE: Page = Page::new("device", "Device", "-device");

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceState {
    pub in_topic: String,
    pub out_topic: String,
    pub message: String,
    pub interval_ms: String,
    pub stats: LoopStats,
}

impl Default for DeviceState {
    fn default() -> Self {
        Self {
            in_topic: "azuresphere/sample/device".into(),
            out_topic: "azuresphere/sample/host".into(),
            message: "Hello from Azure Sphere".into(),
            interval_ms: "1000".into(),
            stats: LoopStats::default(),
        }
    }
}

impl DeviceState {
    /// The interval, clamped to 100 ms … 1 h; `None` when not a number.
    pub(crate) fn interval(&self) -> Option<u64> {
        self.interval_ms
            .trim()
            .parse::<u64>()
            .ok()
            .map(|ms| ms.clamp(100, 3_600_000))
    }
}

/// A text input of the device page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    In,
    Out,
    Message,
    Interval,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    Set(Field, String),
    /// The loop sent or received a message.
    Output(DeviceOutput),
}

impl PageState for DeviceState {
    type Action = Action;

    fn reduce(&mut self, action: Action, _: &mut Around<'_>) {
        match action {
            Action::Set(field, value) => {
                *match field {
                    Field::In => &mut self.in_topic,
                    Field::Out => &mut self.out_topic,
                    Field::Message => &mut self.message,
                    Field::Interval => &mut self.interval_ms,
                } = value;
            }
            Action::Output(DeviceOutput::Sent(p)) => self.stats.note(Dir::Out, &p),
            Action::Output(DeviceOutput::Received(p)) => self.stats.note(Dir::In, &p),
        }
    }
}

impl Hooks for DeviceState {
    /// A new device loop began: the counters start over.
    fn started(&mut self, _: &Settings) {
        self.stats = LoopStats::default();
    }

    fn running(&mut self, running: bool) {
        self.stats.running = running;
    }

    fn failed(&mut self, reason: String) {
        self.stats.error(reason);
    }
}
