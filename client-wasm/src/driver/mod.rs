//! The driver loop: feeds the sans-IO [`Session`] what the socket, the timer, the store and
//! (shared tabs) the other tabs report, then drains it in the documented order (transmits,
//! transport actions, events), hands bytes to the socket once the store holds what they imply,
//! delivers events to flows and the page, and arms the one timer.
//!
//! Everything runs on the page's event loop. Callbacks may call back into the client
//! (subscribe on `Connected`, publish from a message handler): events raised meanwhile are
//! queued and delivered in order after the current callback returns.

pub(crate) mod flow;
mod link;
#[cfg(feature = "browser")]
mod sharing;
mod store;
mod stored;
mod transport;

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;

use mqtt_core::persist::Held;
use mqtt_core::time::earliest;
use mqtt_core::{CommandError, Event, Instant, Options, PublishId, Session};
use mqtt_tabs::{Handle, TabRole};

use crate::clock::{self, now};
use crate::command::Command;
use crate::microtask::Microtask;
use crate::online;
use crate::platform::{Active, ActiveTimer, Sharing};
use crate::runner::Runner;
use crate::runtime::{Runtime, Timer as _};
use flow::ErasedFlow;
use link::Link;
use stored::Stored;

pub(crate) type EventCallback = Box<dyn FnMut(Event)>;
pub(crate) type RoleCallback = Box<dyn FnMut(TabRole)>;

/// One client's loop and what it drives; the [`Client`](crate::Client) handle holds it.
pub(crate) struct Driver {
    /// Opens links and stores, makes the timer.
    runtime: Active,
    pub(crate) state: RefCell<State>,
    pub(crate) on_event: RefCell<Option<EventCallback>>,
    pub(crate) on_role: RefCell<Option<RoleCallback>>,
    pub(crate) flows: RefCell<Vec<Rc<dyn ErasedFlow>>>,
    /// Events for flows and `on_event`, each until the store holds its change.
    queue: RefCell<Held<Event>>,
    dispatching: Cell<bool>,
    /// Hands the outbox to the socket at the end of the microtask checkpoint (made at start).
    flush: OnceCell<Microtask>,
}

/// The session and the runtime pieces around it.
pub(crate) struct State {
    pub(crate) session: Session,
    link: Link,
    pub(crate) timer: Option<ActiveTimer>,
    armed: Option<Instant>,
    /// Persistent session: keep the session in a store (IndexedDB).
    persist: bool,
    store_quota: Option<usize>,
    /// The stored session (persistent sessions only; a follower tab has none: the leader's
    /// store is the connection's).
    stored: Option<Stored>,
    pub(crate) ended: bool,
    /// The `online` listener on the global object (reconnects at once when the network is back).
    online: Option<online::Listener>,
    /// The connection is shared with other tabs (`ClientConfig::share`); `None` for a lone tab
    /// (always, outside the browser: there the type cannot be constructed).
    pub(crate) share: Option<Sharing>,
}

impl Driver {
    pub(crate) fn new(
        runtime: Active,
        url: &str,
        options: Options,
        persist: bool,
        store_quota: Option<usize>,
        on_event: EventCallback,
    ) -> Rc<Driver> {
        Rc::new(Driver {
            runtime,
            state: RefCell::new(State {
                session: Session::new(options),
                link: Link::new(url),
                timer: None,
                armed: None,
                persist,
                store_quota,
                stored: None,
                ended: false,
                online: None,
                share: None,
            }),
            on_event: RefCell::new(Some(on_event)),
            on_role: RefCell::new(None),
            flows: RefCell::new(Vec::new()),
            queue: RefCell::new(Held::default()),
            dispatching: Cell::new(false),
            flush: OnceCell::new(),
        })
    }

    /// Starts the timer, the `online` listener and the session: a lone tab (or one that cannot
    /// share) reads its store and connects, a shared one joins the other tabs.
    pub(crate) fn start(self: &Rc<Self>, share_name: Option<String>) {
        let weak = Rc::downgrade(self);
        let _ = self.flush.set(Microtask::new(move || {
            if let Some(driver) = weak.upgrade() {
                driver.flush_outbox();
            }
        }));
        let weak = Rc::downgrade(self);
        let timer = self.runtime.timer(Box::new(move || {
            if let Some(driver) = weak.upgrade() {
                driver.on_timer();
            }
        }));
        self.state.borrow_mut().timer = Some(timer);
        let weak = Rc::downgrade(self);
        self.state.borrow_mut().online = online::Listener::new("online", move || {
            if let Some(driver) = weak.upgrade() {
                driver.reconnect_now();
            }
        });
        if !self.join_tabs(share_name) {
            // Connects once the stored session is read (see `Driver::restore_store`).
            self.restore_store();
        }
        self.drive();
    }

