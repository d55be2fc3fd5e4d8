//! The activation page's state and reducer.

use mqtt_core::flows::{ActivationError, ActivationMode, Credentials};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActivationState {
    pub mode: ActivationMode,
    pub running: bool,
    /// The seed's printed lines (`Activation succeeded!`, `username = …`, `password = …`).
    pub lines: Vec<String>,
    pub credentials: Option<Credentials>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetMode(ActivationMode),
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
                    format!("username = {}", c.username),
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
