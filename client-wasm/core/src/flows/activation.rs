//! Murano device activation (seed 000), legacy and current.
//!
//! Legacy: connect anonymously with client id = identity, subscribe `activate/<identity>`,
//! publish the identity to `activate`; the reply's payload is the password.
//! Current (`$provision`): subscribe `$provision/<identity>`, publish an empty message to
//! `$provision/<identity>`; the token comes back as a message on that topic.

use core::time::Duration;
use std::collections::VecDeque;

use super::{Command, Flow};
use crate::{ConnectionError, Event, Instant, Options, QoS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActivationMode {
    /// `activate` / `activate/<identity>`, as in the seed's activate.py.
    #[default]
    Legacy,
    /// `$provision/<identity>`, the current Murano API.
    Provision,
}

/// What activation gives: the device's credentials from now on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActivationError {
    /// The broker refused the reply subscription: anonymous access is not allowed here.
    #[error("not authorized to subscribe to {0}")]
    NotAuthorized(String),
    /// No reply in time. Murano does not answer for an identity that is unknown to the product
    /// or already activated.
    #[error("no activation reply within {0} s: is the identity unknown to the product or already activated?")]
    NoReply(u64),
    #[error("the activation reply is not UTF-8 text")]
    BadReply,
    #[error(transparent)]
    Session(ConnectionError),
}

pub struct Activation {
    identity: String,
    mode: ActivationMode,
    reply_timeout: Duration,
    deadline: Option<Instant>,
    commands: VecDeque<Command>,
    outcome: Option<Result<Credentials, ActivationError>>,
    reported: bool,
}

impl Activation {
    pub fn new(identity: impl Into<String>, mode: ActivationMode) -> Self {
        Self {
            identity: identity.into(),
            mode,
            reply_timeout: Duration::from_secs(10),
            deadline: None,
            commands: VecDeque::new(),
            outcome: None,
            reported: false,
        }
    }

    pub fn with_reply_timeout(mut self, timeout: Duration) -> Self {
        self.reply_timeout = timeout;
        self
    }

    /// Session options for activation: anonymous, client id = identity, one attempt only.
    pub fn session_options(&self) -> Options {
        let mut options = Options::new(self.identity.clone());
        options.reconnect.enabled = false;
        options
    }

    /// The topic the reply arrives on.
    pub fn reply_topic(&self) -> String {
        match self.mode {
            ActivationMode::Legacy => format!("activate/{}", self.identity),
            ActivationMode::Provision => format!("$provision/{}", self.identity),
        }
    }

    fn request(&self) -> (String, Vec<u8>) {
        match self.mode {
            ActivationMode::Legacy => ("activate".into(), self.identity.clone().into_bytes()),
            ActivationMode::Provision => (self.reply_topic(), Vec::new()),
        }
    }

    /// The outcome once known.
    pub fn outcome(&self) -> Option<&Result<Credentials, ActivationError>> {
        self.outcome.as_ref()
    }

    fn finish(&mut self, outcome: Result<Credentials, ActivationError>) {
        if self.outcome.is_none() {
            self.outcome = Some(outcome);
            self.deadline = None;
            self.commands.push_back(Command::Disconnect);
        }
    }
}

impl Flow for Activation {
    type Output = Result<Credentials, ActivationError>;

    fn handle_event(&mut self, now: Instant, event: &Event) {
        if self.outcome.is_some() {
            return;
        }
        match event {
            Event::Connected { .. } => {
                self.commands.push_back(Command::Subscribe(vec![(
                    self.reply_topic(),
                    QoS::AtLeastOnce,
                )]));
            }
            Event::Subscribed { granted, .. } => {
                if granted.iter().any(Option::is_none) {
                    self.finish(Err(ActivationError::NotAuthorized(self.reply_topic())));
                } else {
                    let (topic, payload) = self.request();
                    self.commands.push_back(Command::Publish {
                        topic,
                        payload,
                        qos: QoS::AtLeastOnce,
                        retain: false,
                    });
                    self.deadline = Some(now + self.reply_timeout);
                }
            }
            // The provision request is published on the reply topic: skip its empty echo.
            Event::Message(m) if m.topic == self.reply_topic() && !m.payload.is_empty() => {
                let outcome = match String::from_utf8(m.payload.clone()) {
                    Ok(password) => Ok(Credentials {
                        username: self.identity.clone(),
                        password,
                    }),
                    Err(_) => Err(ActivationError::BadReply),
                };
                self.finish(outcome);
            }
            Event::ConnectionLost {
                error,
                reconnect_in: None,
                ..
            } => {
                self.finish(Err(ActivationError::Session(error.clone())));
            }
            _ => {}
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|d| now >= d) {
            self.finish(Err(ActivationError::NoReply(self.reply_timeout.as_secs())));
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    fn poll_output(&mut self) -> Option<Self::Output> {
        if self.reported {
            return None;
        }
        let outcome = self.outcome.clone()?;
        self.reported = true;
        Some(outcome)
    }
}
