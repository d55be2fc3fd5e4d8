//! The building blocks every page may use, and nothing that knows a page: the connection panel's
//! settings, the tab's connection, the message log, the loop counters, and what a page is
//! ([`page`]). Plain Rust, tested natively.

pub mod conn;
pub mod log;
pub mod loop_stats;
pub mod page;
pub mod page_state;
pub mod settings;
pub mod shared;

use crate::format::PayloadFormat;

pub use conn::{Conn, Report, Status};
pub use log::{Dir, Row};
pub use page::Page;
pub use page_state::{Around, Hooks, PageState};
pub use settings::Settings;

/// What any page may ask of the app, whatever page it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Common {
    Navigate(Page),
    /// The connection panel (its fields, remember, the Murano API).
    Settings(settings::Action),
    /// How both message logs show payloads.
    Format(PayloadFormat),
}
