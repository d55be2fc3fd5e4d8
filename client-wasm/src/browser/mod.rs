//! The browser runtime adapter: the sans-IO [`Session`](mqtt_core::Session) on a
//! `web_sys::WebSocket`, one timer and IndexedDB, cut as tungstenite cuts `WebSocketContext`
//! from `WebSocket<Stream>`:
//!
//! ```text
//!  Client (client: the handle) ── Command ──▶ driver (the loop) ──▶ Session ──▶ events ──▶ on_event, flows
//!                                               │  runner: a Request on the session (and its store)
//!        socket (WebSocket "mqtt") ◀── bytes ───┤  timer (Worker, setTimeout fallback) · clock
//!        storage + idb (IndexedDB) ◀── rows ────┤  online (reconnect when the network is back)
//!        share (Web Lock + BroadcastChannel) ◀──┘  only when the connection is shared: mqtt_tabs
//! ```
//!
//! With a stored session, bytes and events wait for the commit of the state they depend on
//! (`mqtt_core::persist`): a QoS 1/2 publish is accepted once its row is committed, and nothing
//! goes to the WebSocket before the store holds what it implies.
//!
//! The runtime pieces are small structs with narrow APIs, each in its module: the transport
//! (`socket`: open, send, close, one callback), the timer (`timer`: arm, cancel, one
//! callback), the store (`storage`: open and read, write one snapshot) and the sharing
//! (`share`: post a message, hold a lock). An edge runtime replaces these and keeps the
//! driver's rules.

mod client;
mod clock;
mod command;
mod console;
mod driver;
mod idb;
mod online;
mod runner;
mod share;
mod socket;
mod storage;
mod timer;

pub use client::{BrowserConfig, Client};
pub use clock::now;
pub use driver::flow::FlowHandle;
pub use mqtt_tabs::TabRole;
pub use storage::storage_key;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
