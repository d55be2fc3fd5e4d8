//! The JavaScript API (wasm-bindgen), built with `wasm-pack build --target web` into an npm
//! package (`client-wasm/pkg`, see `scripts/build-pkg.sh`).
//!
//! ```js
//! import init, { connect } from "./pkg/client_wasm.js";
//! await init();
//! const client = connect("ws://127.0.0.1:8080/mqtt", { clientId: "dev1", clean: false });
//! client.onState((s) => console.log(s.state, s));
//! client.onMessage((m) => console.log(m.topic, new TextDecoder().decode(m.payload)));
//! await client.subscribe("dev1/#", 1);
//! await client.publish("dev1/temp", "21.5", { qos: 1 });
//! client.end();
//! ```
//!
//! When another client (a device, the CLI, another browser) keeps taking the client id over,
//! the state becomes `{ state: "elsewhere", at }` instead of a reconnect loop (see
//! `mqtt_core::takeover`); `client.takeOver()` connects again and takes it back. With a
//! connection shared by several tabs every tab shows the state, and `takeOver()` in a follower
//! asks the leader tab to do it.
//!
//! Promises settle on acknowledgement (SUBACK, UNSUBACK, PUBACK, PUBCOMP; QoS 0: handed to the
//! WebSocket) and reject on `end()` or when the connection is lost for good. Errors are `Error`s
//! with a stable `code`: why a call was refused (`CommandError::code` in mqtt-core: `invalid_url`,
//! `invalid_topic`, `queue_full`, `storage_full`, `invalid_options`, `ended`..., plus
//! `invalid_qos`, `invalid_payload`), why the connection died (`ConnectionError::code`:
//! `bad_credentials`, `closed` with a `closeCode`, `transport`...), why an accepted publish
//! cannot complete (`session_lost`: the broker dropped the session after PUBREL, delivery
//! unknown), or `subscription_refused`.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Array, ArrayBuffer, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::browser::{BrowserConfig, Client};
use mqtt_core::{
    qos_from_u8, qos_to_u8, CommandError, ConnectionError, Event, Message, Options, QoS,
};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** Options of `connect`. */
export interface ConnectOptions {
  /** Client identifier; default: "wasm-" and random hex (required with clean: false). Also the IndexedDB key of the stored session. */
  clientId?: string;
  username?: string;
  /** Never written to storage by the client. */
  password?: string | Uint8Array;
  /** Clean session (default true). With false (and a clientId), a QoS 1/2 publish is accepted once its row is committed to IndexedDB (a full storage rejects it with "storage_full"; nothing accepted earlier is lost), survives a page reload, and inbound QoS 2 messages are not delivered twice across one. */
  clean?: boolean;
  /** Keepalive in seconds (default 60; 0 disables). */
  keepalive?: number;
  /** Reconnect backoff (default 500 ms doubling up to 30 s, with jitter); false: never reconnect. */
  reconnect?: false | { initialMs?: number; maxMs?: number };
  /** QoS 1/2 publishes awaiting acknowledgement at once (default 64). */
  maxInflight?: number;
  /** Publishes waiting while offline or for the in-flight window (default 1000); beyond, publish rejects with code "queue_full". */
  maxQueued?: number;
  /** How long to wait for the WebSocket and CONNACK (default 10000). */
  connectTimeoutMs?: number;
  /** With an explicit clientId, the tabs of this origin that connect to the same URL with the same clientId share one connection (default true; see `role`); false: this tab connects alone. */
  share?: boolean;
}

export interface PublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

export interface MqttMessage {
  topic: string;
  /** The bytes exactly as published (decode text with `new TextDecoder().decode(payload)`). */
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
}

/** An `Error` with a stable `code` (e.g. "bad_credentials", "closed", "ended", "queue_full", "invalid_url"). */
export interface MqttError extends Error {
  code: string;
  /** WebSocket close code sent by the bridge, when `code` is "closed". */
  closeCode?: number;
}

