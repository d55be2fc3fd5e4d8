//! Helpers shared by the browser integration tests (`tests/web*.rs`).
//!
//! The URLs of the real bridge and broker come from `scripts/wasm-test.sh` (through
//! `tests/src/bin/wasm_stack.rs`) at compile time; without them the broker tests skip.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use client_wasm::js::{connect, MqttClient};
use client_wasm::{Client, ClientConfig};
use js_sys::{Function, Object, Promise, Reflect};
use mqtt_core::{Event, Options, QoS};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

pub(crate) const WS_URL: Option<&str> = option_env!("MQTT_WS_URL");
pub(crate) const BADTLS_URL: Option<&str> = option_env!("MQTT_WS_BADTLS_URL");
pub(crate) const DOWN_URL: Option<&str> = option_env!("MQTT_WS_DOWN_URL");
pub(crate) const UNKNOWN_URL: Option<&str> = option_env!("MQTT_WS_UNKNOWN_URL");
pub(crate) const CONTROL_URL: Option<&str> = option_env!("MQTT_CONTROL_URL");
pub(crate) const USER: &str = match option_env!("MQTT_TEST_USER") {
    Some(u) => u,
    None => "web",
};
pub(crate) const PASSWORD: &str = match option_env!("MQTT_TEST_PASSWORD") {
    Some(p) => p,
    None => "web-secret",
};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn js_fetch(url: &str) -> Promise;
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    pub fn log(text: &str);
}

/// The stack's URL, or `None` (and a note) when the tests run without `scripts/wasm-test.sh`.
pub(crate) fn stack_url(url: Option<&'static str>) -> Option<&'static str> {
    if url.is_none() {
        log("skipped: no bridge/broker (run scripts/wasm-test.sh)");
    }
    url
}

thread_local! {
    static SET_TIMEOUT: Function = Reflect::get(&js_sys::global(), &"setTimeout".into())
        .expect("setTimeout")
        .unchecked_into();
}

/// Remembers the page's own `setTimeout`, before a test replaces it.
pub(crate) fn keep_original_set_timeout() {
    SET_TIMEOUT.with(|_| ());
}

/// Sleeps with the page's original `setTimeout`.
pub(crate) async fn sleep(ms: u32) {
    let promise = Promise::new(&mut |resolve, _| {
        SET_TIMEOUT.with(|f| {
            let _ = f.call2(&JsValue::NULL, &resolve, &JsValue::from(ms));
        });
    });
    let _ = JsFuture::from(promise).await;
}

/// Asks the stack to stop the bridge, wait `down_ms` and start it again on the same port.
/// Returns the request's promise (it settles once the bridge is back).
pub(crate) fn restart_bridge(down_ms: u32) -> JsFuture {
    let url = format!(
        "{}/restart-bridge?down_ms={down_ms}",
        CONTROL_URL.expect("control url")
    );
    JsFuture::from(js_fetch(&url))
}

/// `GET` on the stack's control endpoint; the response's text.
pub(crate) async fn control(path_and_query: &str) -> String {
    let url = format!("{}{path_and_query}", CONTROL_URL.expect("control url"));
    let response = JsFuture::from(js_fetch(&url)).await.expect("fetch");
    let text = Reflect::get(&response, &"text".into())
        .expect("text")
        .unchecked_into::<Function>()
        .call0(&response)
        .expect("text()");
    JsFuture::from(Promise::from(text))
        .await
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default()
}

/// Polls `done` every 20 ms for up to `ms`; whether it came true.
pub(crate) async fn eventually(ms: u32, mut done: impl FnMut() -> bool) -> bool {
    let mut waited = 0;
    while !done() {
        if waited >= ms {
            return false;
        }
        sleep(20).await;
        waited += 20;
    }
    true
}

/// The client's IndexedDB record for `client_id` (its JSON text), or `None`; never creates the
/// database.
pub(crate) async fn stored_record(client_id: &str) -> Option<String> {
    let read = Function::new_with_args(
        "key",
        "return new Promise((resolve, reject) => {
           const open = indexedDB.open('client-wasm');
           open.onupgradeneeded = () => open.transaction.abort();
           open.onerror = () => resolve(undefined);
           open.onsuccess = () => {
             const db = open.result;
             if (!db.objectStoreNames.contains('sessions')) { db.close(); resolve(undefined); return; }
             const get = db.transaction('sessions').objectStore('sessions').get(key);
             get.onsuccess = () => { db.close(); resolve(get.result); };
             get.onerror = () => { db.close(); reject(get.error); };
           };
         })",
    );
    let promise = read
        .call1(&JsValue::NULL, &client_id.into())
        .expect("read IndexedDB");
    settle(promise).await.ok().and_then(|v| v.as_string())
}

/// A unique suffix for client ids and topics.
pub(crate) fn unique() -> String {
    format!("{:x}", (js_sys::Math::random() * 4_294_967_295.0) as u64)
}

