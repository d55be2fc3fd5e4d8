//! What the page sees of the session's events: the state object and its callbacks, message
//! objects, and the promises of calls, settled on their acknowledgements.

use std::cell::{Cell, OnceCell, RefCell};

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsValue;

use super::errors::{connection_error, js_error};
use super::types::console_error;
use mqtt_core::{qos_to_u8, ConnectionError, Event, Message};

pub(super) type Settle = (Function, Function);
/// (is a subscribe/unsubscribe request, id, outcome)
pub(super) type Early = (bool, u64, Result<JsValue, JsValue>);

#[derive(Default)]
pub(super) struct Shared {
    pub(super) on_message: RefCell<Vec<Function>>,
    pub(super) on_state: RefCell<Vec<Function>>,
    pub(super) state: RefCell<JsValue>,
    /// Unsettled promises by publish id and by request id (short lists: a Vec is smaller code
    /// than another BTreeMap instantiation in the wasm binary).
    pub(super) publishes: RefCell<Vec<(u64, Settle)>>,
    pub(super) requests: RefCell<Vec<(u64, Settle)>>,
    /// While a `publish`/`subscribe` call runs, acknowledgements for ids not yet registered
    /// (QoS 0 completes inside the call) are kept here.
    pub(super) in_call: Cell<bool>,
    pub(super) early: RefCell<Vec<Early>>,
    /// Message property names, and the last topic, as JS strings: made once, not per message.
    pub(super) message_keys: OnceCell<[JsValue; 5]>,
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
    pub(super) fn message_object(&self, message: &Message) -> JsValue {
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

    pub(super) fn reject_all(&self, error: &JsValue) {
        let publishes = std::mem::take(&mut *self.publishes.borrow_mut());
        let requests = std::mem::take(&mut *self.requests.borrow_mut());
        for (_, (_, reject)) in publishes.into_iter().chain(requests) {
            let _ = reject.call1(&JsValue::NULL, error);
        }
    }

    /// A promise for `id`, settled already if its acknowledgement came during the call.
    pub(super) fn promise(&self, request: bool, id: u64) -> Promise {
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
            Event::PublishFailed { id, reason } => {
                self.settle(false, id.0, Err(js_error(reason.code(), &reason.message())));
            }
            // Events added to the core later are not part of the JS API yet.
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }
}

pub(super) fn take(list: &mut Vec<(u64, Settle)>, id: u64) -> Option<Settle> {
    let index = list.iter().position(|(i, _)| *i == id)?;
    Some(list.remove(index).1)
}

pub(super) fn state_object(state: &str, fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &"state".into(), &state.into());
    for (key, value) in fields {
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object.into()
}
