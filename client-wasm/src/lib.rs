//! MQTT 3.1.1 in the browser: the web-sys WebSocket adapter around [`mqtt_core::Session`] and the
//! JavaScript API that `wasm-pack build` packages.
//!
//! ```text
//!  JS API (js) ── Client (browser: one event-loop turn per socket event) ── mqtt_core::Session
//!                   │  WebSocket (subprotocol "mqtt") · worker timers · localStorage
//! ```
//!
//! Everything here is wasm32-only except [`close`] (pure: a `CloseEvent` as a transport failure),
//! which the native close-code contract test also calls; `cargo test --workspace` builds it.
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
pub mod browser;
pub mod close;
#[cfg(target_arch = "wasm32")]
pub mod js;