export type MqttState =
  | { state: "connecting"; attempt: number }
  | { state: "connected"; sessionPresent: boolean }
  | { state: "reconnecting"; inMs: number; attempt: number; error: MqttError }
  | { state: "closed"; code: string; reason: string; closeCode?: number; error?: MqttError }
  /** Another client uses this client id: the broker dropped 3 connections in a row within 5 s of accepting them. No more reconnects until `takeOver()`; `at` is when (Date.now()). */
  | { state: "elsewhere"; at: number; error: MqttError };
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "ConnectOptions")]
    pub type ConnectOptions;
    #[wasm_bindgen(typescript_type = "PublishOptions")]
    pub type PublishOptions;
    #[wasm_bindgen(typescript_type = "string | Uint8Array | ArrayBuffer")]
    pub type Payload;
    #[wasm_bindgen(typescript_type = "string | string[]")]
    pub type Filters;
    #[wasm_bindgen(typescript_type = "(message: MqttMessage) => void")]
    pub type MessageCallback;
    #[wasm_bindgen(typescript_type = "(state: MqttState) => void")]
    pub type StateCallback;
    #[wasm_bindgen(typescript_type = "Promise<void>")]
    pub type VoidPromise;
    #[wasm_bindgen(typescript_type = "Promise<number[]>")]
    pub type GrantedPromise;
    #[wasm_bindgen(typescript_type = "MqttState")]
    pub type State;

    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(message: &str, error: &JsValue);
    #[wasm_bindgen(js_namespace = Math, js_name = random)]
    fn math_random() -> f64;
}

/// A JavaScript `Error` with a `code` property.
fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    let _ = Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

/// Why the connection died, with `closeCode` when the server closed it with a close frame.
fn connection_error(error: &ConnectionError) -> JsValue {
    let value = js_error(error.code(), &error.to_string());
    if let Some(code) = error.close_code() {
        let _ = Reflect::set(&value, &"closeCode".into(), &JsValue::from(code));
    }
    value
}

/// Why a call was refused.
fn command_error(error: &CommandError) -> JsValue {
    js_error(error.code(), &error.to_string())
}

fn rejected(error: JsValue) -> Promise {
    Promise::reject(&error)
}

type Settle = (Function, Function);
/// (is a subscribe/unsubscribe request, id, outcome)
type Early = (bool, u64, Result<JsValue, JsValue>);

#[derive(Default)]
struct Shared {
    on_message: RefCell<Vec<Function>>,
    on_state: RefCell<Vec<Function>>,
    state: RefCell<JsValue>,
    /// Unsettled promises by publish id and by request id (short lists: a Vec is smaller code
    /// than another BTreeMap instantiation in the wasm binary).
    publishes: RefCell<Vec<(u64, Settle)>>,
    requests: RefCell<Vec<(u64, Settle)>>,
    /// While a `publish`/`subscribe` call runs, acknowledgements for ids not yet registered
    /// (QoS 0 completes inside the call) are kept here.
    in_call: Cell<bool>,
    early: RefCell<Vec<Early>>,
    /// Message property names, and the last topic, as JS strings: made once, not per message.
    message_keys: OnceCell<[JsValue; 5]>,
    last_topic: RefCell<Option<(String, JsValue)>>,
}

impl Shared {
    fn set_state(&self, state: JsValue) {
        *self.state.borrow_mut() = state.clone();
        let callbacks = self.on_state.borrow().clone();
        for callback in callbacks {
            if let Err(e) = callback.call1(&JsValue::NULL, &state) {
                console_error("client-wasm: onState callback threw", &e);
            }
        }
    }

    /// Settles a publish (`request == false`) or subscribe/unsubscribe promise.
    fn settle(&self, request: bool, id: u64, result: Result<JsValue, JsValue>) {
        let map = if request {
            &self.requests
        } else {
            &self.publishes
        };
        let entry = take(&mut map.borrow_mut(), id);
        match entry {
            Some((resolve, reject)) => {
                let _ = match result {
                    Ok(value) => resolve.call1(&JsValue::NULL, &value),
                    Err(error) => reject.call1(&JsValue::NULL, &error),
                };
            }
            None if self.in_call.get() => {
                self.early.borrow_mut().push((request, id, result));
            }
            None => {}
        }
    }

