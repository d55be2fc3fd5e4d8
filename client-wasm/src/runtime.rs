//! The seam between the runtime-neutral [`driver`](crate::driver) and what differs per runtime:
//! how a connection is opened, how time is kept and where a persistent session is stored. One
//! implementation is compiled in, chosen by the cargo feature (`browser`: web-sys WebSocket,
//! Worker timer, IndexedDB, tab sharing; `edge`: the transport and the store come from
//! JavaScript, see `crate::edge`), and the driver names it through `crate::platform`.
//!
//! Every implementation keeps the driver's rules: a link reports `Open` before any `Bytes`, and
//! exactly one `Closed` unless the driver closed it first; a store write reports its outcome only
//! once what it wrote is durable, because bytes that depend on it wait for that.

use std::cell::RefCell;
use std::rc::Rc;

use mqtt_core::persist::{Snapshot, StoreError};
use mqtt_core::TransportFailure;

/// What a link reports to the driver.
pub(crate) enum LinkEvent {
    /// Connected (WebSocket open, or TCP and TLS handshakes done).
    Open,
    /// Bytes from the broker, any split.
    Bytes(Vec<u8>),
    /// The link ended by itself (not through [`Link::close`]); nothing follows.
    Closed(TransportFailure),
}

/// `on_event` as a function a link's several JavaScript callbacks share. An event raised while
/// one is being handled (a callback re-entered from inside the driver) is dropped.
pub(crate) fn shared_events(on_event: Box<dyn FnMut(LinkEvent)>) -> impl Fn(LinkEvent) + Clone {
    let on_event = Rc::new(RefCell::new(on_event));
    move |event| {
        if let Ok(mut f) = on_event.try_borrow_mut() {
            (*f)(event);
        }
    }
}

/// One runtime's pieces.
pub(crate) trait Runtime: 'static {
    type Link: Link;
    type Timer: Timer;
    type Store: Store;

    /// The URL schemes a connection can be opened to (`"ws:"`, as the WHATWG URL spells them).
    const SCHEMES: &'static [&'static str];
    /// Why another scheme is refused.
    const SCHEME_ERROR: &'static str;

    /// Opens a connection to `url`; `on_event` gets what happens on it until it is closed or
    /// dropped. `Err`: a local set-up failure (retrying will not fix it).
    fn open_link(
        &self,
        url: &str,
        on_event: Box<dyn FnMut(LinkEvent)>,
    ) -> Result<Self::Link, String>;

    /// The one re-armable timer of a client.
    fn timer(&self, on_fire: Box<dyn FnMut()>) -> Self::Timer;

    /// Opens the store of `client_id` and reads its snapshot, then calls `done` (at once where
    /// there is nothing to read).
    fn open_store(
        &self,
        client_id: &str,
        quota: Option<usize>,
        done: Box<dyn FnOnce(Self::Store, Snapshot)>,
    );
}

/// An open connection.
pub(crate) trait Link {
    /// Queues `bytes` (one or several whole MQTT packets) in order. Failures surface as
    /// [`LinkEvent::Closed`].
    fn send(&self, bytes: &[u8]);
    /// Closes it (after what was queued, where the transport can); no event follows.
    fn close(self, code: u16, reason: &str);
}

/// Calls its owner back once per `arm`, after the delay; `arm` again replaces the delay.
pub(crate) trait Timer {
    fn arm(&mut self, delay_ms: u64);
    fn cancel(&mut self);
    /// Whether ticks come from a Worker (browser tabs that may be hidden).
    fn uses_worker(&self) -> bool {
        false
    }
}

/// One client id's stored session.
pub(crate) trait Store {
    /// Replaces the stored snapshot. `None`: the write runs and `done` gets its outcome once it
    /// is durable or failed. `Some(outcome)`: decided at once (nothing changed, no backing
    /// storage, over quota, cannot start); `done` is not called.
    fn write(
        self: &Rc<Self>,
        snapshot: &Snapshot,
        done: Box<dyn FnOnce(Result<(), StoreError>)>,
    ) -> Option<Result<(), StoreError>>;
}
