//! The echo host page's state and reducer.

use mqtt_core::flows::rotate::Direction;
use mqtt_core::flows::EchoOutput;

use crate::state::log::Dir;
use crate::state::loop_stats::LoopStats;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoState {
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
pub enum Field {
    In,
    Out,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Set(Field, String),
    SetDirection(Direction),
    /// A new echo host began: the counters start over.
    Started,
    Running(bool),
    Output(EchoOutput),
    Error(String),
}

impl EchoState {
    pub fn reduce(&mut self, action: Action) {
        match action {
            Action::Set(Field::In, value) => self.in_topic = value,
            Action::Set(Field::Out, value) => self.out_topic = value,
            Action::SetDirection(direction) => self.direction = direction,
            Action::Started => self.stats = LoopStats::default(),
            Action::Running(running) => self.stats.running = running,
            Action::Output(output) => {
                self.stats.note(Dir::In, &output.received);
                self.stats.note(Dir::Out, &output.sent);
            }
            Action::Error(reason) => self.stats.error(reason),
        }
    }
}