    /// `{topic, payload, qos, retain, dup}`; the payload is a copy the page owns.
    fn message_object(&self, message: &Message) -> JsValue {
        let [topic, payload, qos, retain, dup] = self
            .message_keys
            .get_or_init(|| ["topic", "payload", "qos", "retain", "dup"].map(JsValue::from));
        let topic_value = {
            let mut last = self.last_topic.borrow_mut();
            match &*last {
                Some((text, value)) if *text == message.topic => value.clone(),
                _ => {
                    let value = JsValue::from(message.topic.as_str());
                    *last = Some((message.topic.clone(), value.clone()));
                    value
                }
            }
        };
        let object = Object::new();
        let _ = Reflect::set(&object, topic, &topic_value);
        let _ = Reflect::set(
            &object,
            payload,
            &Uint8Array::from(message.payload.as_slice()),
        );
        let _ = Reflect::set(&object, qos, &qos_to_u8(message.qos).into());
        let _ = Reflect::set(&object, retain, &message.retain.into());
        let _ = Reflect::set(&object, dup, &message.dup.into());
        object.into()
    }

    fn reject_all(&self, error: &JsValue) {
        let publishes = std::mem::take(&mut *self.publishes.borrow_mut());
        let requests = std::mem::take(&mut *self.requests.borrow_mut());
        for (_, (_, reject)) in publishes.into_iter().chain(requests) {
            let _ = reject.call1(&JsValue::NULL, error);
        }
    }

    /// A promise for `id`, settled already if its acknowledgement came during the call.
    fn promise(&self, request: bool, id: u64) -> Promise {
        let early = std::mem::take(&mut *self.early.borrow_mut())
            .into_iter()
            .find(|(r, i, _)| *r == request && *i == id)
            .map(|(_, _, result)| result);
        if let Some(result) = early {
            return match result {
                Ok(value) => Promise::resolve(&value),
                Err(error) => Promise::reject(&error),
            };
        }
        let map = if request {
            &self.requests
        } else {
            &self.publishes
        };
        Promise::new(&mut |resolve, reject| {
            map.borrow_mut().push((id, (resolve, reject)));
        })
    }

