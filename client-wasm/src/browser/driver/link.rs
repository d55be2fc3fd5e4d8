//! The driver's side of the socket: opening it when the session asks, turning what it reports
//! into session inputs, and the outbox of packets that wait for the store.

use std::rc::{Rc, Weak};

use mqtt_core::persist::Held;
use mqtt_core::wire::close::NORMAL;
use mqtt_core::{TransportAction, TransportFailure};

use super::{Driver, State};
use crate::browser::clock::now;
use crate::browser::socket::{Socket, SocketEvent};
use crate::close;

/// The largest WebSocket message that batches several packets (a larger packet goes alone):
/// small enough for any broker's or bridge's frame limit.
const MAX_BATCH: usize = 16 * 1024;

/// The current socket and what waits to go on it.
pub(super) struct Link {
    url: String,
    socket: Option<Socket>,
    /// Packets not yet handed to the socket, each until the store holds its change: what is
    /// ready goes out as one WebSocket message (MQTT over WebSockets lets a message carry
    /// several packets), or several of at most `MAX_BATCH` bytes.
    outbox: Held<Vec<u8>>,
    /// Bumped for every socket; callbacks of older sockets are ignored.
    generation: u64,
    opened: bool,
}

impl Link {
    pub(super) fn new(url: &str) -> Link {
        Link {
            url: url.to_string(),
            socket: None,
            outbox: Held::default(),
            generation: 0,
            opened: false,
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
    fn close(&mut self, reason: &str) {
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

impl Driver {
    /// Carries out what the session asks of the transport.
    pub(super) fn act(
        self: &Rc<Self>,
        state: &mut State,
        action: TransportAction,
        through: Option<u64>,
    ) {
        // What was sent on the old socket (a DISCONNECT) goes before it closes, if the store
        // allows; what waits for the store is for the old socket only.
        state.link.flush(through);
        state.link.outbox.clear();
        match action {
            TransportAction::Open => self.open_socket(state),
            TransportAction::Close => state.link.close(""),
        }
    }

    fn open_socket(self: &Rc<Self>, state: &mut State) {
        state.link.close("");
        state.link.opened = false;
        let generation = state.link.generation;
        let weak: Weak<Driver> = Rc::downgrade(self);
        match Socket::open(&state.link.url, move |event| {
            if let Some(driver) = weak.upgrade() {
                driver.on_socket(generation, event);
            }
        }) {
            Ok(socket) => state.link.socket = Some(socket),
            Err(message) => {
                // `connect` checked the URL; what is left (a SecurityError, say) is local set-up
                // that retrying will not fix.
                let failure = TransportFailure::Setup(format!("cannot open WebSocket: {message}"));
                state.session.handle_transport_closed(now(), failure);
            }
        }
    }

    fn on_socket(self: &Rc<Self>, generation: u64, event: SocketEvent) {
        {
            let mut state = self.state.borrow_mut();
            let State { session, link, .. } = &mut *state;
            if link.generation != generation {
                return;
            }
            let now = now();
            match event {
                SocketEvent::Open => {
                    link.opened = true;
                    session.handle_transport_open(now);
                }
                SocketEvent::Bytes(bytes) => session.handle_bytes(now, &bytes),
                SocketEvent::Text => {
                    link.generation += 1;
                    if let Some(socket) = link.socket.take() {
                        let (code, reason) = close::TEXT_FRAME_REFUSED;
                        socket.close(code, reason);
                    }
                    let failure =
                        TransportFailure::WebSocketProtocol("the server sent a text frame".into());
                    session.handle_transport_closed(now, failure);
                }
                SocketEvent::Close { code, reason } => {
                    link.generation += 1;
                    link.socket = None;
                    let failure = close::failure(code, &reason, link.opened);
                    session.handle_transport_closed(now, failure);
                }
            }
        }
        self.drive();
    }
}
