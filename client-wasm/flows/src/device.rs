//! The Azure Sphere device loop (seed 003): publish the current message on the host topic every
//! interval; whatever comes back on the device topic becomes the current message.

use core::time::Duration;
use std::collections::VecDeque;

use super::{Command, Flow};
use mqtt_core::{topic, Event, Instant, QoS};

/// What the device loop publishes, where, and how often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceConfig {
    /// Where the echo host answers (default `azuresphere/sample/device`).
    pub in_topic: String,
    /// Where the device publishes (default `azuresphere/sample/host`).
    pub out_topic: String,
    /// Time between publishes (default 1 s); the first goes out on CONNACK.
    pub interval: Duration,
    /// The first message.
    pub message: String,
    /// QoS of the subscription and of every publish (default 0).
    pub qos: QoS,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        Self {
            in_topic: "azuresphere/sample/device".into(),
            out_topic: "azuresphere/sample/host".into(),
            interval: Duration::from_secs(1),
            message: "Hello from Azure Sphere".into(),
            qos: QoS::AtMostOnce,
        }
    }
}

/// What the device loop reports to its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceOutput {
    /// The device published this message on the out topic.
    Sent(Vec<u8>),
    /// This message arrived on the in topic; it is what the device publishes next.
    Received(Vec<u8>),
}

/// The device loop flow: publishes while connected, stops its timer while not.
pub struct Device {
    config: DeviceConfig,
    current: Vec<u8>,
    next_tick: Option<Instant>,
    commands: VecDeque<Command>,
    outputs: VecDeque<DeviceOutput>,
}

impl Device {
    /// A device loop that subscribes to the in topic at once (sent when connected).
    pub fn new(config: DeviceConfig) -> Self {
        let subscribe = Command::Subscribe(vec![(config.in_topic.clone(), config.qos)]);
        let current = config.message.clone().into_bytes();
        Self {
            config,
            current,
            next_tick: None,
            commands: VecDeque::from([subscribe]),
            outputs: VecDeque::new(),
        }
    }

    /// The message the device publishes next.
    pub fn current(&self) -> &[u8] {
        &self.current
    }

    fn tick(&mut self, now: Instant) {
        self.commands.push_back(Command::Publish {
            topic: self.config.out_topic.clone(),
            payload: self.current.clone(),
            qos: self.config.qos,
            retain: false,
        });
        self.outputs
            .push_back(DeviceOutput::Sent(self.current.clone()));
        self.next_tick = Some(now + self.config.interval);
    }
}

impl Flow for Device {
    type Output = DeviceOutput;

    fn handle_event(&mut self, now: Instant, event: &Event) {
        match event {
            // Publish only while connected, so an outage does not fill the offline queue.
            Event::Connected { .. } => self.tick(now),
            Event::ConnectionLost { .. } | Event::Disconnected => self.next_tick = None,
            Event::Message(m) if topic::matches(&self.config.in_topic, &m.topic) => {
                self.current = m.payload.clone();
                self.outputs
                    .push_back(DeviceOutput::Received(m.payload.clone()));
            }
            _ => {}
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.next_tick.is_some_and(|t| now >= t) {
            self.tick(now);
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.next_tick
    }

    fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    fn poll_output(&mut self) -> Option<DeviceOutput> {
        self.outputs.pop_front()
    }
}
