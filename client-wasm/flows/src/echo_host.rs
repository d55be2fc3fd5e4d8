//! The Azure Sphere echo host (seed 003): every message on the host topic comes back on the
//! device topic, rotated by one character.

use std::collections::VecDeque;

use super::rotate::{rotate, Direction};
use super::{Command, Flow};
use mqtt_core::{topic, Event, Instant, QoS};

/// Where the echo host listens, where it answers, and how it rotates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoHostConfig {
    /// Where the device publishes (default `azuresphere/sample/host`).
    pub in_topic: String,
    /// Where the rotated message goes (default `azuresphere/sample/device`).
    pub out_topic: String,
    /// Which way to rotate (default left, as the seed's text says).
    pub direction: Direction,
    /// QoS of the subscription and of every echo (default 0).
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

/// One message echoed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoOutput {
    /// The message as it arrived on the in topic.
    pub received: Vec<u8>,
    /// The rotated message published on the out topic.
    pub sent: Vec<u8>,
}

/// The echo host flow: answers every message on the in topic.
pub struct EchoHost {
    config: EchoHostConfig,
    commands: VecDeque<Command>,
    outputs: VecDeque<EchoOutput>,
    /// Messages received and echoed.
    pub echoed: u64,
}

impl EchoHost {
    /// An echo host that subscribes to the in topic at once (sent when connected).
    pub fn new(config: EchoHostConfig) -> Self {
        let subscribe = Command::Subscribe(vec![(config.in_topic.clone(), config.qos)]);
        Self {
            config,
            commands: VecDeque::from([subscribe]),
            outputs: VecDeque::new(),
            echoed: 0,
        }
    }

    /// The configuration it runs with.
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
