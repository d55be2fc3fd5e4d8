//! The activation page's state and reducer.

use mqtt_core::flows::{ActivationError, ActivationMode, Credentials, LoginStyle};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationState {
    pub mode: ActivationMode,
    /// How the device logs in afterwards (and which client id provisions).
    pub login: LoginStyle,
    /// Subscribe to the reply topic before asking (off: the reply must be pushed).
    pub subscribe: bool,
    pub running: bool,
    /// The seed's printed lines (`Activation succeeded!`, `username = …`, `password = …`).
    pub lines: Vec<String>,
    pub credentials: Option<Credentials>,
    pub error: Option<String>,
}

impl Default for ActivationState {
    fn default() -> Self {
        Self {
            mode: ActivationMode::default(),
            login: LoginStyle::default(),
            subscribe: true,
            running: false,
            lines: Vec::new(),
            credentials: None,
            error: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetMode(ActivationMode),
    SetLogin(LoginStyle),
    SetSubscribe(bool),
    /// A new activation of `identity` began.
    Started {
        identity: String,
    },
    Running(bool),
    Outcome(Result<Credentials, ActivationError>),
}

impl ActivationState {
    pub fn reduce(&mut self, action: Action) {
        match action {
            Action::SetMode(mode) => self.mode = mode,
            Action::SetLogin(login) => self.login = login,
            Action::SetSubscribe(subscribe) => self.subscribe = subscribe,
            Action::Started { identity } => {
                self.lines = vec![format!("Activating {}…", identity.trim())];
                self.credentials = None;
                self.error = None;
            }
            Action::Running(running) => self.running = running,
            Action::Outcome(outcome) => self.finished(outcome),
        }
    }

    fn finished(&mut self, outcome: Result<Credentials, ActivationError>) {
        self.running = false;
        match outcome {
            Ok(c) => {
                self.lines = vec![
                    "Activation succeeded!".into(),
                    format!("username = {}", c.username).trim_end().to_string(),
                    format!("password = {}", c.password),
                ];
                self.credentials = Some(c);
                self.error = None;
            }
            Err(e) => {
                let text = e.to_string();
                self.lines = vec![format!("Activation failed: {text}")];
                self.error = Some(text);
            }
        }
    }
}