    /// Joins the other tabs of a shared connection; false when there is nothing to share.
    #[cfg(feature = "browser")]
    fn join_tabs(self: &Rc<Self>, share_name: Option<String>) -> bool {
        share_name.is_some_and(|name| self.join(&name))
    }

    /// Outside the browser a client never shares its connection.
    #[cfg(not(feature = "browser"))]
    #[allow(clippy::unused_self, clippy::needless_pass_by_value)]
    fn join_tabs(self: &Rc<Self>, _share_name: Option<String>) -> bool {
        false
    }

    /// Runs `f` on the state, unless the client was ended, then drives.
    pub(crate) fn with_state<T>(
        self: &Rc<Self>,
        f: impl FnOnce(&mut State, Instant) -> Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        clock::turn(|| {
            let result = {
                let mut state = self.state.borrow_mut();
                if state.ended {
                    Err(CommandError::Ended)
                } else {
                    f(&mut state, now())
                }
            };
            self.drive();
            result
        })
    }

    /// Skips the remaining reconnect delay; no-op while connected, while the stored session
    /// is read, in a follower, and after "connected elsewhere".
    pub(crate) fn reconnect_now(self: &Rc<Self>) {
        let _ = self.with_state(|state, now| {
            if !state.loading() && !state.follows() && !state.session.is_connected_elsewhere() {
                state.session.connect(now);
            }
            Ok(())
        });
    }

    /// Connects again taking the client id over; a follower asks the leader to.
    pub(crate) fn take_over(self: &Rc<Self>) {
        let _ = self.with_state(|state, now| {
            let loading = state.loading();
            match state.share.as_mut().filter(|s| !s.tab.is_leader()) {
                Some(share) => {
                    share.tab.take_over();
                    share.flush();
                }
                None if !loading => state.session.connect(now),
                None => {}
            }
            Ok(())
        });
    }

    /// Takes the `Published` event of `id` out of the queue if it is there and may go: a
    /// QoS 0 publish made inside a page callback was handed to the socket in the call, and its
    /// promise can be settled at once instead of through the event (which nothing else reads:
    /// flows have ids of their own).
    pub(crate) fn take_published(&self, id: PublishId) -> bool {
        let through = self.state.borrow().stored_through();
        self.queue
            .borrow_mut()
            .take_ready(
                through,
                |event| matches!(event, Event::Published { id: done } if *done == id),
            )
            .is_some()
    }

    /// Queues events of the current session change.
    fn enqueue(&self, events: impl IntoIterator<Item = Event>) {
        let change = self.state.borrow().session.pending_changes();
        let mut queue = self.queue.borrow_mut();
        for event in events {
            queue.push(change, event);
        }
    }

    /// Drains the session, then (unless already inside a callback) delivers queued events to
    /// flows and `on_event` until nothing is left, then re-arms the timer.
    pub(crate) fn drive(self: &Rc<Self>) {
        self.drain_session();
        if self.dispatching.replace(true) {
            return;
        }
        loop {
            // Events wait, like bytes, for the store to hold the state they report.
            let through = self.state.borrow().stored_through();
            let event = self.queue.borrow_mut().pop_ready(through);
            let Some(event) = event else { break };
            let now = now();
            let flows = self.flows.borrow().clone();
            for flow in flows {
                flow.handle_event(self, now, &event);
                flow.pump(self, now);
            }
            let callback = self.on_event.borrow_mut().take();
            if let Some(mut callback) = callback {
                callback(event);
                let mut slot = self.on_event.borrow_mut();
                if slot.is_none() {
                    *slot = Some(callback);
                }
            }
            self.drain_session();
        }
        self.dispatching.set(false);
        // Not now: publishes made one after another (each in its own promise callback, or in a
        // loop) then share one WebSocket message, and a send costs the browser far more than
        // the bytes in it.
        match self.flush.get() {
            Some(flush) => flush.queue(),
            None => self.flush_outbox(),
        }
        self.rearm();
    }

