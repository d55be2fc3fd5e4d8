//! The yew front end: activation, console, echo host, device and platform pages.
//!
//! The reducers (`state` and each page's `pages/<page>/state.rs`) and the text helpers (`format`)
//! are plain Rust and build and test natively (`cargo test -p web`); everything that touches the
//! browser (views, provider, MQTT runtime, storage) is wasm32-only.
#![forbid(unsafe_code)]
// Natively only the reducer and its tests are compiled; the views that use it are wasm32-only.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod format;
mod pages;
mod state;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod mqtt;
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
