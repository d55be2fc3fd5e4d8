//! The driver's side of the socket: opening it when the session asks, and turning what it
//! reports into session inputs.

use std::rc::{Rc, Weak};

use mqtt_core::{TransportAction, TransportFailure};

use super::{Driver, State};
use crate::clock::{self, now};
use crate::runtime::{LinkEvent, Runtime};

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
        let generation = state.link.generation;
        let weak: Weak<Driver> = Rc::downgrade(self);
        let on_event = Box::new(move |event| {
            if let Some(driver) = weak.upgrade() {
                driver.on_link(generation, event);
            }
        });
        match self.runtime.open_link(&state.link.url, on_event) {
            Ok(socket) => state.link.socket = Some(socket),
            Err(message) => {
                // `connect` checked the URL; what is left (a SecurityError, say) is local set-up
                // that retrying will not fix.
                let failure = TransportFailure::Setup(format!("cannot connect: {message}"));
                state.session.handle_transport_closed(now(), failure);
            }
        }
    }

    fn on_link(self: &Rc<Self>, generation: u64, event: LinkEvent) {
        clock::turn(|| self.link_event(generation, event));
    }

    fn link_event(self: &Rc<Self>, generation: u64, event: LinkEvent) {
        {
            let mut state = self.state.borrow_mut();
            let State { session, link, .. } = &mut *state;
            if link.generation != generation {
                return;
            }
            let now = now();
            match event {
                LinkEvent::Open => session.handle_transport_open(now),
                LinkEvent::Bytes(bytes) => session.handle_bytes(now, &bytes),
                LinkEvent::Closed(failure) => {
                    link.generation += 1;
                    link.socket = None;
                    session.handle_transport_closed(now, failure);
                }
            }
        }
        self.drive();
    }
}
