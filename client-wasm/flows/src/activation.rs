//! Murano device activation (seed 000), legacy and current.
//!
//! Legacy: connect anonymously with client id = identity, subscribe `activate/<identity>`,
//! publish the identity to `activate`; the reply's payload is the password.
//! Current (`$provision`): subscribe `$provision/<identity>`, publish an empty message to
//! `$provision/<identity>` at QoS 1; the token comes back as a message on that topic. Some
//! Murano versions push the reply without a subscription, so the subscription can be left out
//! ([`Activation::subscribing`]) and a reply is taken whenever it comes; a refused subscription
//! is not fatal in this mode.
//!
//! Log-in styles ([`LoginStyle`]): Exosite's documentation logs in with the identity as user
//! name and the token as password; some published examples connect with an empty client id and
//! log in with an empty user name and the token alone.

use core::time::Duration;
use std::collections::VecDeque;

use super::{Command, Flow};
use mqtt_core::{ConnectionError, Event, Instant, Options, QoS};

/// Which Murano activation API to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActivationMode {
    /// `activate` / `activate/<identity>`, as in the seed's activate.py.
    #[default]
    Legacy,
    /// `$provision/<identity>`, the current Murano API.
    Provision,
}

/// How a device provisions and then logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoginStyle {
    /// Client id = identity; log in with user name = identity, password = token (the docs).
    #[default]
    Identity,
    /// Empty client id; log in with an empty user name and the token as password (examples).
    TokenOnly,
}

impl LoginStyle {
    /// The command-line spelling.
    pub fn key(self) -> &'static str {
        match self {
            LoginStyle::Identity => "identity",
            LoginStyle::TokenOnly => "token-only",
        }
    }

    /// The style a command-line spelling ([`LoginStyle::key`]) names; `None` for another word.
    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "identity" => Some(LoginStyle::Identity),
            "token-only" => Some(LoginStyle::TokenOnly),
            _ => None,
        }
    }

    /// The client id this style connects with.
    pub fn client_id(self, identity: &str) -> String {
        match self {
            LoginStyle::Identity => identity.into(),
            LoginStyle::TokenOnly => String::new(),
        }
    }

    /// Session options for a device that logs in with `token` (an empty client id needs a
    /// clean session, [MQTT-3.1.3-7]).
    pub fn login_options(self, identity: &str, token: &str) -> Options {
        let user = match self {
            LoginStyle::Identity => identity,
            LoginStyle::TokenOnly => "",
        };
        let mut options = Options::new(self.client_id(identity))
            .with_credentials(user, token.as_bytes().to_vec());
        if self == LoginStyle::TokenOnly {
            options.clean_session = true;
        }
        options
    }
}

/// What activation gives: what the device logs in with from now on (the user name is empty in
/// the [`LoginStyle::TokenOnly`] style).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name to send in CONNECT (MQTT 3.1.1 §3.1.3.4 User Name).
    pub username: String,
    /// The password to send in CONNECT (MQTT 3.1.1 §3.1.3.5 Password): the activation reply.
    pub password: String,
}

/// Why activation gave no credentials.
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
    /// The reply's payload is not UTF-8, so it cannot be a password.
    #[error("the activation reply is not UTF-8 text")]
    BadReply,
    /// The connection was lost and the session will not retry it.
    #[error(transparent)]
    Session(ConnectionError),
}

/// The activation flow for one identity: reports its outcome ([`Credentials`] or an
/// [`ActivationError`]) once, then disconnects.
pub struct Activation {
    identity: String,
    mode: ActivationMode,
    login: LoginStyle,
    subscribe: bool,
    reply_timeout: Duration,
    deadline: Option<Instant>,
    commands: VecDeque<Command>,
    outcome: Option<Result<Credentials, ActivationError>>,
    reported: bool,
}

impl Activation {
    /// Activation of `identity` with `mode`: identity log-in, subscribing to the reply topic,
    /// a 10 s reply timeout.
    pub fn new(identity: impl Into<String>, mode: ActivationMode) -> Self {
        Self {
            identity: identity.into(),
            mode,
            login: LoginStyle::Identity,
            subscribe: true,
            reply_timeout: Duration::from_secs(10),
            deadline: None,
            commands: VecDeque::new(),
            outcome: None,
            reported: false,
        }
    }

    /// How long to wait for the reply, counted from sending the request.
    pub fn with_reply_timeout(mut self, timeout: Duration) -> Self {
        self.reply_timeout = timeout;
        self
    }

    /// How the device logs in afterwards (and which client id it provisions with).
    pub fn with_login(mut self, login: LoginStyle) -> Self {
        self.login = login;
        self
    }

    /// Whether to subscribe to the reply topic before asking (default: yes). Without it the
    /// request goes out as soon as the session is up and the reply must be pushed.
    pub fn subscribing(mut self, subscribe: bool) -> Self {
        self.subscribe = subscribe;
        self
    }

    /// Session options for activation: anonymous, client id = identity (empty in the token-only
    /// style), one attempt only.
    pub fn session_options(&self) -> Options {
        let mut options = Options::new(self.login.client_id(&self.identity));
        options.clean_session = true;
        options.reconnect.enabled = false;
        options
    }

    fn ask(&mut self, now: Instant) {
        let (topic, payload) = self.request();
        self.commands.push_back(Command::Publish {
            topic,
            payload,
            qos: QoS::AtLeastOnce,
            retain: false,
        });
        self.deadline = Some(now + self.reply_timeout);
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
            Event::Connected { .. } if self.subscribe => {
                self.commands.push_back(Command::Subscribe(vec![(
                    self.reply_topic(),
                    QoS::AtLeastOnce,
                )]));
            }
            Event::Connected { .. } => self.ask(now),
            Event::Subscribed { granted, .. } if self.deadline.is_none() => {
                // A pushed reply may still come on the current API; the legacy one needs the
                // subscription.
                let refused = granted.iter().any(Option::is_none);
                if refused && self.mode == ActivationMode::Legacy {
                    self.finish(Err(ActivationError::NotAuthorized(self.reply_topic())));
                } else {
                    self.ask(now);
                }
            }
            // The provision request is published on the reply topic: skip its empty echo.
            Event::Message(m) if m.topic == self.reply_topic() && !m.payload.is_empty() => {
                let outcome = match String::from_utf8(m.payload.clone()) {
                    Ok(password) => Ok(Credentials {
                        username: match self.login {
                            LoginStyle::Identity => self.identity.clone(),
                            LoginStyle::TokenOnly => String::new(),
                        },
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
