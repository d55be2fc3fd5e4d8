//! The platform page's state and reducer: the portal's credentials, the write form and its log.

use crate::model::log::{Log, LogAction};
use crate::model::{Around, Hooks, Page, PageState, Row};

/// This page: its route, title and client-id suffix.
pub(crate) const PAGE: Page = Page::new("platform", "Platform", "-platform");

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlatformState {
    pub username: String,
    pub password: String,
    pub identity: String,
    pub resource: String,
    pub value: String,
    /// Write through Murano's current API: the device gets `$resource/<alias>/<µs>`.
    pub current_api: bool,
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
            current_api: false,
            log: Log::default(),
        }
    }
}

impl PlatformState {
    /// `<identity>/<resource>`, where the device console receives platform writes; with the
    /// current API, `$resource/<identity>/<resource>`, which the demo's front delivers to the
    /// device as `$resource/<resource>/<µs>`.
    pub(crate) fn topic(&self) -> String {
        let prefix = if self.current_api { "$resource/" } else { "" };
        format!("{prefix}{}/{}", self.identity.trim(), self.resource.trim())
    }
}

/// A text input of the platform page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    User,
    Password,
    Identity,
    Resource,
    Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    Set(Field, String),
    SetCurrentApi(bool),
    Log(LogAction),
}

impl PageState for PlatformState {
    type Action = Action;

    fn reduce(&mut self, action: Action, _: &mut Around<'_>) {
        match action {
            Action::Set(field, value) => {
                *match field {
                    Field::User => &mut self.username,
                    Field::Password => &mut self.password,
                    Field::Identity => &mut self.identity,
                    Field::Resource => &mut self.resource,
                    Field::Value => &mut self.value,
                } = value;
            }
            Action::SetCurrentApi(on) => self.current_api = on,
            Action::Log(action) => self.log.update(|log| log.apply(action)),
        }
    }
}

impl Hooks for PlatformState {
    fn logged(&mut self, row: Row) {
        self.log.update(|log| log.push(row));
    }
}
