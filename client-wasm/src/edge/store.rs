//! A persistent session kept by the adapter's JavaScript store (`store.load(key)` and
//! `store.save(key, text)`, both returning promises): a file for Node, Deno and Bun, Durable
//! Object storage in workerd. The record is [`crate::record`]'s text. Without a store the
//! session is kept in memory only, as in a browser without IndexedDB.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::console;
use crate::record::{decode, LastRecord};
use crate::reflect::method;
use crate::runtime::Store;
use mqtt_core::persist::{Snapshot, StoreError};

/// One client id's record in the adapter's store.
pub(crate) struct JsStore {
    /// `None`: no store was given; the session lives in memory.
    store: Option<JsValue>,
    key: String,
    last: LastRecord,
}

impl JsStore {
    /// Reads the record of `client_id` (`store.load`), then calls `done`; a store that cannot
    /// be read is reported and the session starts empty.
    pub(crate) fn open(
        store: Option<JsValue>,
        client_id: &str,
        quota: Option<usize>,
        done: Box<dyn FnOnce(JsStore, Snapshot)>,
    ) {
        let opened = JsStore {
            store,
            key: client_id.to_string(),
            last: LastRecord::new(quota),
        };
        let Some(store) = opened.store.clone() else {
            return done(opened, Snapshot::default());
        };
        let promise = call(&store, "load", &[opened.key.clone().into()]);
        let done = RefCell::new(Some((opened, done)));
        settle(
            promise,
            Box::new(move |outcome| {
                let Some((opened, done)) = done.borrow_mut().take() else {
                    return;
                };
                let text = match outcome {
                    Ok(value) => value.as_string(),
                    Err(message) => {
                        console::warn(&format!(
                            "client-wasm: the stored session could not be read ({message}); \
                             starting without it"
                        ));
                        None
                    }
                };
                let snapshot = text.as_deref().map(decode).unwrap_or_default();
                opened.last.holds(text);
                done(opened, snapshot);
            }),
        );
    }
}

impl Store for JsStore {
    /// `store.save(key, text)`; the write counts once its promise resolves (the adapter
    /// resolves only when the record is durable).
    fn write(
        self: &Rc<Self>,
        snapshot: &Snapshot,
        done: Box<dyn FnOnce(Result<(), StoreError>)>,
    ) -> Option<Result<(), StoreError>> {
        let text = match self.last.next(snapshot) {
            Ok(text) => text,
            Err(decided) => return Some(decided),
        };
        let Some(store) = &self.store else {
            self.last.holds(text);
            return Some(Ok(()));
        };
        let value = text.as_deref().map_or(JsValue::NULL, JsValue::from_str);
        let promise = call(store, "save", &[self.key.clone().into(), value]);
        let this = self.clone();
        settle(
            promise,
            Box::new(move |outcome| {
                let result = match outcome {
                    Ok(_) => {
                        this.last.holds(text);
                        Ok(())
                    }
                    Err(StoreFailure::Quota) => Err(StoreError::Full),
                    Err(StoreFailure::Other(message)) => {
                        console::warn(&format!("client-wasm: the store failed: {message}"));
                        Err(StoreError::Unavailable)
                    }
                };
                done(result);
            }),
        );
        None
    }
}

/// Why a store's promise rejected.
enum StoreFailure {
    /// An `Error` named `QuotaExceededError`.
    Quota,
    Other(String),
}

impl core::fmt::Display for StoreFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StoreFailure::Quota => f.write_str("the store is full"),
            StoreFailure::Other(message) => f.write_str(message),
        }
    }
}

/// `object[name](...args)` as a promise (a throw or a missing method becomes a rejection).
fn call(object: &JsValue, name: &str, args: &[JsValue]) -> Promise {
    let Some(function) = method(object, name) else {
        return Promise::reject(&js_sys::Error::new(&format!("the store has no {name}()")));
    };
    let result = match args {
        [a] => function.call1(object, a),
        [a, b] => function.call2(object, a, b),
        _ => function.call0(object),
    };
    match result {
        Ok(value) => Promise::resolve(&value),
        Err(error) => Promise::reject(&error),
    }
}

/// Runs `done` once `promise` settles.
fn settle(promise: Promise, done: Box<dyn FnOnce(Result<JsValue, StoreFailure>)>) {
    let done = Rc::new(RefCell::new(Some(done)));
    let (resolved, rejected) = (done.clone(), done);
    let on_resolve = Closure::once_into_js(move |value: JsValue| {
        if let Some(done) = resolved.borrow_mut().take() {
            done(Ok(value));
        }
    });
    let on_reject = Closure::once_into_js(move |error: JsValue| {
        if let Some(done) = rejected.borrow_mut().take() {
            done(Err(store_failure(&error)));
        }
    });
    // `then` through Reflect: js-sys's typed `then2` wants borrowed closures that would have to
    // outlive the promise; these free themselves when called.
    if let Some(then) = method(&promise, "then") {
        let _ = then.call2(&promise, &on_resolve, &on_reject);
    }
}

fn store_failure(error: &JsValue) -> StoreFailure {
    let Some(error) = error.dyn_ref::<js_sys::Error>() else {
        return StoreFailure::Other(
            error
                .as_string()
                .unwrap_or_else(|| "the store failed".into()),
        );
    };
    if error.name() == "QuotaExceededError" {
        StoreFailure::Quota
    } else {
        StoreFailure::Other(String::from(error.message()))
    }
}