    fn handle(&self, event: Event) {
        match event {
            Event::Connected { session_present } => self.set_state(state_object(
                "connected",
                &[("sessionPresent", session_present.into())],
            )),
            Event::ConnectionLost {
                error,
                reconnect_in: Some(delay),
                attempt,
            } => {
                let in_ms = u32::try_from(delay.as_millis()).unwrap_or(u32::MAX);
                self.set_state(state_object(
                    "reconnecting",
                    &[
                        ("inMs", in_ms.into()),
                        ("attempt", attempt.into()),
                        ("error", connection_error(&error)),
                    ],
                ));
            }
            Event::ConnectionLost {
                error: error @ ConnectionError::ConnectedElsewhere { .. },
                ..
            } => self.set_state(state_object(
                "elsewhere",
                &[
                    ("at", js_sys::Date::now().into()),
                    ("error", connection_error(&error)),
                ],
            )),
            Event::ConnectionLost {
                error,
                reconnect_in: None,
                ..
            } => {
                let js = connection_error(&error);
                let mut fields = vec![
                    ("code", JsValue::from(error.code())),
                    ("reason", JsValue::from(error.to_string())),
                    ("error", js.clone()),
                ];
                if let Some(code) = error.close_code() {
                    fields.push(("closeCode", JsValue::from(code)));
                }
                self.set_state(state_object("closed", &fields));
                self.reject_all(&js);
            }
            Event::Reconnecting { attempt } => {
                self.set_state(state_object("connecting", &[("attempt", attempt.into())]))
            }
            Event::Disconnected => self.set_state(state_object(
                "closed",
                &[
                    ("code", "ended".into()),
                    ("reason", "end() was called".into()),
                ],
            )),
            Event::Message(message) => {
                let value = self.message_object(&message);
                let callbacks = self.on_message.borrow().clone();
                for callback in callbacks {
                    if let Err(e) = callback.call1(&JsValue::NULL, &value) {
                        console_error("client-wasm: onMessage callback threw", &e);
                    }
                }
            }
            Event::Subscribed { request, granted } => {
                let result = if granted.iter().all(Option::is_some) {
                    let list: Array = granted
                        .iter()
                        .flatten()
                        .map(|q| JsValue::from(qos_to_u8(*q)))
                        .collect();
                    Ok(list.into())
                } else {
                    Err(js_error(
                        "subscription_refused",
                        "the broker refused the subscription (SUBACK 0x80)",
                    ))
                };
                self.settle(true, request.0, result);
            }
            Event::Unsubscribed { request } => self.settle(true, request.0, Ok(JsValue::UNDEFINED)),
            Event::Published { id } => self.settle(false, id.0, Ok(JsValue::UNDEFINED)),
            Event::PublishFailed { id, reason } => self.settle(
                false,
                id.0,
                Err(js_error(reason.code(), &reason.to_string())),
            ),
            // Events added to the core later are not part of the JS API yet.
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }
}

fn take(list: &mut Vec<(u64, Settle)>, id: u64) -> Option<Settle> {
    let index = list.iter().position(|(i, _)| *i == id)?;
    Some(list.remove(index).1)
}

fn state_object(state: &str, fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"state".into(), &state.into());
    for (key, value) in fields {
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object.into()
}

/// A connected (or connecting) MQTT client. Create it with `connect`.
#[wasm_bindgen(js_name = MqttClient)]
pub struct MqttClient {
    client: Client,
    shared: Rc<Shared>,
}

/// Opens `url` (ws:// or wss://, subprotocol "mqtt") and connects. Throws an `Error` with code
/// "invalid_options" when an option has the wrong type, "invalid_url" when the browser cannot
/// open a WebSocket to `url`.
#[wasm_bindgen]
pub fn connect(url: &str, options: Option<ConnectOptions>) -> Result<MqttClient, JsValue> {
    let js = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
    let options = parse_options(js.clone())?;
    // A random id is this tab's alone: there is nothing to share.
    let config = BrowserConfig {
        share: get_bool(&js, "share")?.unwrap_or(true) && get_string(&js, "clientId")?.is_some(),
        ..BrowserConfig::default()
    };
    let shared = Rc::new(Shared::default());
    *shared.state.borrow_mut() = state_object("connecting", &[("attempt", 0.into())]);
    let handler = shared.clone();
    let client = Client::connect_with(url, options, config, move |event| handler.handle(event))
        .map_err(|e| command_error(&e))?;
    Ok(MqttClient { client, shared })
}

#[wasm_bindgen(js_class = MqttClient)]
impl MqttClient {
    /// Subscribes to one filter or several; resolves with the granted QoS per filter.
    pub fn subscribe(&self, filter: Filters, qos: Option<u8>) -> GrantedPromise {
        let promise = (|| {
            let qos = qos_from_u8(qos.unwrap_or(0))
                .ok_or_else(|| js_error("invalid_qos", "QoS must be 0, 1 or 2"))?;
            let filters = filter_list(&filter)?;
            let list: Vec<(&str, QoS)> = filters.iter().map(|f| (f.as_str(), qos)).collect();
            let id = self.call(|c| c.subscribe(&list))?;
            Ok(self.shared.promise(true, id.0))
        })();
        promise.unwrap_or_else(rejected).unchecked_into()
    }

    /// Unsubscribes from one filter or several; resolves on UNSUBACK.
    pub fn unsubscribe(&self, filter: Filters) -> VoidPromise {
        let promise = (|| {
            let filters = filter_list(&filter)?;
            let list: Vec<&str> = filters.iter().map(String::as_str).collect();
            let id = self.call(|c| c.unsubscribe(&list))?;
            Ok(self.shared.promise(true, id.0))
        })();
        promise.unwrap_or_else(rejected).unchecked_into()
    }

