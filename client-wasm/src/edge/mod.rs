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

use core::convert::Infallible;

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::runtime::{LinkEvent, Runtime};
use crate::timer::GlobalTimer;
use link::JsLink;
use mqtt_core::persist::Snapshot;
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

/// Tabs share connections only in the browser. This type cannot be constructed (its `never`
/// field has no value), so the driver's `Option<Sharing>` is always `None` here and the
/// compiler drops every branch that would use it, with the tab protocol's code.
pub(crate) struct Sharing {
    pub(crate) tab: mqtt_tabs::Tab,
    never: Infallible,
}

impl Sharing {
    pub(crate) fn flush(&mut self) {
        match self.never {}
    }
}
