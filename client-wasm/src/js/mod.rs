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

mod errors;
mod events;
mod hot_path;
mod options;
mod types;

use std::rc::Rc;

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::{Client, ClientConfig};
use errors::{command_error, js_error, rejected};
use events::{state_object, Shared};
use hot_path::{payload_bytes, publish_options, PublishOptionsError};
use mqtt_core::{qos_from_u8, CommandError, Event, Options, QoS};
use options::{filter_list, parse_options};
#[cfg(feature = "browser")]
use options::{get_bool, get_string};
use types::console_error;
pub use types::{
    ConnectOptions, Filters, GrantedPromise, MessageCallback, Payload, PublishOptions, State,
    StateCallback, VoidPromise,
};

/// A connected (or connecting) MQTT client. Create it with `connect`.
#[wasm_bindgen(js_name = MqttClient)]
pub struct MqttClient {
    client: Client,
    shared: Rc<Shared>,
}

/// Opens `url` (ws:// or wss://, subprotocol "mqtt") and connects. Throws an `Error` with code
/// "invalid_options" when an option has the wrong type, "invalid_url" when the browser cannot
/// open a WebSocket to `url`.
#[cfg(feature = "browser")]
#[wasm_bindgen]
pub fn connect(url: &str, options: Option<ConnectOptions>) -> Result<MqttClient, JsValue> {
    let js = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
    // A random id is this tab's alone: there is nothing to share.
    let share = get_bool(&js, "share")?.unwrap_or(true) && get_string(&js, "clientId")?.is_some();
    let config = ClientConfig {
        share,
        ..ClientConfig::default()
    };
    MqttClient::open(&js, |options, on_event| {
        Client::connect_with(url, options, config, on_event)
    })
}

/// Opens `url` (mqtt://, mqtts://, ws:// or wss://) through `adapter`, the runtime's transport
/// and store (the package's entry for each runtime makes it: see `EdgeAdapter` in
/// `client-wasm/js/index.d.ts`), and connects. Throws an `Error` with code "invalid_options"
/// when an option has the wrong type or `adapter` has no `open`, "invalid_url" for another
/// scheme.
#[cfg(not(feature = "browser"))]
#[wasm_bindgen]
pub fn connect(
    url: &str,
    options: Option<ConnectOptions>,
    adapter: JsValue,
) -> Result<MqttClient, JsValue> {
    let js = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
    let runtime = crate::edge::Edge::new(adapter).ok_or_else(|| {
        js_error(
            "invalid_options",
            "the adapter must have an open() function",
        )
    })?;
    MqttClient::open(&js, |options, on_event| {
        Client::connect_on(
            runtime,
            url,
            options,
            &ClientConfig::default(),
            None,
            on_event,
        )
    })
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
            let bytes = payload_bytes(&payload).ok_or_else(|| {
                js_error(
                    "invalid_payload",
                    "payload must be a string, Uint8Array or ArrayBuffer",
                )
            })?;
            let options = options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
            let flags = publish_options(&options).map_err(|e| match e {
                PublishOptionsError::QosNotANumber => {
                    js_error("invalid_options", "qos must be a non-negative number")
                }
                PublishOptionsError::QosOutOfRange => {
                    js_error("invalid_qos", "QoS must be 0, 1 or 2")
                }
                PublishOptionsError::RetainNotABoolean => {
                    js_error("invalid_options", "retain must be a boolean")
                }
            })?;
            let id = self.call(|c| c.publish(topic, &bytes, flags.qos, flags.retain))?;
            if flags.qos == QoS::AtMostOnce && self.client.take_published(id) {
                return Ok(self.shared.resolved());
            }
            Ok(self.shared.promise(false, id.0))
        })();
        promise.unwrap_or_else(rejected).unchecked_into()
    }

    /// Calls `callback` with every message received.
    #[wasm_bindgen(js_name = onMessage)]
    pub fn on_message(&self, callback: MessageCallback) {
        if let Ok(f) = JsValue::from(callback).dyn_into::<Function>() {
            self.shared.on_message.get_or_init(Array::new).push(&f);
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

    /// True while the connection is up (CONNACK accepted, not yet lost).
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

    /// Reads the options, then connects through `connect`, whose events settle this client's
    /// promises and call its callbacks.
    fn open(
        js: &JsValue,
        connect: impl FnOnce(Options, Box<dyn FnMut(Event)>) -> Result<Client, CommandError>,
    ) -> Result<MqttClient, JsValue> {
        let options = parse_options(js.clone())?;
        let shared = Rc::new(Shared::default());
        *shared.state.borrow_mut() = state_object("connecting", &[("attempt", 0.into())]);
        let handler = shared.clone();
        let client = connect(options, Box::new(move |event| handler.handle(event)))
            .map_err(|e| command_error(&e))?;
        Ok(MqttClient { client, shared })
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
