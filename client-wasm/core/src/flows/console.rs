//! The Murano resource console (seed 000): subscribe to the device's resources, publish values,
//! and report every message, including values written on the platform side.

use std::collections::VecDeque;

use super::{Command, Flow};
use crate::{Event, Instant, QoS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsoleMode {
    /// `<identity>/<resource>`, as in the seed's publish.py.
    #[default]
    Legacy,
    /// `$resource/<alias>`; platform writes arrive on `$resource/<alias>/<timestamp>`.
    Resource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleOutput {
    /// A message on one of the device's resources.
    Received {
        topic: String,
        resource: String,
        payload: Vec<u8>,
        timestamp: Option<String>,
    },
    /// A publish the console made.
    Sent { topic: String, payload: Vec<u8> },
}

pub struct Console {
    identity: String,
    mode: ConsoleMode,
    qos: QoS,
    commands: VecDeque<Command>,
    outputs: VecDeque<ConsoleOutput>,
}

impl Console {
    /// Subscribes to the device's resources at once (the session sends it when connected).
    pub fn new(identity: impl Into<String>, mode: ConsoleMode) -> Self {
        let mut console = Self {
            identity: identity.into(),
            mode,
            qos: QoS::AtLeastOnce,
            commands: VecDeque::new(),
            outputs: VecDeque::new(),
        };
        console
            .commands
            .push_back(Command::Subscribe(vec![(console.filter(), console.qos)]));
        console
    }

    pub fn filter(&self) -> String {
        match self.mode {
            ConsoleMode::Legacy => format!("{}/#", self.identity),
            ConsoleMode::Resource => "$resource/#".into(),
        }
    }

    /// The topic of a resource. A full topic (`007/temperature`) is kept as typed, like the seed.
    pub fn topic_for(&self, resource: &str) -> String {
        match self.mode {
            ConsoleMode::Legacy if resource.starts_with(&format!("{}/", self.identity)) => {
                resource.into()
            }
            ConsoleMode::Legacy => format!("{}/{resource}", self.identity),
            ConsoleMode::Resource if resource.starts_with("$resource/") => resource.into(),
            ConsoleMode::Resource => format!("$resource/{resource}"),
        }
    }

    /// Publishes a value to a resource.
    pub fn publish(&mut self, resource: &str, payload: impl Into<Vec<u8>>, qos: QoS, retain: bool) {
        let topic = self.topic_for(resource);
        let payload = payload.into();
        self.outputs.push_back(ConsoleOutput::Sent {
            topic: topic.clone(),
            payload: payload.clone(),
        });
        self.commands.push_back(Command::Publish {
            topic,
            payload,
            qos,
            retain,
        });
    }

    /// Splits a topic into resource name and optional platform timestamp.
    fn parse(&self, topic: &str) -> Option<(String, Option<String>)> {
        let rest = match self.mode {
            ConsoleMode::Legacy => topic.strip_prefix(&self.identity)?.strip_prefix('/')?,
            ConsoleMode::Resource => topic.strip_prefix("$resource/")?,
        };
        Some(match (self.mode, rest.split_once('/')) {
            (ConsoleMode::Resource, Some((alias, ts))) => (alias.to_string(), Some(ts.to_string())),
            _ => (rest.to_string(), None),
        })
    }
}

impl Flow for Console {
    type Output = ConsoleOutput;

    fn handle_event(&mut self, _now: Instant, event: &Event) {
        if let Event::Message(m) = event {
            if let Some((resource, timestamp)) = self.parse(&m.topic) {
                self.outputs.push_back(ConsoleOutput::Received {
                    topic: m.topic.clone(),
                    resource,
                    payload: m.payload.clone(),
                    timestamp,
                });
            }
        }
    }

    fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    fn poll_output(&mut self) -> Option<ConsoleOutput> {
        self.outputs.pop_front()
    }
}
