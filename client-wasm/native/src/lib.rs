//! Native runtime adapter around `mqtt_core`: tokio, and four transports to the broker.
//!
//! ```text
//!  Driver (tokio loop) ── Session (sans-IO) ── Flow (activation, console, echo host, device)
//!     │
//!     └─ Connector::open ─▶ Transport: mqtt:// TCP · mqtts:// TLS · ws:// WebSocket · wss://
//! ```
//!
//! TLS is rustls with the ring provider, set up by `mqtt_tls` (shared with ws-bridge); the URL's
//! host is the SNI name and the name verified, while [`ConnectTo`] may change the address dialled. WebSocket connections ask for the `mqtt`
//! subprotocol and carry MQTT in binary messages. Failures are typed ([`TransportError`],
//! [`TlsVerifyError`]); the `mqttws` binary maps them to its exit codes.
#![forbid(unsafe_code)]

pub mod credentials;
mod driver;
mod errors;
mod transport;
mod url;

pub use driver::{close_failure, Driver, NoFlow, Output, Step};
pub use errors::{ConfigError, TlsVerifyError, TransportError};
pub use mqtt_tls::{server_name, ClientAuth, TlsOptions, TlsSetupError};
pub use transport::{ByteStream, Connector, Incoming, Transport};
pub use url::{murano_m2_url, murano_product_url, BrokerUrl, ConnectTo, Scheme, UrlError};
