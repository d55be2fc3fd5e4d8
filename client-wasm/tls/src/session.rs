//! A sans-IO TLS client session: the npm package's in-wasm TLS (`tls: "package"`) over a runtime's
//! plain TCP socket. No socket, no timer: ciphertext from the socket goes in, plaintext for the
//! MQTT session comes out, and the other way round; the caller moves the bytes.
//!
//! ```text
//!  socket bytes ─▶ receive() ─▶ take_plaintext() ─▶ MQTT session
//!  MQTT session ─▶ write()   ─▶ take_ciphertext() ─▶ socket
//!  after each call: take_ciphertext() (handshake flights, alerts); is_handshaking() until up
//! ```
//!
//! Randomness and time are the crypto provider's (ring: `crypto.getRandomValues` in wasm) and
//! rustls' (`UnixTime::now`: `Date.now()` in wasm). A failure is sorted once, by
//! [`crate::classify`]: before the first byte of plaintext from the server it is a handshake
//! failure (over TLS 1.3 a refused client certificate arrives just after the client's side of
//! the handshake is done), after it a broken session.

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;

use rustls::{ClientConfig, ClientConnection};
use rustls_pki_types::ServerName;

use crate::classify::{ClientCertOffer, HandshakeError};
use crate::error::TlsSetupError;
use crate::TlsFailure;

/// Why the session cannot go on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The handshake failed (the peer's certificate, an alert from the server...), before any
    /// plaintext came from the server. Not retried.
    #[error(transparent)]
    Handshake(HandshakeError),
    /// The session broke after it was up (a bad record, an alert): a dropped link.
    #[error("the TLS session broke: {0}")]
    Broken(rustls::Error),
}

impl SessionError {
    /// The TLS failure kind of a handshake failure; `None` for a session broken later.
    pub fn kind(&self) -> Option<TlsFailure> {
        match self {
            SessionError::Handshake(handshake) => Some(handshake.kind()),
            SessionError::Broken(_) => None,
        }
    }
}

/// One TLS client session (see the module docs).
#[derive(Debug)]
pub struct TlsSession {
    conn: ClientConnection,
    /// The name verified, for messages.
    server: String,
    offer: ClientCertOffer,
    /// Plaintext from the server not yet taken.
    plaintext: Vec<u8>,
    /// Some plaintext came from the server: failures from now on break an established session.
    established: bool,
    /// The server sent close_notify.
    peer_closed: bool,
    failed: Option<SessionError>,
}

impl TlsSession {
    /// A session to `server_name` (SNI and the name verified: a DNS name or an IP address),
    /// starting its handshake (the ClientHello is ready in [`TlsSession::take_ciphertext`]).
    pub fn new(config: Arc<ClientConfig>, server_name: &str) -> Result<TlsSession, TlsSetupError> {
        let name = ServerName::try_from(server_name.to_string())
            .map_err(|_| TlsSetupError::ServerName(server_name.into()))?;
        let offer = ClientCertOffer::of(&config);
        let mut conn = ClientConnection::new(config, name)
            .map_err(|e| TlsSetupError::Provider(e.to_string()))?;
        // No cap on ciphertext waiting to be taken: the caller takes it after every write, and a
        // write (a window of publishes) may be larger than rustls' default 64 KiB, which would
        // otherwise refuse the rest ("failed to write whole buffer").
        conn.set_buffer_limit(None);
        Ok(TlsSession {
            conn,
            server: server_name.to_string(),
            offer,
            plaintext: Vec::new(),
            established: false,
            peer_closed: false,
            failed: None,
        })
    }

    /// Feeds ciphertext from the socket. After an error, take the ciphertext left (an alert for
    /// the server) and close the socket; every later call returns the same error.
    pub fn receive(&mut self, mut ciphertext: &[u8]) -> Result<(), SessionError> {
        if let Some(failed) = &self.failed {
            return Err(failed.clone());
        }
        while !ciphertext.is_empty() {
            let step = self
                .conn
                .read_tls(&mut ciphertext)
                .map_err(|e| rustls::Error::General(e.to_string()))
                .and_then(|_| self.conn.process_new_packets().map(|_| ()));
            if let Err(error) = step {
                return Err(self.fail(&error));
            }
            self.drain_plaintext();
        }
        Ok(())
    }

    /// Queues plaintext for the server (rustls holds it until the handshake is done).
    pub fn write(&mut self, plaintext: &[u8]) -> Result<(), SessionError> {
        if let Some(failed) = &self.failed {
            return Err(failed.clone());
        }
        let written = self.conn.writer().write_all(plaintext);
        written.map_err(|e| self.fail(&rustls::Error::General(e.to_string())))
    }

    /// Plaintext from the server since the last call (empty when none).
    pub fn take_plaintext(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.plaintext)
    }

    /// Ciphertext for the socket since the last call (empty when none).
    pub fn take_ciphertext(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut out) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        out
    }

    /// True until the handshake is complete (the session may then carry MQTT).
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// The server ended the session cleanly (close_notify).
    pub fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Sends close_notify (take it with [`TlsSession::take_ciphertext`]).
    pub fn close(&mut self) {
        self.conn.send_close_notify();
    }

    /// The transport ended (EOF) with the session in this state: its failure, a handshake
    /// failure when the handshake was not done, else `None` (an ordinary drop).
    pub fn ended(&self) -> Option<SessionError> {
        if let Some(failed) = &self.failed {
            return Some(failed.clone());
        }
        (self.conn.is_handshaking() && !self.peer_closed).then(|| {
            SessionError::Handshake(HandshakeError::Other(rustls::Error::General(format!(
                "{} closed the connection during the TLS handshake",
                self.server
            ))))
        })
    }

    fn drain_plaintext(&mut self) {
        let mut chunk = [0u8; 4096];
        loop {
            match self.conn.reader().read(&mut chunk) {
                Ok(0) => {
                    self.peer_closed = true;
                    break;
                }
                Ok(n) => {
                    self.established = true;
                    self.plaintext
                        .extend_from_slice(chunk.get(..n).unwrap_or_default());
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.peer_closed = true;
                    break;
                }
            }
        }
    }

    fn fail(&mut self, error: &rustls::Error) -> SessionError {
        let failure = if self.established {
            SessionError::Broken(error.clone())
        } else {
            SessionError::Handshake(HandshakeError::from_rustls(&self.server, error, self.offer))
        };
        self.failed = Some(failure.clone());
        failure
    }
}

#[cfg(test)]
mod tests;
