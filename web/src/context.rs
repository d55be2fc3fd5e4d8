//! The app context: what any page may ask of the app whatever page it is ([`Common`] actions,
//! stopping the connection). Made once by the app, so it never changes and never renders a page.
//! A page's own actions and commands come as props instead (see `pages`).

use yew::prelude::*;

use crate::model::settings::{Action as SettingsAction, Field};
use crate::model::Common;

#[derive(Clone, PartialEq)]
pub struct AppContext {
    pub common: Callback<Common>,
    /// Disconnect whatever runs (console, echo host, device, platform, activation).
    pub stop: Callback<()>,
}

impl AppContext {
    /// A callback that sends the common action made from its argument.
    pub fn on<T: 'static>(&self, make: impl Fn(T) -> Common + 'static) -> Callback<T> {
        self.common.reform(make)
    }

    /// For the connection panel's fields.
    pub fn set_field(&self) -> Callback<(Field, String)> {
        self.on(|(field, value)| Common::Settings(SettingsAction::Set(field, value)))
    }

    /// A click handler that stops the connection.
    pub fn stop(&self) -> Callback<MouseEvent> {
        self.stop.reform(|_| ())
    }
}

/// The app's context, or (outside the provider, a programming error) a page that says so.
#[hook]
pub fn use_app() -> Result<AppContext, Html> {
    use_context::<AppContext>().ok_or_else(|| {
        html! {
            <p id="app-error" class="notice" role="alert">
                { "This page must be shown inside the app (no AppContext provider)." }
            </p>
        }
    })
}
