//! The Azure Sphere echo host (seed 003): every message on the host topic comes back on the
//! device topic, rotated by one character.

use std::collections::VecDeque;

use super::rotate::{rotate, Direction};
use super::{Command, Flow};
use mqtt_core::{topic, Event, Instant, QoS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoHostConfig {
    /// Where the device publishes (default `azuresphere/sample/host`).
    pub in_topic: String,
    /// Where the rotated message goes (default `azuresphere/sample/device`).
    pub out_topic: String,
    pub direction: Direction,
    pub qos: QoS,
}

impl Default for EchoHostConfig {
    fn default() -> Self {
        Self {
            in_topic: "azuresphere/sample/host".into(),
            out_topic: "azuresphere/sample/device".into(),
            direction: Direction::Left,
            qos: QoS::AtMostOnce,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoOutput {
    pub received: Vec<u8>,
    pub sent: Vec<u8>,
}

pub struct EchoHost {
    config: EchoHostConfig,
    commands: VecDeque<Command>,
    outputs: VecDeque<EchoOutput>,
    /// Messages received and echoed.
    pub echoed: u64,
}

impl EchoHost {
    pub fn new(config: EchoHostConfig) -> Self {
        let subscribe = Command::Subscribe(vec![(config.in_topic.clone(), config.qos)]);
        Self {
            config,
            commands: VecDeque::from([subscribe]),
            outputs: VecDeque::new(),
            echoed: 0,
        }
    }

    pub fn config(&self) -> &EchoHostConfig {
        &self.config
    }
}

impl Flow for EchoHost {
    type Output = EchoOutput;

    fn handle_event(&mut self, _now: Instant, event: &Event) {
        let Event::Message(m) = event else { return };
        if !topic::matches(&self.config.in_topic, &m.topic) {
            return;
        }
        let sent = rotate(&m.payload, self.config.direction);
        self.echoed += 1;
        self.commands.push_back(Command::Publish {
            topic: self.config.out_topic.clone(),
            payload: sent.clone(),
            qos: self.config.qos,
            retain: false,
        });
        self.outputs.push_back(EchoOutput {
            received: m.payload.clone(),
            sent,
        });
    }

    fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    fn poll_output(&mut self) -> Option<EchoOutput> {
        self.outputs.pop_front()
    }
}
