//! The contract between the bridge and its clients, defined once: every crate that speaks it
//! (ws-bridge, the browser adapter, the native CLI, the web app, the demo and the tests) imports
//! it from here.
//!
//! - [`frame`]: the MQTT fixed header and its remaining-length varint, which the bridge needs to
//!   cut a byte stream into packets without decoding them.
//! - [`close`]: WebSocket close codes, their classes and the one retry rule.
//! - [`contract`]: the table of close codes every client adapter is tested against.
//! - [`names`]: the Murano product-id rule (and the hosts it makes) and the route-name rule.
//! - [`tls`]: which TLS check failed, and its close code, whatever the TLS library.

pub mod close;
pub mod contract;
pub mod frame;
pub mod names;
pub mod tls;