    /// Sends what the store allows of the outbox.
    fn flush_outbox(&self) {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            // Inside a call into the client: its drive queues this again.
            return;
        };
        let through = state.stored_through();
        state.link.flush(through);
    }

    /// Session outputs in the documented order: transmits, transport actions, events.
    fn drain_session(self: &Rc<Self>) {
        let mut state = self.state.borrow_mut();
        loop {
            self.drain_outputs(&mut state);
            // A write decided at once (nothing changed...) may have moved the session.
            if !self.start_write(&mut state) {
                break;
            }
        }
    }

    fn drain_outputs(self: &Rc<Self>, state: &mut State) {
        loop {
            let change = state.session.pending_changes();
            while let Some(bytes) = state.session.poll_transmit() {
                state.link.post(change, bytes);
            }
            let mut progressed = false;
            while let Some(action) = state.session.poll_transport() {
                progressed = true;
                let through = state.stored_through();
                self.act(state, action, through);
            }
            let mut queue = self.queue.borrow_mut();
            while let Some(event) = state.session.poll_event() {
                let routed = match state.share.as_mut() {
                    None => Some(event),
                    Some(share) => share.tab.route(event),
                };
                if let Some(event) = routed {
                    queue.push(change, event);
                }
            }
            if let Some(share) = state.share.as_mut() {
                share.flush();
                while let Some(event) = share.tab.poll_event() {
                    queue.push(change, event);
                }
            }
            if !progressed {
                break;
            }
        }
    }

    fn on_timer(self: &Rc<Self>) {
        clock::turn(|| self.timer_fired());
    }

    fn timer_fired(self: &Rc<Self>) {
        let now = now();
        {
            let mut state = self.state.borrow_mut();
            if state.ended {
                return;
            }
            state.armed = None;
            state.session.handle_timeout(now);
        }
        let flows = self.flows.borrow().clone();
        for flow in flows {
            flow.handle_timeout(self, now);
        }
        self.drive();
    }

    /// Arms the timer for the earliest of the session's and the flows' deadlines.
    fn rearm(&self) {
        let flows_deadline = self
            .flows
            .borrow()
            .iter()
            .fold(None, |acc, f| earliest(acc, f.poll_timeout()));
        let mut state = self.state.borrow_mut();
        if state.ended {
            return;
        }
        let deadline = earliest(state.session.poll_timeout(), flows_deadline);
        // The keepalive deadline moves with every packet: a timer already armed for an earlier
        // moment stays, and re-arms when it fires, instead of a message to the worker per packet.
        match (state.armed, deadline) {
            (Some(armed), Some(wanted)) if armed <= wanted => return,
            (armed, wanted) if armed == wanted => return,
            _ => {}
        }
        state.armed = deadline;
        let now = now();
        if let Some(timer) = state.timer.as_mut() {
            match deadline {
                Some(at) => timer.arm(at.saturating_duration_since(now).as_millis() as u64),
                None => timer.cancel(),
            }
        }
    }

    /// DISCONNECT (a follower only leaves), close, stop timers; the lock goes to the next tab.
    pub(crate) fn end(self: &Rc<Self>) {
        {
            let mut state = self.state.borrow_mut();
            if state.ended {
                return;
            }
            // The socket closes below: no waiting for PUBRELs (see `Session::disconnect`).
            // A follower tab has no connection to end: it only leaves.
            if state.follows() {
                drop(state);
                self.enqueue([Event::Disconnected]);
            } else {
                state.session.disconnect_now(now());
            }
        }
        self.drive();
        let flows = std::mem::take(&mut *self.flows.borrow_mut());
        for flow in &flows {
            flow.detach();
        }
        let mut state = self.state.borrow_mut();
        state.ended = true;
        state.timer = None;
        state.armed = None;
        state.online = None;
        state.link.close_for_good();
        // After the DISCONNECT: the next tab in line takes the lock and connects.
        if let Some(mut share) = state.share.take() {
            share.tab.leave();
            share.flush();
        }
    }
}

impl State {
    /// A call of this tab's page or flows. Returns the id the caller's events will carry.
    pub(crate) fn command(&mut self, now: Instant, command: Command) -> Result<u64, CommandError> {
        let request = match command {
            Command::Disconnect => {
                if !self.follows() {
                    self.session.disconnect(now);
                }
                return Ok(0);
            }
            Command::Request(request) => request,
        };
        let max_queued = self.session.options().max_queued;
        let State {
            session,
            stored,
            share,
            ..
        } = self;
        let mut runner = Runner {
            session,
            persistence: stored.as_mut().map(|s| &mut s.persistence),
        };
        match share {
            // A lone tab: straight to the session.
            None => runner.run(now, &request).map(Handle::number),
            Some(share) => {
                let result = share.tab.request(&mut runner, now, request, max_queued);
                share.flush();
                result
            }
        }
    }

    /// Whether another tab holds the connection (this one only goes through it).
    pub(crate) fn follows(&self) -> bool {
        self.share.as_ref().is_some_and(|s| !s.tab.is_leader())
    }
}
