//! Reading JavaScript objects the client is handed (adapters, stores, exceptions), with no
//! throw escaping into Rust.

use js_sys::{Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// `object[name]` when it is a function.
pub(crate) fn method(object: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(object, &name.into())
        .ok()?
        .dyn_into::<Function>()
        .ok()
}

/// A thrown JavaScript value as text: an `Error`'s message, a thrown string, else `fallback`.
pub(crate) fn describe(value: &JsValue, fallback: &str) -> String {
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    // Not `{value:?}`: JsValue's Debug pulls a large debug-string helper into the JS glue.
    value.as_string().unwrap_or_else(|| fallback.into())
}
