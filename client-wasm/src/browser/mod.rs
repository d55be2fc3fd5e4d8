//! The browser runtime adapter: the sans-IO [`Session`] on a `web_sys::WebSocket`, one timer and
//! IndexedDB.
//!
//! ```text
//!  WebSocket (subprotocol "mqtt", arraybuffer) ──open/bytes/close──▶ Session ──▶ events ──▶ on_event, flows
//!  Worker timer (setTimeout fallback) ──tick──▶ handle_timeout        │
//!  IndexedDB ◀── pending QoS 1/2 publishes (clean session off) ◀──────┘
//! ```
//!
//! With a stored session, bytes and events wait for the commit of the state they depend on
//! (`mqtt_core::persist`): a QoS 1/2 publish is accepted once its row is committed, and nothing
//! goes to the WebSocket before the store holds what it implies.
//!
//! Everything runs on the page's event loop; [`Client`] is a cheap `Rc` handle. Callbacks may
//! call back into the client (subscribe on `Connected`, publish from a message handler): events
//! raised meanwhile are queued and delivered in order after the current callback returns.

mod console;
mod flow;
mod idb;
mod online;
mod share;
mod socket;
mod storage;
mod timer;

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use wasm_bindgen::prelude::*;

use mqtt_core::persist::{Held, Persistence, Snapshot, StoreError};
use mqtt_core::{
    CommandError, Event, Instant, Options, PublishId, QoS, RequestId, Session, TransportAction,
    TransportFailure,
};
use mqtt_flows::{earliest, Command, Flow};

pub use flow::FlowHandle;
pub use share::TabRole;
pub use storage::storage_key;

use crate::close;
use flow::ErasedFlow;
use share::Share;
use socket::{Socket, SocketEvent};
use storage::SessionStore;
use timer::Timer;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// `now()` for the core: `performance.now()` (monotonic, also in workers) in whole milliseconds.
pub fn now() -> Instant {
    Instant::from_millis(performance_now().max(0.0) as u64)
}

/// Adapter settings that are not MQTT options.
#[derive(Debug, Clone)]
pub struct BrowserConfig {
    /// Keep unacknowledged QoS 1/2 publishes in IndexedDB when the session is not clean.
    pub persist: bool,
    /// Refuse stored records longer than this many bytes, as a full store would (tests; the
    /// browser's own quota applies anyway).
    pub store_quota: Option<usize>,
    /// Run the timer in a Worker so that hidden tabs keep keepalive and reconnect timing.
    pub worker_timer: bool,
    /// Share one connection with the other tabs of the origin that connect to the same URL
    /// with the same client id (see the `share` module): one tab holds the WebSocket, the
    /// others go through it. Falls back to a connection of its own where the browser has no
    /// Web Locks API or BroadcastChannel.
    pub share: bool,
}

impl Default for BrowserConfig {
    fn default() -> Self {
        Self {
            persist: true,
            worker_timer: true,
            store_quota: None,
            share: false,
        }
    }
}

/// An MQTT client on a browser WebSocket. Clones share the same connection.
#[derive(Clone)]
pub struct Client {
    shared: Rc<Shared>,
}

type EventCallback = Box<dyn FnMut(Event)>;
type RoleCallback = Box<dyn FnMut(TabRole)>;

struct Shared {
    inner: RefCell<Inner>,
    on_event: RefCell<Option<EventCallback>>,
    on_role: RefCell<Option<RoleCallback>>,
    flows: RefCell<Vec<Rc<dyn ErasedFlow>>>,
    /// Events for flows and `on_event`, each until the store holds its change.
    queue: RefCell<Held<Event>>,
    dispatching: Cell<bool>,
}

