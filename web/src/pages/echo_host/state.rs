//! The echo host page's state and reducer.

use mqtt_flows::rotate::Direction;
use mqtt_flows::EchoOutput;

use crate::model::loop_stats::LoopStats;
use crate::model::{Around, Dir, Hooks, Page, PageState, Settings};

/// This page: its route, title and client-id suffix.
pub(crate) const PAGE: Page = Page::new("echo", "Echo host", "-echo-host");

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EchoState {
    pub in_topic: String,
    pub out_topic: String,
    pub direction: Direction,
    pub stats: LoopStats,
}

impl Default for EchoState {
    fn default() -> Self {
        Self {
            in_topic: "azuresphere/sample/host".into(),
            out_topic: "azuresphere/sample/device".into(),
            direction: Direction::Left,
            stats: LoopStats::default(),
        }
    }
}

/// A text input of the echo host page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    In,
    Out,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    Set(Field, String),
    SetDirection(Direction),
    /// The flow echoed a message.
    Output(EchoOutput),
}

impl PageState for EchoState {
    type Action = Action;

    fn reduce(&mut self, action: Action, _: &mut Around<'_>) {
        match action {
            Action::Set(Field::In, value) => self.in_topic = value,
            Action::Set(Field::Out, value) => self.out_topic = value,
            Action::SetDirection(direction) => self.direction = direction,
            Action::Output(output) => {
                self.stats.note(Dir::In, &output.received);
                self.stats.note(Dir::Out, &output.sent);
            }
        }
    }
}

impl Hooks for EchoState {
    /// A new echo host began: the counters start over.
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
