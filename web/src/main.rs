//! The yew front end: activation, console, echo host, device and platform pages.
//!
//! Imports run one way, bottom to top:
//!
//! ```text
//! format, model          text helpers; what pages share and what a page is (no page named)
//! components             leaf views: props in, callbacks out
//! context, runtime       the app's common actions; the tab's MQTT client (client_wasm)
//! pages/<page>           each page: state + reducer, what it starts (ops), view
//! pages (registry)       one line per page
//! state                  the app's reducer over model + pages
//! app                    the provider: effects, layout
//! ```
//!
//! The reducers (`state`, `model` and each page's `state.rs`) and the text helpers are plain
//! Rust and build and test natively (`cargo test -p web`); everything that touches the browser
//! (views, provider, MQTT runtime, storage) is wasm32-only.
#![forbid(unsafe_code)]
// yew's `#[component]` turns a `pub fn` into a `pub struct` whose `Props` must then be `pub` too.
#![cfg_attr(target_arch = "wasm32", allow(unreachable_pub))]
// Natively only the reducer and its tests are compiled; the views that use it are wasm32-only.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod format;
mod model;
mod pages;
mod state;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod context;
#[cfg(target_arch = "wasm32")]
mod runtime;
#[cfg(target_arch = "wasm32")]
mod storage;

#[cfg(target_arch = "wasm32")]
fn main() {
    app::start();
}

/// Natively there is no page to show: this binary exists so that the reducer tests run on the
/// host. Build the app with `scripts/build-web.sh`.
#[cfg(not(target_arch = "wasm32"))]
fn main() {}
