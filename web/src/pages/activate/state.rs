//! The activation page's state and reducer.

use std::rc::Rc;

use mqtt_flows::{ActivationError, ActivationMode, ConsoleMode, Credentials, LoginStyle};

use crate::model::{Around, Hooks, Page, PageState, Settings};
use crate::pages::console;

/// This page: its route, title and client-id suffix.
pub(crate) const PAGE: Page = Page::new("activate", "Activate", "");

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActivationState {
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
pub(crate) enum Action {
    SetMode(ActivationMode),
    SetLogin(LoginStyle),
    SetSubscribe(bool),
    /// The flow's outcome. Credentials go into the connection panel at once: the console and
    /// "remember" use them.
    Outcome(Result<Credentials, ActivationError>),
    /// Hand the activated credentials to the connection panel again and open the console.
    UseCredentials,
}

impl PageState for ActivationState {
    type Action = Action;

    fn reduce(&mut self, action: Action, around: &mut Around<'_>) {
        match action {
            Action::SetMode(mode) => self.mode = mode,
            Action::SetLogin(login) => self.login = login,
            Action::SetSubscribe(subscribe) => self.subscribe = subscribe,
            Action::Outcome(outcome) => {
                if let Ok(c) = &outcome {
                    self.hand_over(c.clone(), around.settings);
                }
                self.finished(outcome);
            }
            Action::UseCredentials => {
                if let Some(c) = self.credentials.clone() {
                    self.hand_over(c, around.settings);
                    *around.page = console::PAGE;
                }
            }
        }
    }

    /// Nothing to hand over before an activation succeeded.
    fn ignores(&self, action: &Action) -> bool {
        matches!(action, Action::UseCredentials) && self.credentials.is_none()
    }
}

impl Hooks for ActivationState {
    fn started(&mut self, settings: &Settings) {
        self.lines = vec![format!("Activating {}…", settings.identity.trim())];
        self.credentials = None;
        self.error = None;
    }

    fn running(&mut self, running: bool) {
        self.running = running;
    }

    /// The flow reports a refused reply subscription as its outcome.
    fn reports_refused_subscriptions(&self) -> bool {
        false
    }
}

impl ActivationState {
    /// The console follows the activation's API (`$provision`: `$resource`) and log-in style.
    fn hand_over(&self, c: Credentials, settings: &mut Rc<Settings>) {
        let (api, login) = match self.mode {
            ActivationMode::Provision => (ConsoleMode::Resource, self.login),
            ActivationMode::Legacy => (ConsoleMode::Legacy, LoginStyle::Identity),
        };
        Rc::make_mut(settings).take_credentials(c, api, login);
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
