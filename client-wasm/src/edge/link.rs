//! A link opened by the JavaScript adapter (`adapter.open(url, sink)`): the sink's three
//! methods are closures into the driver, the link's `send` and `close` are called from here.

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::link_failure::LinkFailure;
use crate::reflect::{describe, method};
use crate::runtime::{shared_events, Link, LinkEvent};

const SINK_METHODS: [&str; 3] = ["open", "bytes", "closed"];

pub(crate) struct JsLink {
    send: Function,
    close: Function,
    link: JsValue,
    sink: Object,
    _closures: SinkClosures,
}

struct SinkClosures {
    _open: Closure<dyn FnMut()>,
    /// Takes the transport's Uint8Array as bytes copied into wasm in the same crossing.
    _bytes: Closure<dyn FnMut(Vec<u8>)>,
    _closed: Closure<dyn FnMut(JsValue)>,
}

impl JsLink {
    /// Calls `adapter.open(url, sink)`; a throw or a link without `send`/`close` is an `Err`.
    pub(crate) fn open(
        adapter: &JsValue,
        url: &str,
        on_event: Box<dyn FnMut(LinkEvent)>,
    ) -> Result<JsLink, String> {
        let emit = shared_events(on_event);
        let opened = Rc::new(Cell::new(false));
        let (e1, e2, e3) = (emit.clone(), emit.clone(), emit);
        let (o1, o2) = (opened.clone(), opened);
        let closures = SinkClosures {
            _open: Closure::<dyn FnMut()>::new(move || {
                if !o1.replace(true) {
                    e1(LinkEvent::Open);
                }
            }),
            _bytes: Closure::<dyn FnMut(Vec<u8>)>::new(move |data: Vec<u8>| {
                e2(LinkEvent::Bytes(data));
            }),
            _closed: Closure::<dyn FnMut(JsValue)>::new(move |failure: JsValue| {
                e3(LinkEvent::Closed(
                    read_failure(&failure).into_transport_failure(o2.get()),
                ));
            }),
        };
        let sink = Object::new();
        let functions: [&JsValue; 3] = [
            closures._open.as_ref(),
            closures._bytes.as_ref(),
            closures._closed.as_ref(),
        ];
        for (name, function) in SINK_METHODS.iter().zip(functions) {
            let _ = Reflect::set(&sink, &(*name).into(), function);
        }
        let open = method(adapter, "open").ok_or("the adapter has no open()")?;
        let link = open
            .call2(adapter, &url.into(), &sink)
            .map_err(|e| describe(&e, "the adapter's open() threw"))?;
        let send = method(&link, "send").ok_or("the adapter's link has no send()")?;
        let close = method(&link, "close").ok_or("the adapter's link has no close()")?;
        Ok(JsLink {
            send,
            close,
            link,
            sink,
            _closures: closures,
        })
    }
}

impl Link for JsLink {
    fn send(&self, bytes: &[u8]) {
        // The transport keeps the view only for the call: a runtime that writes later copies.
        let data = Uint8Array::from(bytes);
        let _ = self.send.call1(&self.link, &data);
    }

    fn close(self, _code: u16, _reason: &str) {
        // Dropping detaches the sink, then closes.
    }
}

impl Drop for JsLink {
    /// The sink's methods become no-ops before the closures behind them are freed, so a late
    /// event from the transport is ignored instead of calling a freed closure.
    fn drop(&mut self) {
        let noop = noop();
        for name in SINK_METHODS {
            let _ = Reflect::set(&self.sink, &name.into(), &noop);
        }
        let _ = self.close.call0(&self.link);
    }
}

/// One shared do-nothing function (made once: runtimes such as workerd refuse `new Function`).
fn noop() -> JsValue {
    thread_local! {
        static NOOP: JsValue = Closure::<dyn FnMut()>::new(|| {}).into_js_value();
    }
    NOOP.with(Clone::clone)
}

/// The `LinkFailure` object a transport passes to `sink.closed` (missing fields are empty).
fn read_failure(value: &JsValue) -> LinkFailure {
    let text = |key: &str| {
        Reflect::get(value, &key.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    let code = Reflect::get(value, &"code".into())
        .ok()
        .and_then(|v| v.as_f64())
        .filter(|n| n.fract() == 0.0 && (0.0..=65535.0).contains(n))
        .map(|n| n as u16);
    LinkFailure {
        kind: text("kind").unwrap_or_default(),
        message: text("message").unwrap_or_default(),
        close: code.map(|code| (code, text("reason").unwrap_or_default())),
        tls: text("tls"),
    }
}
