//! The current socket and the outbox of packets that wait for the store.

use mqtt_core::persist::Held;
use mqtt_core::wire::close::NORMAL;

use crate::platform::ActiveLink;
use crate::runtime::Link as _;

/// The largest WebSocket message that batches several packets (a larger packet goes alone):
/// small enough for any broker's or bridge's frame limit.
const MAX_BATCH: usize = 16 * 1024;

/// The current socket and what waits to go on it.
pub(super) struct Link {
    pub(super) url: String,
    pub(super) socket: Option<ActiveLink>,
    /// Packets not yet handed to the socket, each until the store holds its change: what is
    /// ready goes out as one WebSocket message (MQTT over WebSockets lets a message carry
    /// several packets), or several of at most `MAX_BATCH` bytes.
    pub(super) outbox: Held<Vec<u8>>,
    /// Bumped for every socket; callbacks of older sockets are ignored.
    pub(super) generation: u64,
}

impl Link {
    pub(super) fn new(url: &str) -> Link {
        Link {
            url: url.to_string(),
            socket: None,
            outbox: Held::default(),
            generation: 0,
        }
    }

    /// Queues a packet for the current socket; without one it is dropped, as the session
    /// resends what needs resending on the next connection.
    pub(super) fn post(&mut self, change: u64, bytes: Vec<u8>) {
        if self.socket.is_some() {
            self.outbox.push(change, bytes);
        }
    }

    /// Sends what the store allows (changes through `through`), batched into messages of at
    /// most `MAX_BATCH` bytes.
    pub(super) fn flush(&mut self, through: Option<u64>) {
        let Some(socket) = &self.socket else {
            self.outbox.clear();
            return;
        };
        let mut message: Vec<u8> = Vec::new();
        while let Some(bytes) = self.outbox.pop_ready(through) {
            if !message.is_empty() && message.len() + bytes.len() > MAX_BATCH {
                socket.send(&std::mem::take(&mut message));
            }
            if message.is_empty() {
                message = bytes;
            } else {
                message.extend_from_slice(&bytes);
            }
        }
        if !message.is_empty() {
            socket.send(&message);
        }
    }

    /// Closes the current socket (its later callbacks are ignored).
    pub(super) fn close(&mut self, reason: &str) {
        self.generation += 1;
        if let Some(socket) = self.socket.take() {
            socket.close(NORMAL, reason);
        }
    }

    /// `end()`: the socket closes and nothing opens again.
    pub(super) fn close_for_good(&mut self) {
        self.close("client ended");
    }
}
