//! The browser runtime (feature `browser`): a `web_sys::WebSocket` (subprotocol `mqtt`), a
//! Worker-backed timer that keeps time in hidden tabs, IndexedDB for persistent sessions, and
//! tab sharing (Web Locks + `BroadcastChannel`, [`mqtt_tabs`]) for tabs with the same client id.
//!
//! ```text
//!  Client ── Command ──▶ driver (the loop, runtime-neutral) ──▶ Session ──▶ events ──▶ page, flows
//!                          │
//!   socket (WebSocket "mqtt") ◀── bytes ─┤  timer (Worker, setTimeout fallback)
//!   storage + idb (IndexedDB) ◀── rows ──┤  share (Web Lock + BroadcastChannel), only when shared
//! ```

mod idb;
pub(crate) mod share;
mod socket;
mod storage;
mod timer;

use mqtt_core::persist::Snapshot;

use crate::runtime::{LinkEvent, Runtime};
use socket::Socket;
use storage::SessionStore;
use timer::WorkerTimer;

pub use mqtt_tabs::TabRole;
pub(crate) use share::share_name;
pub use storage::storage_key;

/// The browser's pieces.
pub(crate) struct Browser {
    /// Run the timer in a Worker (see [`timer`]).
    pub(crate) worker_timer: bool,
}

impl Runtime for Browser {
    type Link = Socket;
    type Timer = WorkerTimer;
    type Store = SessionStore;

    const SCHEMES: &'static [&'static str] = &["ws:", "wss:"];
    const SCHEME_ERROR: &'static str = "the scheme must be ws:// or wss://";

    fn open_link(&self, url: &str, on_event: Box<dyn FnMut(LinkEvent)>) -> Result<Socket, String> {
        Socket::open(url, on_event)
    }

    fn timer(&self, on_fire: Box<dyn FnMut()>) -> WorkerTimer {
        WorkerTimer::new(self.worker_timer, on_fire)
    }

    fn open_store(
        &self,
        client_id: &str,
        quota: Option<usize>,
        done: Box<dyn FnOnce(SessionStore, Snapshot)>,
    ) {
        SessionStore::open(client_id, quota, done);
    }
}
