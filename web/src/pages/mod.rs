//! The pages. Each folder owns everything about its page: the state and reducer (`state.rs`,
//! tested natively next to it in `tests.rs`), what it starts on the tab's connection
//! (`ops.rs`) and its view (`view.rs`), and names itself in `mod.rs`:
//!
//! ```text
//! pub const PAGE: Page        route, title, client-id suffix
//! pub use State, Action       its state (implements model::PageState) and what changes it
//! pub use Op, run, View       (wasm32) what it starts and how it looks
//! ```
//!
//! A page reaches the rest of the app only through `model` (settings, hooks, `Around`), its
//! props and the app context, never through the app or another page's view. Adding one is
//! its folder plus one line below, in the order of the navigation bar (the first is where
//! unknown routes land).

#[macro_use]
mod registry;

pages! {
    Activate => activate,
    Console => console,
    Echo => echo_host,
    Device => device,
    Platform => platform,
}
