//! The platform page's state and reducer: the portal's credentials, the write form and its log.

use crate::state::log::{Log, LogAction, Row};

#[derive(Debug, Clone, PartialEq)]
pub struct PlatformState {
    pub username: String,
    pub password: String,
    pub identity: String,
    pub resource: String,
    pub value: String,
    pub log: Log,
}

impl Default for PlatformState {
    fn default() -> Self {
        Self {
            username: String::new(),
            password: String::new(),
            identity: String::new(),
            resource: "temperature".into(),
            value: "212".into(),
            log: Log::default(),
        }
    }
}

impl PlatformState {
    /// `<identity>/<resource>`, where the device console receives platform writes.
    pub fn topic(&self) -> String {
        format!("{}/{}", self.identity.trim(), self.resource.trim())
    }
}

/// A text input of the platform page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    User,
    Password,
    Identity,
    Resource,
    Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Set(Field, String),
    Log(LogAction),
    /// A message went out or came in.
    Logged(Row),
}

impl PlatformState {
    pub fn reduce(&mut self, action: Action) {
        match action {
            Action::Set(field, value) => {
                *match field {
                    Field::User => &mut self.username,
                    Field::Password => &mut self.password,
                    Field::Identity => &mut self.identity,
                    Field::Resource => &mut self.resource,
                    Field::Value => &mut self.value,
                } = value
            }
            Action::Log(action) => self.log.update(|log| log.apply(action)),
            Action::Logged(row) => self.log.update(|log| log.push(row)),
        }
    }
}