    /// Publishes `payload` (a string is sent as UTF-8, bytes as they are). Resolves on PUBACK
    /// (QoS 1), PUBCOMP (QoS 2) or when handed to the WebSocket (QoS 0); while offline the
    /// message waits in the queue (up to `maxQueued`).
    pub fn publish(
        &self,
        topic: &str,
        payload: Payload,
        options: Option<PublishOptions>,
    ) -> VoidPromise {
        let promise = (|| {
            let bytes = payload_bytes(&payload)?;
            let options = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
            let qos = match get_number(&options, "qos")? {
                None => QoS::AtMostOnce,
                Some(n) => qos_from_u8(n as u8)
                    .filter(|_| n.fract() == 0.0)
                    .ok_or_else(|| js_error("invalid_qos", "QoS must be 0, 1 or 2"))?,
            };
            let retain = get_bool(&options, "retain")?.unwrap_or(false);
            let id = self.call(|c| c.publish(topic, &bytes, qos, retain))?;
            Ok(self.shared.promise(false, id.0))
        })();
        promise.unwrap_or_else(rejected).unchecked_into()
    }

    /// Calls `callback` with every message received.
    #[wasm_bindgen(js_name = onMessage)]
    pub fn on_message(&self, callback: MessageCallback) {
        if let Ok(f) = JsValue::from(callback).dyn_into::<Function>() {
            self.shared.on_message.borrow_mut().push(f);
        }
    }

    /// Calls `callback` with every state change, and right away with the current state.
    #[wasm_bindgen(js_name = onState)]
    pub fn on_state(&self, callback: StateCallback) {
        if let Ok(f) = JsValue::from(callback).dyn_into::<Function>() {
            let current = self.shared.state.borrow().clone();
            self.shared.on_state.borrow_mut().push(f.clone());
            if let Err(e) = f.call1(&JsValue::NULL, &current) {
                console_error("client-wasm: onState callback threw", &e);
            }
        }
    }

    /// The current state.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> State {
        self.shared.state.borrow().clone().unchecked_into()
    }

    /// "leader" (this tab holds the shared connection), "follower" (another tab does) or
    /// "solo" (not shared).
    #[wasm_bindgen(getter)]
    pub fn role(&self) -> String {
        self.client.role().as_str().into()
    }

    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        self.client.is_connected()
    }

    /// Publishes not yet acknowledged (in flight or queued).
    #[wasm_bindgen(getter, js_name = pendingCount)]
    pub fn pending_count(&self) -> usize {
        self.client.pending_count()
    }

    /// Whether the timer runs in a Worker (unthrottled in hidden tabs) or on `setTimeout`.
    #[wasm_bindgen(getter, js_name = timerInWorker)]
    pub fn timer_in_worker(&self) -> bool {
        self.client.timer_uses_worker()
    }

    /// After the "elsewhere" state: connects again, taking the client id over from the other
    /// client. Pending publishes were kept and go out once connected. In a follower tab: the
    /// leader tab, which holds the connection, is asked to.
    #[wasm_bindgen(js_name = takeOver)]
    pub fn take_over(&self) {
        self.client.take_over();
    }

    /// Sends DISCONNECT, closes the WebSocket and stops reconnecting; pending promises reject
    /// with code "ended". Unacknowledged QoS 1/2 messages stay stored (clean session off).
    pub fn end(&self) {
        self.client.end();
        self.shared.reject_all(&js_error(
            "ended",
            "end() was called before the acknowledgement",
        ));
    }

    fn call<T>(&self, f: impl FnOnce(&Client) -> Result<T, CommandError>) -> Result<T, JsValue> {
        if self.client.is_ended() {
            return Err(js_error("ended", "the client was ended"));
        }
        self.shared.in_call.set(true);
        let result = f(&self.client);
        self.shared.in_call.set(false);
        result.map_err(|e| command_error(&e))
    }
}

fn filter_list(value: &JsValue) -> Result<Vec<String>, JsValue> {
    if let Some(s) = value.as_string() {
        return Ok(vec![s]);
    }
    if Array::is_array(value) {
        let array: &Array = value.unchecked_ref();
        return array
            .iter()
            .map(|v| {
                v.as_string()
                    .ok_or_else(|| js_error("invalid_topic", "topic filters must be strings"))
            })
            .collect();
    }
    Err(js_error(
        "invalid_topic",
        "expected a topic filter string or an array of them",
    ))
}

