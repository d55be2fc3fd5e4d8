//! The driver's side of the socket: opening it when the session asks, and turning what it
//! reports into session inputs.

use std::rc::{Rc, Weak};

use mqtt_core::{TransportAction, TransportFailure};

use super::{Driver, State};
use crate::browser::clock::now;
use crate::browser::socket::{Socket, SocketEvent};
use crate::close;

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
