//! Where to connect and as whom: the connection panel every page shows, and its reducer.

use mqtt_flows::{ConsoleMode, Credentials, LoginStyle};

use super::page::Page;
use crate::format;

/// A text input of the connection panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Url,
    Route,
    Product,
    Identity,
    Username,
    Password,
    ClientId,
}

/// Where to connect and as whom (the connection panel).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Settings {
    pub url: String,
    pub route: String,
    pub product: String,
    pub identity: String,
    pub username: String,
    pub password: String,
    /// Empty: the identity plus the page's suffix.
    pub client_id: String,
    /// Remember the credentials in this browser (localStorage).
    pub remember: bool,
    /// How the device talks to Murano: legacy `<identity>/<resource>` or the current
    /// `$resource/<alias>`. Chosen on the console; a successful activation sets it.
    pub api: ConsoleMode,
    /// How the device logs in with the current API (also set by an activation).
    pub login: LoginStyle,
}

/// What the user (or an activation) does to the settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    Set(Field, String),
    Remember(bool),
    /// Forget the remembered credentials (the app clears the storage).
    Forget,
    Api(ConsoleMode),
    Login(LoginStyle),
}

impl Settings {
    pub(crate) fn endpoint(&self) -> Result<String, String> {
        format::endpoint(&self.url, &self.route, &self.product)
    }

    pub(crate) fn client_id_for(&self, page: Page) -> String {
        match self.client_id.trim() {
            "" => self.default_client_id(page),
            id => id.to_string(),
        }
    }

    /// The client id used when the field is empty: the identity plus the page's suffix.
    pub(crate) fn default_client_id(&self, page: Page) -> String {
        format!("{}{}", self.identity.trim(), page.client_suffix())
    }

    pub(crate) fn reduce(&mut self, action: Action) {
        match action {
            Action::Set(field, value) => self.set(field, value),
            Action::Remember(remember) => self.remember = remember,
            Action::Forget => self.remember = false,
            Action::Api(api) => self.api = api,
            Action::Login(login) => self.login = login,
        }
    }

    /// Takes an activation's credentials and the API and log-in style it used. An empty user
    /// name (the token-only style) keeps the identity typed.
    pub(crate) fn take_credentials(&mut self, c: Credentials, api: ConsoleMode, login: LoginStyle) {
        if !c.username.is_empty() {
            self.identity = c.username.clone();
        }
        self.username = c.username;
        self.password = c.password;
        self.api = api;
        self.login = login;
    }

    fn set(&mut self, field: Field, value: String) {
        *match field {
            Field::Url => &mut self.url,
            Field::Route => &mut self.route,
            Field::Product => &mut self.product,
            Field::Identity => &mut self.identity,
            Field::Username => &mut self.username,
            Field::Password => &mut self.password,
            Field::ClientId => &mut self.client_id,
        } = value;
    }
}
