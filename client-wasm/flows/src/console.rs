//! The Murano resource console (seed 000): subscribe to the device's resources, publish values,
//! and report every message, including values written on the platform side.

use std::collections::VecDeque;

use super::resource::{self, ResourceError};
use super::{Command, Flow};
use mqtt_core::{Event, Instant, QoS};

/// Which Murano resource topics the console uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsoleMode {
    /// `<identity>/<resource>`, as in the seed's publish.py.
    #[default]
    Legacy,
    /// `$resource/<alias>`; platform writes arrive on `$resource/<alias>/<timestamp>` (pushed;
    /// the console subscribes `$resource/#` too, for brokers that only deliver to subscribers).
    /// QoS 2 and values over 1 MiB are refused before sending ([`resource::check`]).
    Resource,
}

/// What the console reports to its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleOutput {
    /// A message on one of the device's resources.
    Received {
        /// The topic name it arrived on.
        topic: String,
        /// The resource name (legacy) or alias (`$resource`) taken from the topic.
        resource: String,
        /// The value, as published.
        payload: Vec<u8>,
        /// The platform's timestamp level of a `$resource/<alias>/<timestamp>` topic, as written.
        timestamp: Option<String>,
    },
    /// A publish the console made.
    Sent {
        /// The topic name it was published to.
        topic: String,
        /// The value published.
        payload: Vec<u8>,
    },
}

/// The resource console flow for one device identity.
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

    /// The topic scheme in use.
    pub fn mode(&self) -> ConsoleMode {
        self.mode
    }

    /// The filter the console subscribes to: `<identity>/#` (legacy) or `$resource/#`.
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

    /// What Murano's `$resource` API would refuse (nothing in the legacy mode).
    pub fn check(&self, qos: QoS, payload: &[u8]) -> Result<(), ResourceError> {
        match self.mode {
            ConsoleMode::Legacy => Ok(()),
            ConsoleMode::Resource => resource::check(qos, payload),
        }
    }

    /// Publishes a value to a resource, unless [`Console::check`] refuses it.
    pub fn publish(
        &mut self,
        resource: &str,
        payload: impl Into<Vec<u8>>,
        qos: QoS,
        retain: bool,
    ) -> Result<(), ResourceError> {
        let topic = self.topic_for(resource);
        let payload = payload.into();
        self.check(qos, &payload)?;
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
        Ok(())
    }

    /// The topic and JSON body of a batch typed as `[TIMESTAMP] alias=value ...` lines
    /// ([`resource::parse_batch`]); a JSON array (starting with `[`) is sent as typed.
    pub fn batch(text: &str, now_us: u64) -> Result<(String, Vec<u8>), ResourceError> {
        let text = text.trim();
        let body = if text.starts_with('[') {
            resource::check(QoS::AtMostOnce, text.as_bytes())?;
            text.to_string()
        } else {
            resource::batch_payload(&resource::parse_batch(text, now_us)?)
        };
        Ok((resource::BATCH_TOPIC.into(), body.into_bytes()))
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