struct Inner {
    session: Session,
    url: String,
    socket: Option<Socket>,
    /// Packets not yet handed to the socket, each until the store holds its change: what is
    /// ready goes out as one WebSocket message (MQTT over WebSockets lets a message carry
    /// several packets), or several of at most `MAX_BATCH` bytes.
    outbox: Held<Vec<u8>>,
    /// Bumped for every socket; callbacks of older sockets are ignored.
    generation: u64,
    opened: bool,
    timer: Option<Timer>,
    armed: Option<Instant>,
    /// Persistent session: keep the session in a store (IndexedDB).
    persist: bool,
    store_quota: Option<usize>,
    /// The stored session (persistent sessions only; a follower tab has none: the leader's
    /// store is the connection's).
    stored: Option<Stored>,
    ended: bool,
    /// The `online` listener on the global object (reconnects at once when the network is back).
    online: Option<online::Listener>,
    /// The connection is shared with other tabs (`BrowserConfig::share`).
    share: Option<Share>,
}

/// A persistent session's store and the write handshake with it.
struct Stored {
    persistence: Persistence,
    /// `None` while the store opens and reads (the session connects after it is restored).
    store: Option<Rc<SessionStore>>,
    /// A snapshot write failed and was reported; reported again only after one succeeds.
    failing: bool,
}

impl Client {
    /// Opens `url` (ws:// or wss://, subprotocol "mqtt", binaryType arraybuffer) and connects with
    /// `options`; every session event goes to `on_event`. Reconnects by itself per
    /// `options.reconnect`. With `clean_session` off, unacknowledged QoS 1/2 publishes left by an
    /// earlier page (same client id) are restored from IndexedDB and resent: the client connects
    /// once they are read. A URL the browser cannot open a WebSocket to is refused here
    /// ([`CommandError::InvalidUrl`]).
    pub fn connect(
        url: &str,
        options: Options,
        on_event: impl FnMut(Event) + 'static,
    ) -> Result<Client, CommandError> {
        Self::connect_with(url, options, BrowserConfig::default(), on_event)
    }

    /// [`Client::connect`] with adapter settings.
    pub fn connect_with(
        url: &str,
        options: Options,
        config: BrowserConfig,
        on_event: impl FnMut(Event) + 'static,
    ) -> Result<Client, CommandError> {
        check_url(url)?;
        options.check()?;
        let persist = config.persist && !options.clean_session;
        let share_name = share::share_name(url, &options.client_id);
        let session = Session::new(options);
        let shared = Rc::new(Shared {
            inner: RefCell::new(Inner {
                session,
                url: url.to_string(),
                socket: None,
                outbox: Held::default(),
                generation: 0,
                opened: false,
                timer: None,
                armed: None,
                persist,
                store_quota: config.store_quota,
                stored: None,
                ended: false,
                online: None,
                share: None,
            }),
            on_event: RefCell::new(Some(Box::new(on_event))),
            on_role: RefCell::new(None),
            flows: RefCell::new(Vec::new()),
            queue: RefCell::new(Held::default()),
            dispatching: Cell::new(false),
        });
        let weak = Rc::downgrade(&shared);
        let timer = Timer::new(config.worker_timer, move || {
            if let Some(shared) = weak.upgrade() {
                shared.on_timer();
            }
        });
        shared.inner.borrow_mut().timer = Some(timer);
        let weak = Rc::downgrade(&shared);
        shared.inner.borrow_mut().online = online::Listener::new("online", move || {
            if let Some(shared) = weak.upgrade() {
                Client { shared }.reconnect_now();
            }
        });
        if !(config.share && shared.join(&share_name)) {
            // Connects once the stored session is read (see `Shared::restore_store`).
            shared.restore_store();
        }
        shared.drive();
        Ok(Client { shared })
    }

    /// Whether this tab holds the connection, goes through another tab's, or has its own.
    pub fn role(&self) -> TabRole {
        self.shared
            .inner
            .borrow()
            .share
            .as_ref()
            .map_or(TabRole::Solo, Share::role)
    }