pub(crate) fn options(client_id: &str) -> Options {
    let mut o = Options::new(client_id).with_credentials(USER, PASSWORD);
    o.reconnect.initial_delay = Duration::from_millis(200);
    o.reconnect.max_delay = Duration::from_millis(1_000);
    o.keep_alive_secs = 30;
    o
}

/// [`options`] with a persistent session (`clean_session = false`).
pub(crate) fn persistent_options(client_id: &str) -> Options {
    Options {
        clean_session: false,
        ..options(client_id)
    }
}

/// A client whose events are recorded.
pub(crate) struct Recorded {
    pub client: Client,
    pub events: Rc<RefCell<Vec<Event>>>,
}

impl Recorded {
    pub(crate) fn connect(url: &str, options: Options) -> Recorded {
        Self::connect_with(url, options, ClientConfig::default())
    }

    pub(crate) fn connect_with(url: &str, options: Options, config: ClientConfig) -> Recorded {
        let events = Rc::new(RefCell::new(Vec::new()));
        let sink = events.clone();
        let client = Client::connect_with(url, options, config, move |e| sink.borrow_mut().push(e))
            .expect("a ws:// URL");
        Recorded { client, events }
    }

    /// Connects and subscribes; returns once the SUBACK arrived.
    pub(crate) async fn subscribed(
        url: &str,
        options: Options,
        filters: &[(&str, QoS)],
    ) -> Recorded {
        let recorded = Recorded::connect(url, options);
        recorded.client.subscribe(filters).expect("subscribe");
        recorded
            .wait(5_000, |e| matches!(e, Event::Subscribed { .. }))
            .await;
        recorded
    }

    /// The payloads of the messages received so far, in order.
    pub(crate) fn payloads(&self) -> Vec<Vec<u8>> {
        self.events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(m.payload.clone()),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn count(&self, pred: impl Fn(&Event) -> bool) -> usize {
        self.events.borrow().iter().filter(|e| pred(e)).count()
    }

    /// Waits until `pred` holds for `n` recorded events; panics with the events after `ms`.
    pub(crate) async fn wait_n(&self, n: usize, ms: u32, pred: impl Fn(&Event) -> bool) {
        let mut waited = 0;
        while self.count(&pred) < n {
            if waited >= ms {
                panic!(
                    "timed out after {ms} ms; events: {:#?}",
                    self.events.borrow()
                );
            }
            sleep(20).await;
            waited += 20;
        }
    }

    pub(crate) async fn wait(&self, ms: u32, pred: impl Fn(&Event) -> bool) {
        self.wait_n(1, ms, pred).await;
    }

    /// The first recorded event matching `pred`.
    pub(crate) fn find(&self, pred: impl Fn(&Event) -> bool) -> Option<Event> {
        self.events.borrow().iter().find(|e| pred(e)).cloned()
    }
}

pub(crate) fn is_connected(e: &Event) -> bool {
    matches!(e, Event::Connected { .. })
}

pub(crate) fn is_lost(e: &Event) -> bool {
    matches!(e, Event::ConnectionLost { .. })
}

/// Awaits a JS promise, as `Ok(value)` or `Err(rejection)`.
pub(crate) async fn settle(promise: impl Into<JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(Promise::from(promise.into())).await
}

/// `error.code` of a JS error.
pub(crate) fn code(error: &JsValue) -> String {
    Reflect::get(error, &"code".into())
        .ok()
        .and_then(|c| c.as_string())
        .unwrap_or_default()
}

// ---- the JavaScript API (`client_wasm::js`) ---------------------------------------------

/// A plain JS object with these fields.
pub(crate) fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &(*k).into(), v).expect("set");
    }
    o.into()
}

/// `value[key]`, or `undefined`.
pub(crate) fn field(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// The JS API's `connect` with the test user and a quick reconnect, plus `extra` options.
pub(crate) fn js_connect(url: &str, client_id: &str, extra: &[(&str, JsValue)]) -> MqttClient {
    let mut fields = vec![
        ("clientId", JsValue::from(client_id)),
        ("username", JsValue::from(USER)),
        ("password", JsValue::from(PASSWORD)),
        (
            "reconnect",
            object(&[("initialMs", 200.into()), ("maxMs", 1_000.into())]),
        ),
    ];
    fields.extend(extra.iter().cloned());
    connect(url, Some(object(&fields).unchecked_into())).expect("connect")
}

/// Records every value passed to the callback it makes.
pub(crate) fn recorder() -> (Rc<RefCell<Vec<JsValue>>>, Function) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    let f = Closure::<dyn FnMut(JsValue)>::new(move |v: JsValue| sink.borrow_mut().push(v));
    (seen, f.into_js_value().unchecked_into())
}

/// Waits up to `ms` for `cond`, failing with `what`.
pub(crate) async fn wait_until(ms: u32, what: &str, cond: impl Fn() -> bool) {
    let mut waited = 0;
    while !cond() {
        assert!(waited < ms, "timed out waiting for {what}");
        sleep(20).await;
        waited += 20;
    }
}
