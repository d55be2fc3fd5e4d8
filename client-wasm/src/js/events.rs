//! What the page sees of the session's events: the state object and its callbacks, message
//! objects, and the promises of calls, settled on their acknowledgements.

use std::cell::{Cell, OnceCell, RefCell};

use js_sys::{Array, Function, Map, Object, Promise, Reflect};
use wasm_bindgen::JsValue;

use super::errors::{connection_error, js_error};
use super::hot_path::{deliver_message, pending_promise, reject_pending, settle_pending};
use super::types::console_error;
use mqtt_core::{qos_to_u8, ConnectionError, Event, Message};

/// (is a subscribe/unsubscribe request, id, outcome)
pub(super) type Early = (bool, u64, Result<JsValue, JsValue>);

#[derive(Default)]
pub(super) struct Shared {
    /// The page's message callbacks, as the JS array `deliver_message` walks (unset until the
    /// first `onMessage`: no message object is made for nobody). A callback may add another
    /// while the array is walked, so it is only ever pushed to, never borrowed mutably.
    pub(super) on_message: OnceCell<Array>,
    pub(super) on_state: RefCell<Vec<Function>>,
    pub(super) state: RefCell<JsValue>,
    /// Unsettled promises by publish id and by request id: JS Maps of their settle functions,
    /// kept on the JavaScript side (one call to add a promise, one to settle it).
    publishes: Map,
    requests: Map,
    /// While a `publish`/`subscribe` call runs, acknowledgements for ids not yet registered
    /// (QoS 0 completes inside the call) are kept here.
    pub(super) in_call: Cell<bool>,
    pub(super) early: RefCell<Vec<Early>>,
    /// One promise resolved with `undefined`, for every QoS 0 publish that completes in its
    /// call (settled promises are immutable, so they can be shared).
    resolved: OnceCell<Promise>,
    /// The last topic as a JS string: made once per topic change, not per message.
    pub(super) last_topic: RefCell<Option<(String, JsValue)>>,
}

impl Shared {
    pub(super) fn set_state(&self, state: JsValue) {
        *self.state.borrow_mut() = state.clone();
        let callbacks = self.on_state.borrow().clone();
        for callback in callbacks {
            if let Err(e) = callback.call1(&JsValue::NULL, &state) {
                console_error("client-wasm: onState callback threw", &e);
            }
        }
    }

    /// Settles a publish (`request == false`) or subscribe/unsubscribe promise.
    pub(super) fn settle(&self, request: bool, id: u64, result: Result<JsValue, JsValue>) {
        let (ok, value) = match &result {
            Ok(value) => (true, value),
            Err(error) => (false, error),
        };
        if !settle_pending(self.pending(request), pending_key(id), ok, value) && self.in_call.get()
        {
            self.early.borrow_mut().push((request, id, result));
        }
    }

    fn pending(&self, request: bool) -> &Map {
        if request {
            &self.requests
        } else {
            &self.publishes
        }
    }

    /// Calls the page's callbacks with `{topic, payload, qos, retain, dup}` (the payload a copy
    /// the page owns), in one call into JavaScript.
    fn deliver(&self, message: &Message) {
        let Some(callbacks) = self.on_message.get() else {
            return;
        };
        // Held across the call: a callback cannot reach it (events raised inside one are
        // queued, see `Driver::drive`), and a topic made afresh would do if one did.
        let Ok(mut last) = self.last_topic.try_borrow_mut() else {
            return deliver_to(callbacks, &message.topic.as_str().into(), message);
        };
        if !matches!(&*last, Some((text, _)) if *text == message.topic) {
            *last = Some((message.topic.clone(), message.topic.as_str().into()));
        }
        if let Some((_, topic)) = &*last {
            deliver_to(callbacks, topic, message);
        }
    }

    pub(super) fn resolved(&self) -> Promise {
        self.resolved
            .get_or_init(|| Promise::resolve(&JsValue::UNDEFINED))
            .clone()
    }

    pub(super) fn reject_all(&self, error: &JsValue) {
        reject_pending(&self.publishes, error);
        reject_pending(&self.requests, error);
    }

    /// A promise for `id`, settled already if its acknowledgement came during the call.
    pub(super) fn promise(&self, request: bool, id: u64) -> Promise {
        let early = std::mem::take(&mut *self.early.borrow_mut())
            .into_iter()
            .find(|(r, i, _)| *r == request && *i == id)
            .map(|(_, _, result)| result);
        match early {
            Some(Ok(value)) => Promise::resolve(&value),
            Some(Err(error)) => Promise::reject(&error),
            None => pending_promise(self.pending(request), pending_key(id)),
        }
    }

    pub(super) fn handle(&self, event: Event) {
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
                    ("reason", JsValue::from(error.message())),
                    ("error", js.clone()),
                ];
                if let Some(code) = error.close_code() {
                    fields.push(("closeCode", JsValue::from(code)));
                }
                self.set_state(state_object("closed", &fields));
                self.reject_all(&js);
            }
            Event::Reconnecting { attempt } => {
                self.set_state(state_object("connecting", &[("attempt", attempt.into())]));
            }
            Event::Disconnected => self.set_state(state_object(
                "closed",
                &[
                    ("code", "ended".into()),
                    ("reason", "end() was called".into()),
                ],
            )),
            Event::Message(message) => self.deliver(&message),
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
            Event::PublishFailed { id, reason } => {
                self.settle(false, id.0, Err(js_error(reason.code(), &reason.message())));
            }
            // Events added to the core later are not part of the JS API yet.
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }
}

fn deliver_to(callbacks: &Array, topic: &JsValue, message: &Message) {
    deliver_message(
        callbacks,
        topic,
        &message.payload,
        qos_to_u8(message.qos),
        message.retain,
        message.dup,
    );
}

/// An id as the pending Maps' key: a JS number (exact: ids count up from 1, far below 2^53).
fn pending_key(id: u64) -> f64 {
    id as f64
}

pub(super) fn state_object(state: &str, fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"state".into(), &state.into());
    for (key, value) in fields {
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object.into()
}