    /// Calls `on_role` whenever [`Client::role`] changes (a follower becoming the leader).
    pub fn on_role(&self, on_role: impl FnMut(TabRole) + 'static) {
        *self.shared.on_role.borrow_mut() = Some(Box::new(on_role));
    }

    pub fn subscribe(&self, filters: &[(&str, QoS)]) -> Result<RequestId, CommandError> {
        let list = filters.iter().map(|(f, q)| (f.to_string(), *q)).collect();
        self.run(Command::Subscribe(list)).map(RequestId)
    }

    pub fn unsubscribe(&self, filters: &[&str]) -> Result<RequestId, CommandError> {
        let list = filters.iter().map(|f| f.to_string()).collect();
        self.run(Command::Unsubscribe(list)).map(RequestId)
    }

    fn run(&self, command: Command) -> Result<u64, CommandError> {
        let result = self.with_inner(|inner, now| inner.command(now, command));
        self.shared.drive();
        result
    }

    /// Publishes. With a stored session, a QoS 1/2 message is checked now and accepted once its
    /// row is committed to IndexedDB; a store that cannot hold it ends it with
    /// `Event::PublishFailed` (code `storage_full`) and it is never sent.
    pub fn publish(
        &self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<PublishId, CommandError> {
        // Persistent sessions: QoS 1/2 is accepted once its row is committed (`Published` or
        // `PublishFailed` follow); in a follower tab, `Ok` means it is on its way to the
        // leader, whose store keeps it (see the `share` module).
        self.run(Command::Publish {
            topic: topic.to_string(),
            payload: payload.to_vec(),
            qos,
            retain,
        })
        .map(PublishId)
    }

    pub fn is_connected(&self) -> bool {
        let inner = self.shared.inner.borrow();
        match &inner.share {
            Some(share) if !share.leader => share.connected,
            _ => inner.session.is_connected(),
        }
    }

    /// Whether [`Client::end`] was called.
    pub fn is_ended(&self) -> bool {
        self.shared.inner.borrow().ended
    }

    /// Publishes not yet acknowledged.
    pub fn pending_count(&self) -> usize {
        let inner = self.shared.inner.borrow();
        match &inner.share {
            Some(share) if !share.leader => share.pending_count(),
            _ => inner.session.pending_count(),
        }
    }

    /// Whether the timer runs in a Worker (false: the page's `setTimeout`).
    pub fn timer_uses_worker(&self) -> bool {
        self.shared
            .inner
            .borrow()
            .timer
            .as_ref()
            .is_some_and(Timer::uses_worker)
    }

    /// Change options for the next connection (e.g. credentials after activation).
    pub fn update_options(&self, change: impl FnOnce(&mut Options)) {
        change(self.shared.inner.borrow_mut().session.options_mut());
    }

    /// Skip the remaining reconnect delay (e.g. on the `online` event). No-op while connected,
    /// while the stored session is read, and after [`Client::connected_elsewhere`].
    pub fn reconnect_now(&self) {
        let _ = self.with_inner(|inner, now| {
            if !inner.loading() && !inner.follows() && !inner.session.is_connected_elsewhere() {
                inner.session.connect(now);
            }
            Ok(())
        });
        self.shared.drive();
    }

    /// Whether the session stopped because another client uses its client id
    /// ([`mqtt_core::ConnectionError::ConnectedElsewhere`]).
    pub fn connected_elsewhere(&self) -> bool {
        let inner = self.shared.inner.borrow();
        match &inner.share {
            Some(share) if !share.leader => share.elsewhere,
            _ => inner.session.is_connected_elsewhere(),
        }
    }

    /// Connects again after "connected elsewhere", taking the client id over (the other client
    /// is disconnected by the broker). Also skips a reconnect delay. In a follower tab it asks
    /// the leader, whose connection it is, to do so.
    pub fn take_over(&self) {
        let _ = self.with_inner(|inner, now| {
            if inner.follows() {
                inner.ask_take_over();
            } else if !inner.loading() {
                inner.session.connect(now);
            }
            Ok(())
        });
        self.shared.drive();
    }

    /// DISCONNECT, close, stop timers; drops attached flows. Unacknowledged QoS 1/2 publishes
    /// stay in IndexedDB (clean session off) for the next page with this client id.
    pub fn end(&self) {
        {
            let mut inner = self.shared.inner.borrow_mut();
            if inner.ended {
                return;
            }
            // The socket closes below: no waiting for PUBRELs (see `Session::disconnect`).
            // A follower tab has no connection to end: it only leaves.
            if inner.share.as_ref().is_none_or(|s| s.leader) {
                inner.session.disconnect_now(now());
            } else {
                let change = inner.session.pending_changes();
                self.shared
                    .queue
                    .borrow_mut()
                    .push(change, Event::Disconnected);
            }
        }
        self.shared.drive();
        let flows = std::mem::take(&mut *self.shared.flows.borrow_mut());
        for flow in &flows {
            flow.detach();
        }
        let mut inner = self.shared.inner.borrow_mut();
        inner.ended = true;
        inner.timer = None;
        inner.armed = None;
        inner.online = None;
        if let Some(socket) = inner.socket.take() {
            socket.close(1000, "client ended");
        }
        // After the DISCONNECT: the next tab in line takes the lock and connects.
        inner.leave();
    }

    /// Runs a sans-IO flow on this client: feeds it every event, applies its commands
    /// (`mqtt_flows::pump`), arms its timer (merged with the session's) and hands each output to
    /// `on_output`. Dropping or calling `stop()` on the handle detaches it.
    pub fn attach<F: Flow + 'static>(
        &self,
        flow: F,
        on_output: impl FnMut(F::Output) + 'static,
    ) -> FlowHandle {
        let slot = flow::Slot::new(flow, on_output);
        let erased: Rc<dyn ErasedFlow> = slot.clone();
        if !self.is_ended() {
            self.shared.flows.borrow_mut().push(erased.clone());
        }
        // A flow may have commands or a timer from its constructor (e.g. subscribe first).
        let now = now();
        erased.pump(&self.shared, now);
        self.shared.drive();
        FlowHandle::new(Rc::downgrade(&self.shared), erased)
    }

