//! The edge runtime (feature `edge`): Node, Deno, Bun and workerd. The transport and the store are
//! JavaScript objects that the npm package's entry for each runtime passes to `connect` (the
//! `EdgeAdapter` of `client-wasm/js/index.d.ts`): TCP, TLS and WebSocket clients differ per
//! runtime, the loop does not. Timers are the global `setTimeout`; there is no tab sharing.
//!
//! ```text
//!  Client ── Command ──▶ driver (the loop, runtime-neutral) ──▶ Session ──▶ events ──▶ callbacks
//!                          │
//!    link (adapter.open: tls.connect, Deno.connectTls, cloudflare:sockets, WebSocket) ◀── bytes
//!    store (adapter.store: memory, a file, Durable Object storage) ◀── records
//! ```

mod link;
mod store;

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::runtime::{LinkEvent, Runtime};
use crate::timer::GlobalTimer;
use link::JsLink;
use mqtt_core::persist::Snapshot;
use mqtt_core::{CommandError, Event, Instant, PublishId};
use mqtt_tabs::{Connection, Request, Restored, TabRole};
use store::JsStore;

/// The adapter a runtime's entry passes to `connect`: `open` makes links, `store` (optional)
/// keeps a persistent session.
pub(crate) struct Edge {
    adapter: JsValue,
    store: Option<JsValue>,
}

impl Edge {
    /// The runtime of `adapter`; `None` when it has no `open` function.
    pub(crate) fn new(adapter: JsValue) -> Option<Edge> {
        let open = Reflect::get(&adapter, &"open".into()).ok()?;
        if !open.is_function() {
            return None;
        }
        let store = Reflect::get(&adapter, &"store".into())
            .ok()
            .filter(JsValue::is_object);
        Some(Edge { adapter, store })
    }
}

impl Runtime for Edge {
    type Link = JsLink;
    type Timer = GlobalTimer;
    type Store = JsStore;

    const SCHEMES: &'static [&'static str] = &["mqtt:", "mqtts:", "ws:", "wss:"];
    const SCHEME_ERROR: &'static str = "the scheme must be mqtt://, mqtts://, ws:// or wss://";

    fn open_link(&self, url: &str, on_event: Box<dyn FnMut(LinkEvent)>) -> Result<JsLink, String> {
        JsLink::open(&self.adapter, url, on_event)
    }

    fn timer(&self, on_fire: Box<dyn FnMut()>) -> GlobalTimer {
        GlobalTimer::new(on_fire)
    }

    fn open_store(
        &self,
        client_id: &str,
        quota: Option<usize>,
        done: Box<dyn FnOnce(JsStore, Snapshot)>,
    ) {
        JsStore::open(self.store.clone(), client_id, quota, done);
    }
}

/// Tabs share connections only in the browser. [`NoTab`] has no value, so neither has this type:
/// the driver's `Option<Sharing>` is always `None` here, and its sharing branches call only
/// [`NoTab`]'s empty methods, so no code of the tab protocol is linked into the edge build.
pub(crate) struct Sharing {
    pub(crate) tab: NoTab,
}

impl Sharing {
    pub(crate) fn flush(&mut self) {
        match self.tab {}
    }
}

/// The methods of [`mqtt_tabs::Tab`] the driver calls, on a type with no value.
pub(crate) enum NoTab {}

#[allow(
    clippy::unused_self,
    clippy::needless_pass_by_value,
    clippy::trivially_copy_pass_by_ref
)]
impl NoTab {
    pub(crate) fn route(&mut self, _event: Event) -> Option<Event> {
        match *self {}
    }
    pub(crate) fn committed(&mut self, _id: PublishId) {
        match *self {}
    }
    pub(crate) fn promote(
        &mut self,
        _conn: &mut impl Connection,
        _now: Instant,
        _restored: Vec<Restored>,
    ) -> bool {
        match *self {}
    }
    pub(crate) fn request(
        &mut self,
        _conn: &mut impl Connection,
        _now: Instant,
        _request: Request,
        _max_queued: usize,
    ) -> Result<u64, CommandError> {
        match *self {}
    }
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        match *self {}
    }
    pub(crate) fn role(&self) -> TabRole {
        match *self {}
    }
    pub(crate) fn is_leader(&self) -> bool {
        match *self {}
    }
    pub(crate) fn is_granted(&self) -> bool {
        match *self {}
    }
    pub(crate) fn connected(&self) -> bool {
        match *self {}
    }
    pub(crate) fn elsewhere(&self) -> bool {
        match *self {}
    }
    pub(crate) fn pending_count(&self) -> usize {
        match *self {}
    }
    pub(crate) fn take_over(&mut self) {
        match *self {}
    }
    pub(crate) fn leave(&mut self) {
        match *self {}
    }
}
