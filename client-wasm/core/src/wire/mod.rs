//! The contract between the bridge and its clients, defined once: every crate that speaks it
//! (ws-bridge, the browser adapter, the native CLI, the demo and the tests) imports it from here.
//!
//! - [`frame`]: the MQTT fixed header and its remaining-length varint, which the bridge needs to
//!   cut a byte stream into packets without decoding them.

pub mod frame;
