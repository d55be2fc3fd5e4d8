//! The building blocks every page may use, and nothing that knows a page: the connection panel's
//! settings, the tab's connection, the message log, the loop counters, and what a page is
//! ([`page`]). Plain Rust, tested natively.

pub(crate) mod conn;
pub(crate) mod log;
pub(crate) mod loop_stats;
pub(crate) mod page;
pub(crate) mod page_state;
pub(crate) mod settings;
pub(crate) mod shared;

use crate::format::PayloadFormat;

pub(crate) use conn::{Conn, Report, Status};
pub(crate) use log::{Dir, Row};
pub(crate) use page::Page;
pub(crate) use page_state::{Around, Hooks, PageState};
pub(crate) use settings::Settings;

/// What any page may ask of the app, whatever page it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Common {
    Navigate(Page),
    /// The connection panel (its fields, remember, the Murano API).
    Settings(settings::Action),
    /// How both message logs show payloads.
    Format(PayloadFormat),
}
