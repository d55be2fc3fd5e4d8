//! Starting `ws-bridge` (the real binary or in-process), WebSocket clients for it, raw MQTT
//! packets, and the third-party (Python paho-mqtt) client runner.
//!
//! The binary: the tests crate cannot use `CARGO_BIN_EXE_ws-bridge` (that exists only inside
//! ws-bridge's own tests), so [`bridge_binary`] looks for `<target>/<profile>/ws-bridge` next to
//! the running test executable, or takes `WS_BRIDGE_BIN`. Build it first:
//!
//! ```text
//! cargo build -p ws-bridge && cargo test -p tests
//! ```
//!
//! [`bridge_binary`] refuses a binary older than the ws-bridge sources, so a stale build fails
//! loudly instead of testing old code.

mod config;
mod http;
pub mod mqtt;
mod paho;
mod process;
mod stream;
mod ws;

pub use config::{
    config_for, route_to_broker, route_to_port, start_in_process, test_limits, toml_for_broker,
};
pub use http::{http_get, http_request};
pub use paho::{require_paho, run_python_client, PAHO_INSTALL};
pub use process::{bridge_binary, BridgeProcess};
pub use stream::{client_tls, ClientStream};
pub use ws::{expect_close, read_packets, refused_status, send_bin, ws_connect, Ws, WsOptions};
