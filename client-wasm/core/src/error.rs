//! The session's errors, split as quinn splits them: why a connection died
//! ([`ConnectionError`], carried in `Event::ConnectionLost`) apart from why a call was refused
//! ([`CommandError`], returned by `subscribe`, `unsubscribe`, `publish` and an adapter's
//! `connect`). Every cause stays typed from the adapter to the user: adapters report transport
//! failures as a [`TransportFailure`], the session's own findings are a [`ProtocolViolation`].

mod command;
mod connection;
mod decode;
mod encode;
mod options;
mod refused;
mod store;
mod transport;
mod violation;

pub use command::CommandError;
pub use connection::ConnectionError;
pub use decode::DecodeError;
pub use encode::EncodeError;
pub use options::OptionsError;
pub use refused::ConnectRefused;
pub use store::StoreError;
pub use transport::TransportFailure;
pub use violation::ProtocolViolation;

#[cfg(test)]
mod tests;
