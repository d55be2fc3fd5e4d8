//! MQTT 3.1.1 for the browser and the edge: the runtime-neutral loop around
//! [`mqtt_core::Session`], one runtime's pieces, and the JavaScript API that the npm package
//! ships (see `scripts/build-pkg.sh`).
//!
//! ```text
//!  JS API (js) ── Client (client) ── driver (one event-loop turn per input) ── mqtt_core::Session
//!                                      │  runtime: Link · Timer · Store (runtime.rs)
//!            browser (feature "browser"): WebSocket · Worker timer · IndexedDB · tab sharing
//!            edge (feature "edge"): the package's JS transports (TLS, TCP, WebSocket) and stores
//!            edge-tls (feature "edge-tls"): edge + TlsSession, rustls in the wasm (tls_session)
//! ```
//!
//! One runtime is compiled in, by feature: `browser` (the default) or `edge` (build with
//! `--no-default-features --features edge`). Everything here is wasm32-only except [`close`] and
//! [`link_failure`] (pure: a transport's report as the session's failure), which native tests
//! also call; `cargo test --workspace` builds them.
#![forbid(unsafe_code)]

#[cfg(all(target_arch = "wasm32", feature = "browser"))]
pub mod browser;
#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod clock;
pub mod close;
#[cfg(target_arch = "wasm32")]
mod command;
#[cfg(target_arch = "wasm32")]
mod console;
#[cfg(target_arch = "wasm32")]
mod driver;
#[cfg(all(target_arch = "wasm32", feature = "edge", not(feature = "browser")))]
mod edge;
#[cfg(target_arch = "wasm32")]
pub mod js;
pub mod link_failure;
#[cfg(target_arch = "wasm32")]
mod microtask;
#[cfg(target_arch = "wasm32")]
mod online;
#[cfg(target_arch = "wasm32")]
mod platform;
#[cfg(target_arch = "wasm32")]
mod record;
#[cfg(target_arch = "wasm32")]
mod reflect;
#[cfg(target_arch = "wasm32")]
mod runner;
#[cfg(target_arch = "wasm32")]
mod runtime;
#[cfg(target_arch = "wasm32")]
mod timer;
#[cfg(all(target_arch = "wasm32", feature = "edge-tls"))]
pub mod tls_session;

#[cfg(target_arch = "wasm32")]
pub use client::{Client, ClientConfig};
#[cfg(target_arch = "wasm32")]
pub use clock::now;
#[cfg(target_arch = "wasm32")]
pub use driver::flow::FlowHandle;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