fn payload_bytes(value: &JsValue) -> Result<Vec<u8>, JsValue> {
    if let Some(s) = value.as_string() {
        return Ok(s.into_bytes());
    }
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        return Ok(bytes.to_vec());
    }
    if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
        return Ok(Uint8Array::new(buffer).to_vec());
    }
    if value.is_undefined() || value.is_null() {
        return Ok(Vec::new());
    }
    Err(js_error(
        "invalid_payload",
        "payload must be a string, Uint8Array or ArrayBuffer",
    ))
}

fn get(object: &JsValue, key: &str) -> JsValue {
    if object.is_object() {
        Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

fn get_number(object: &JsValue, key: &str) -> Result<Option<f64>, JsValue> {
    let value = get(object, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
        _ => Err(js_error(
            "invalid_options",
            &format!("{key} must be a non-negative number"),
        )),
    }
}

fn get_bool(object: &JsValue, key: &str) -> Result<Option<bool>, JsValue> {
    let value = get(object, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_bool()
        .map(Some)
        .ok_or_else(|| js_error("invalid_options", &format!("{key} must be a boolean")))
}

fn get_string(object: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    let value = get(object, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| js_error("invalid_options", &format!("{key} must be a string")))
}

fn random_u64() -> u64 {
    let hi = (math_random() * 4_294_967_296.0) as u64;
    let lo = (math_random() * 4_294_967_296.0) as u64;
    (hi << 32) | lo
}

fn parse_options(js: JsValue) -> Result<Options, JsValue> {
    if !(js.is_undefined() || js.is_null() || js.is_object()) {
        return Err(js_error("invalid_options", "options must be an object"));
    }
    let clean = get_bool(&js, "clean")?;
    let client_id = match get_string(&js, "clientId")? {
        Some(id) => id,
        // A random id is new on every page load: a persistent session under it would be
        // orphaned on the broker and its stored messages never found again.
        None if clean == Some(false) => {
            return Err(js_error(
                "invalid_options",
                "clean: false needs a clientId (a persistent session must keep its id across \
                 page loads)",
            ))
        }
        None => format!("wasm-{:012x}", random_u64() & 0xffff_ffff_ffff),
    };
    let mut options = Options::new(client_id);
    options.username = get_string(&js, "username")?;
    let password = get(&js, "password");
    if !(password.is_undefined() || password.is_null()) {
        options.password = Some(payload_bytes(&password).map_err(|_| {
            js_error(
                "invalid_options",
                "password must be a string or a Uint8Array",
            )
        })?);
    }
    if let Some(clean) = clean {
        options.clean_session = clean;
    }
    if let Some(keepalive) = get_number(&js, "keepalive")? {
        options.keep_alive_secs = keepalive.min(65_535.0) as u16;
    }
    if let Some(n) = get_number(&js, "maxInflight")? {
        options.max_inflight = (n as usize).clamp(1, 65_535);
    }
    if let Some(n) = get_number(&js, "maxQueued")? {
        options.max_queued = n as usize;
    }
    if let Some(ms) = get_number(&js, "connectTimeoutMs")? {
        options.connect_timeout = Duration::from_millis(ms as u64);
    }
    options.reconnect.seed = random_u64();
    let reconnect = get(&js, "reconnect");
    if reconnect.as_bool() == Some(false) {
        options.reconnect.enabled = false;
    } else if reconnect.is_object() {
        if let Some(ms) = get_number(&reconnect, "initialMs")? {
            options.reconnect.initial_delay = Duration::from_millis(ms as u64);
        }
        if let Some(ms) = get_number(&reconnect, "maxMs")? {
            options.reconnect.max_delay = Duration::from_millis(ms as u64);
        }
    } else if !(reconnect.is_undefined()
        || reconnect.is_null()
        || reconnect.as_bool() == Some(true))
    {
        return Err(js_error(
            "invalid_options",
            "reconnect must be false or { initialMs, maxMs }",
        ));
    }
    Ok(options)
}
