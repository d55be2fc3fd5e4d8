//! The TLS client set-up shared by the `mqttws` CLI and ws-bridge, on rustls with the ring
//! provider (no IO runtime: it reads files and builds configurations, nothing else).
//!
//! ```text
//!  TlsOptions ─┬─ roots:        the public web roots, or a CA PEM file (every certificate usable)
//!              ├─ client_cert:  a certificate chain + key for mutual TLS (X.509 v1 accepted)
//!              └─▶ client_config() ─▶ Arc<rustls::ClientConfig>
//!  server_name(host) ─▶ the SNI name, also the name verified
//!  handshake fails ─▶ classify: HandshakeError (Verification | ClientCertRefused | Refused |
//!                    Other) ─▶ TlsFailure
//!  PemTlsOptions (PEM text: the npm package) ─▶ ClientConfig ─▶ TlsSession (sans-IO, wasm too)
//! ```
//!
//! Errors say whose fault: [`TlsSetupError`] is the caller's (a file or a setting), raised before
//! anything is dialled; [`HandshakeError`] is the peer's or the path's, raised by a handshake.
//! [`TlsFailure`] (from `mqtt_core::wire`) is the one library-independent kind both the CLI's
//! exit codes and the bridge's close codes are derived from.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod classify;
pub mod client_cert;
pub mod config;
pub mod error;
mod no_verify;
pub mod pem;
pub mod pem_options;
pub mod roots;
pub mod session;
mod spki;

pub use classify::{
    classify, classify_alert, classify_certificate, rustls_error, ClientCertOffer, HandshakeError,
    TlsVerifyError,
};
pub use client_cert::{client_cert_resolver, ClientAuth};
pub use config::{server_name, TlsOptions};
pub use error::{ClientCertError, PemError, PemProblem, TlsSetupError};
pub use mqtt_core::wire::tls::TlsFailure;
pub use pem_options::PemTlsOptions;
pub use session::{SessionError, TlsSession};

#[cfg(test)]
mod test_pki;