    /// Runs a command on the client's state, unless the client was ended.
    fn with_inner<T>(
        &self,
        f: impl FnOnce(&mut Inner, Instant) -> Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        let mut inner = self.shared.inner.borrow_mut();
        if inner.ended {
            return Err(CommandError::Ended);
        }
        f(&mut inner, now())
    }
}

impl Shared {
    /// Joins the tabs sharing `name`: a follower until the lock is granted. False when the
    /// browser cannot share (no BroadcastChannel or Web Locks): the tab connects alone.
    fn join(self: &Rc<Self>, name: &str) -> bool {
        let weak = Rc::downgrade(self);
        let tab = format!(
            "{:x}{:x}",
            js_sys::Math::random().to_bits(),
            performance_now().to_bits()
        );
        let share = Share::open(name, tab, move |data| {
            if let Some(shared) = weak.upgrade() {
                shared.on_channel(&data);
            }
        });
        let Some(share) = share else { return false };
        self.inner.borrow_mut().share = Some(share);
        let weak = Rc::downgrade(self);
        let requested = share::request_lock(name, move |release| {
            weak.upgrade().is_some_and(|shared| shared.promote(release))
        });
        if !requested {
            self.inner.borrow_mut().share = None;
        }
        requested
    }

    /// (A loop of `push_back`, already in the binary, rather than another `extend`.)
    fn enqueue(&self, events: Vec<Event>) {
        let change = self.inner.borrow().session.pending_changes();
        let mut queue = self.queue.borrow_mut();
        for event in events {
            queue.push(change, event);
        }
    }

