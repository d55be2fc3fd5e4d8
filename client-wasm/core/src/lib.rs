//! An MQTT 3.1.1 client whose protocol core owns no socket, timer or clock.
//!
//! ```text
//!            commands: connect, subscribe, unsubscribe, publish, disconnect
//!                 │
//!   bytes in ───▶ ┌──────────────────────┐ ───▶ poll_transmit()   bytes out
//!   open/closed ─▶│  Session (sans-IO)   │ ───▶ poll_transport()  open / close the transport
//!   timeout(now) ▶│  codec · topic ·     │ ───▶ poll_event()      connected, message, acks, lost
//!                 │  reconnect backoff   │ ───▶ poll_timeout()    when to call back
//!                 └──────────────────────┘
//! ```
//!
//! Every input carries `now` ([`Instant`], milliseconds on the adapter's timeline), so the core is
//! deterministic and behaves the same on wasm32 and natively; tests jump simulated time to the
//! next timeout. Runtime adapters are small loops around it, in their own crates: `mqttws`
//! (tokio; TCP, TLS, WS, WSS; the `mqttws` CLI) and `client-wasm` (web-sys WebSocket; the
//! JavaScript API). The seed flows (activation, console, echo host, device loop) sit on top in
//! `mqtt-flows`. This crate has no IO dependency at all, whatever its features.
//!
//! Packets are `mqttrs`'s types, encoded by `mqttrs` behind our size checks ([`packet`]). Bytes
//! from the peer never cause a panic: [`codec::decode`] reads every field through a
//! bounds-checked reader into those types and returns a typed error for anything malformed.
#![forbid(unsafe_code)]

pub mod codec;
mod error;
pub mod packet;
pub mod persist;
pub mod reconnect;
#[cfg(any(test, feature = "server"))]
pub mod sent;
pub mod session;
pub mod takeover;
mod text;
pub mod time;
pub mod topic;
pub mod wire;

pub use error::{
    CommandError, ConnectRefused, ConnectionError, OptionsError, ProtocolViolation,
    TransportFailure,
};
pub use packet::{qos_from_u8, qos_to_u8, QoS};
pub use session::{
    Event, Message, Options, PendingPublish, PublishFailure, PublishId, RequestId, Session,
    TransportAction, Will,
};
/// `n` in decimal without `core::fmt` (see `message()` on the error types).
pub use text::decimal;
pub use time::Instant;

// The unit tests also run in headless Chromium (`wasm-pack test --headless --chrome`).
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
