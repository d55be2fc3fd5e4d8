//! Reading what the page passes: `connect`'s options, topic filters and payloads, each field
//! checked (a wrong type is an `invalid_options`, `invalid_topic` or `invalid_payload` error).

use std::time::Duration;

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::errors::js_error;
use super::hot_path::payload_bytes;
use super::types::math_random;
use mqtt_core::Options;

pub(super) fn filter_list(value: &JsValue) -> Result<Vec<String>, JsValue> {
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

fn get(object: &JsValue, key: &str) -> JsValue {
    if object.is_object() {
        Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// `invalid_options`: "`key` must be `what`" (one formatting body for every type).
fn invalid_option(key: &str, what: &str) -> JsValue {
    js_error("invalid_options", &format!("{key} must be {what}"))
}

pub(super) fn get_number(object: &JsValue, key: &str) -> Result<Option<f64>, JsValue> {
    let value = get(object, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
        _ => Err(invalid_option(key, "a non-negative number")),
    }
}

pub(super) fn get_bool(object: &JsValue, key: &str) -> Result<Option<bool>, JsValue> {
    let value = get(object, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_bool()
        .map(Some)
        .ok_or_else(|| invalid_option(key, "a boolean"))
}

pub(super) fn get_string(object: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    let value = get(object, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_string()
        .map(Some)
        .ok_or_else(|| invalid_option(key, "a string"))
}

fn random_u64() -> u64 {
    let hi = (math_random() * 4_294_967_296.0) as u64;
    let lo = (math_random() * 4_294_967_296.0) as u64;
    (hi << 32) | lo
}

pub(super) fn parse_options(js: JsValue) -> Result<Options, JsValue> {
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
        options.password = Some(payload_bytes(&password).ok_or_else(|| {
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