    fn on_channel(self: &Rc<Self>, data: &JsValue) {
        let mut events = Vec::new();
        {
            let mut inner = self.inner.borrow_mut();
            if inner.ended {
                return;
            }
            inner.on_channel(now(), data, &mut events);
        }
        self.enqueue(events);
        self.drive();
    }

    /// The lock was granted: this tab becomes the leader once the stored session is read
    /// (until then its calls wait as a follower's do). False when it no longer wants it.
    fn promote(self: &Rc<Self>, release: js_sys::Function) -> bool {
        {
            let mut inner = self.inner.borrow_mut();
            let ended = inner.ended;
            let Some(share) = inner.share.as_mut().filter(|_| !ended) else {
                return false;
            };
            share.release = Some(release);
        }
        self.restore_store();
        true
    }

    /// Drains the session, then (unless already inside a callback) delivers queued events to
    /// flows and `on_event` until nothing is left, then re-arms the timer.
    fn drive(self: &Rc<Self>) {
        self.drain_session();
        if self.dispatching.replace(true) {
            return;
        }
        loop {
            // Events wait, like bytes, for the store to hold the state they report.
            let through = self.inner.borrow().stored_through();
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
        self.inner.borrow_mut().flush_outbox();
        self.rearm();
    }

    /// Session outputs in the documented order: transmits, transport actions, events.
    fn drain_session(self: &Rc<Self>) {
        let mut inner = self.inner.borrow_mut();
        loop {
            self.drain_outputs(&mut inner);
            // A write decided at once (nothing changed...) may have moved the session.
            if !self.start_write(&mut inner) {
                break;
            }
        }
    }

    fn drain_outputs(self: &Rc<Self>, inner: &mut Inner) {
        loop {
            let mut progressed = false;
            let change = inner.session.pending_changes();
            while let Some(bytes) = inner.session.poll_transmit() {
                inner.post(change, bytes);
            }
            while let Some(action) = inner.session.poll_transport() {
                progressed = true;
                // What was sent on the old socket (a DISCONNECT) goes before it closes, if the
                // store allows; what waits for the store is for the old socket only.
                inner.flush_outbox();
                inner.outbox.clear();
                match action {
                    TransportAction::Open => self.open_socket(inner),
                    TransportAction::Close => {
                        inner.generation += 1;
                        if let Some(socket) = inner.socket.take() {
                            socket.close(1000, "");
                        }
                    }
                }
            }
            {
                let mut queue = self.queue.borrow_mut();
                while let Some(event) = inner.session.poll_event() {
                    if let Some(event) = inner.route(event) {
                        queue.push(change, event);
                    }
                }
                if let Some(share) = inner.share.as_mut() {
                    for event in std::mem::take(&mut share.local_events) {
                        queue.push(change, event);
                    }
                }
            }
            if !progressed {
                break;
            }
        }
    }

    /// Starts the next snapshot write, if one is due and none is in progress. Returns whether
    /// it was decided at once (and its outcome applied).
    fn start_write(self: &Rc<Self>, inner: &mut Inner) -> bool {
        let Inner {
            session, stored, ..
        } = inner;
        let Some(Stored {
            persistence,
            store: Some(store),
            ..
        }) = stored
        else {
            return false;
        };
        let Some(snapshot) = persistence.poll_write(session) else {
            return false;
        };
        let weak = Rc::downgrade(self);
        let decided = store.clone().write(&snapshot, move |result| {
            if let Some(shared) = weak.upgrade() {
                shared.write_done(result);
            }
        });
        match decided {
            Some(result) => {
                inner.settle_write(result);
                true
            }
            None => false,
        }
    }

    fn write_done(self: &Rc<Self>, result: Result<(), StoreError>) {
        self.inner.borrow_mut().settle_write(result);
        self.drive();
    }

    /// Opens the store (persistent sessions) and reads it; then restores what it held and
    /// connects ([`Shared::store_opened`]). A lone tab does this at once, a shared tab when it
    /// becomes the leader (it takes over the connection's stored session).
    fn restore_store(self: &Rc<Self>) {
        let opening = {
            let mut inner = self.inner.borrow_mut();
            let opening = inner.persist.then(|| {
                let quota = inner.store_quota;
                (inner.session.options().client_id.clone(), quota)
            });
            if opening.is_some() {
                inner.stored = Some(Stored {
                    persistence: Persistence::new(&inner.session),
                    store: None,
                    failing: false,
                });
            }
            opening
        };
        let Some((client_id, quota)) = opening else {
            return self.store_opened(None, Snapshot::default());
        };
        // No borrow held: without IndexedDB, `done` runs at once.
        let weak = Rc::downgrade(self);
        SessionStore::open(&client_id, quota, move |store, snapshot| {
            if let Some(shared) = weak.upgrade() {
                shared.store_opened(Some(store), snapshot);
            }
        });
    }

    /// The store is open and read: restore what it held, then connect (a new leader first
    /// takes its own requests back from the follower role, see `share`).
    fn store_opened(self: &Rc<Self>, store: Option<SessionStore>, snapshot: Snapshot) {
        let promoted = {
            let mut inner = self.inner.borrow_mut();
            let restored = inner.restore(snapshot);
            if let (Some(stored), Some(store)) = (inner.stored.as_mut(), store) {
                stored.store = Some(Rc::new(store));
            }
            if inner.ended {
                None
            } else {
                inner.restored(now(), restored)
            }
        };
        if let Some(events) = promoted {
            self.enqueue(events);
            let callback = self.on_role.borrow_mut().take();
            if let Some(mut callback) = callback {
                callback(TabRole::Leader);
                let mut slot = self.on_role.borrow_mut();
                if slot.is_none() {
                    *slot = Some(callback);
                }
            }
        }
        self.drive();
    }

    fn open_socket(self: &Rc<Self>, inner: &mut Inner) {
        inner.generation += 1;
        inner.opened = false;
        if let Some(old) = inner.socket.take() {
            old.close(1000, "");
        }
        let generation = inner.generation;
        let weak: Weak<Shared> = Rc::downgrade(self);
        match Socket::open(&inner.url, move |event| {
            if let Some(shared) = weak.upgrade() {
                shared.on_socket(generation, event);
            }
        }) {
            Ok(socket) => inner.socket = Some(socket),
            Err(message) => {
                // `connect` checked the URL; what is left (a SecurityError, say) is local set-up
                // that retrying will not fix.
                let failure = TransportFailure::Setup(format!("cannot open WebSocket: {message}"));
                inner.session.handle_transport_closed(now(), failure);
            }
        }
    }

    fn on_socket(self: &Rc<Self>, generation: u64, event: SocketEvent) {
        {
            let mut inner = self.inner.borrow_mut();
            if inner.generation != generation {
                return;
            }
            let now = now();
            match event {
                SocketEvent::Open => {
                    inner.opened = true;
                    inner.session.handle_transport_open(now);
                }
                SocketEvent::Bytes(bytes) => inner.session.handle_bytes(now, &bytes),
                SocketEvent::Text => {
                    inner.generation += 1;
                    if let Some(socket) = inner.socket.take() {
                        let (code, reason) = close::TEXT_FRAME_REFUSED;
                        socket.close(code, reason);
                    }
                    let failure =
                        TransportFailure::WebSocketProtocol("the server sent a text frame".into());
                    inner.session.handle_transport_closed(now, failure);
                }
                SocketEvent::Close { code, reason } => {
                    inner.generation += 1;
                    inner.socket = None;
                    let failure = close::failure(code, &reason, inner.opened);
                    inner.session.handle_transport_closed(now, failure);
                }
            }
        }
        self.drive();
    }

    fn on_timer(self: &Rc<Self>) {
        let now = now();
        {
            let mut inner = self.inner.borrow_mut();
            if inner.ended {
                return;
            }
            inner.armed = None;
            inner.session.handle_timeout(now);
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
        let mut inner = self.inner.borrow_mut();
        if inner.ended {
            return;
        }
        let deadline = earliest(inner.session.poll_timeout(), flows_deadline);
        // The keepalive deadline moves with every packet: a timer already armed for an earlier
        // moment stays, and re-arms when it fires, instead of a message to the worker per packet.
        match (inner.armed, deadline) {
            (Some(armed), Some(wanted)) if armed <= wanted => return,
            (armed, wanted) if armed == wanted => return,
            _ => {}
        }
        inner.armed = deadline;
        let now = now();
        if let Some(timer) = inner.timer.as_mut() {
            match deadline {
                Some(at) => timer.arm(at.saturating_duration_since(now).as_millis() as u64),
                None => timer.cancel(),
            }
        }
    }
}

/// Refuses what `new WebSocket(url)` would throw on: not a URL, a scheme other than ws:// or
/// wss://, a #fragment (WHATWG WebSockets, "establish a WebSocket connection").
fn check_url(url: &str) -> Result<(), CommandError> {
    let invalid = |reason: &str| CommandError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let parsed = web_sys::Url::new(url).map_err(|_| invalid("not an absolute URL"))?;
    if !matches!(parsed.protocol().as_str(), "ws:" | "wss:") {
        return Err(invalid("the scheme must be ws:// or wss://"));
    }
    if !parsed.hash().is_empty() {
        return Err(invalid("a WebSocket URL cannot have a #fragment"));
    }
    Ok(())
}

/// The largest WebSocket message that batches several packets (a larger packet goes alone):
/// small enough for any broker's or bridge's frame limit.
const MAX_BATCH: usize = 16 * 1024;

impl Inner {
    /// Applies the outcome of a snapshot write; a failed one is reported once per run.
    fn settle_write(&mut self, result: Result<(), StoreError>) {
        let Inner {
            session,
            stored,
            share,
            ..
        } = self;
        let Some(stored) = stored else { return };
        let uncommitted: Vec<PublishId> = stored.persistence.uncommitted().collect();
        let outcome = stored.persistence.write_done(session, now(), result);
        if let (Some(share), Ok(())) = (share.as_mut(), result) {
            // A follower's publish is stored (`acc`) once the transaction holding its row
            // committed, not when the leader took it.
            for id in uncommitted {
                if !stored.persistence.uncommitted().any(|u| u == id) {
                    share.committed(id);
                }
            }
        }
        match outcome {
            Ok(()) => stored.failing = false,
            Err(e) if !stored.failing => {
                stored.failing = true;
                console::warn(&format!(
                    "client-wasm: the session could not be stored ({e}); after a reload a \
                     message may be sent or delivered twice"
                ));
            }
            Err(_) => {}
        }
    }

    /// Whether another tab holds the connection (this one only goes through it).
    fn follows(&self) -> bool {
        self.share.as_ref().is_some_and(|s| !s.leader)
    }

    /// Whether the stored session is still being read.
    fn loading(&self) -> bool {
        self.stored.as_ref().is_some_and(|s| s.store.is_none())
    }

    /// The last session change the store holds: bytes and events produced at or before it
    /// may go (all of them without a store, none while it is being read).
    fn stored_through(&self) -> Option<u64> {
        match &self.stored {
            None => Some(u64::MAX),
            Some(Stored { store: None, .. }) => None,
            Some(stored) => Some(stored.persistence.stored_through()),
        }
    }

    /// Queues a packet for the current socket; without one it is dropped, as the session
    /// resends what needs resending on the next connection.
    fn post(&mut self, change: u64, bytes: Vec<u8>) {
        if self.socket.is_some() {
            self.outbox.push(change, bytes);
        }
    }

    /// Sends what the store allows, batched into messages of at most `MAX_BATCH` bytes.
    fn flush_outbox(&mut self) {
        let through = self.stored_through();
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
}

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
