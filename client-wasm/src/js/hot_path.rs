//! The per-message work on the JavaScript side, one call each. Every wasm-bindgen crossing
//! (a `Reflect::set`, a `dyn_ref`, a clone of a callback) costs a trip through the glue; a
//! message delivered or a publish read through these functions costs one.

use js_sys::{Array, Map, Promise};
use wasm_bindgen::prelude::*;

use mqtt_core::{qos_from_u8, QoS};

#[wasm_bindgen(inline_js = r#"
const encoder = new TextEncoder();
const empty = new Uint8Array(0);

export function deliverMessage(callbacks, topic, payload, qos, retain, dup) {
  // `payload` views the wasm memory: the page gets its own copy.
  const message = { topic, payload: payload.slice(), qos, retain, dup };
  // Callbacks added by a callback get the next message, not this one.
  for (let i = 0, n = callbacks.length; i < n; i++) {
    try {
      callbacks[i](message);
    } catch (e) {
      console.error("client-wasm: onMessage callback threw", e);
    }
  }
}

export function payloadBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return encoder.encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (value === undefined || value === null) return empty;
  return undefined;
}

export function pendingPromise(pending, key) {
  return new Promise((resolve, reject) => pending.set(key, { resolve, reject }));
}

export function settlePending(pending, key, ok, value) {
  const entry = pending.get(key);
  if (entry === undefined) return false;
  pending.delete(key);
  (ok ? entry.resolve : entry.reject)(value);
  return true;
}

export function rejectPending(pending, error) {
  const entries = [...pending.values()];
  pending.clear();
  for (const entry of entries) entry.reject(error);
}

export function publishFlags(options) {
  if (options === null || typeof options !== "object") return 0;
  const { qos, retain } = options;
  let flags = 0;
  if (qos !== undefined && qos !== null) {
    if (typeof qos !== "number" || !(qos >= 0) || qos === Infinity) return -1;
    if (qos !== 0 && qos !== 1 && qos !== 2) return -2;
    flags = qos;
  }
  if (retain !== undefined && retain !== null) {
    if (typeof retain !== "boolean") return -3;
    if (retain) flags |= 4;
  }
  return flags;
}
"#)]
extern "C" {
    /// Calls each of `callbacks` with `{topic, payload, qos, retain, dup}` (the payload copied
    /// out of the wasm memory); a callback that throws is logged and the others still run.
    #[wasm_bindgen(js_name = deliverMessage)]
    pub(super) fn deliver_message(
        callbacks: &Array,
        topic: &JsValue,
        payload: &[u8],
        qos: u8,
        retain: bool,
        dup: bool,
    );

    /// A publish payload's bytes: a string as UTF-8, a Uint8Array or ArrayBuffer as they are,
    /// nothing for `undefined`/`null`; `None` for any other type.
    #[wasm_bindgen(js_name = payloadBytes)]
    pub(super) fn payload_bytes(value: &JsValue) -> Option<Vec<u8>>;

    /// A promise whose settle functions `pending` keeps under `key`.
    #[wasm_bindgen(js_name = pendingPromise)]
    pub(super) fn pending_promise(pending: &Map, key: f64) -> Promise;

    /// Settles and forgets the promise under `key` (resolved with `value` when `ok`, else
    /// rejected with it); false when `pending` has none.
    #[wasm_bindgen(js_name = settlePending)]
    pub(super) fn settle_pending(pending: &Map, key: f64, ok: bool, value: &JsValue) -> bool;

    /// Rejects every promise of `pending` with `error`, in the order they were made.
    #[wasm_bindgen(js_name = rejectPending)]
    pub(super) fn reject_pending(pending: &Map, error: &JsValue);

    #[wasm_bindgen(js_name = publishFlags)]
    fn publish_flags(options: &JsValue) -> i32;
}

/// What `publish`'s options ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PublishFlags {
    pub(super) qos: QoS,
    pub(super) retain: bool,
}

/// Why `publish`'s options were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PublishOptionsError {
    /// `qos` is not a non-negative number.
    QosNotANumber,
    /// `qos` is a number other than 0, 1 or 2.
    QosOutOfRange,
    /// `retain` is not a boolean.
    RetainNotABoolean,
}

/// Reads `qos` and `retain` from `publish`'s options (absent, `undefined` or `null`: the
/// default; options that are not an object: all defaults).
pub(super) fn publish_options(options: &JsValue) -> Result<PublishFlags, PublishOptionsError> {
    decode_flags(if options.is_undefined() {
        0
    } else {
        publish_flags(options)
    })
}

fn decode_flags(flags: i32) -> Result<PublishFlags, PublishOptionsError> {
    match flags {
        -1 => Err(PublishOptionsError::QosNotANumber),
        -2 => Err(PublishOptionsError::QosOutOfRange),
        -3 => Err(PublishOptionsError::RetainNotABoolean),
        flags => Ok(PublishFlags {
            // publishFlags returns 0, 1 or 2 in the low bits.
            qos: qos_from_u8((flags & 3) as u8).unwrap_or(QoS::AtMostOnce),
            retain: flags & 4 != 0,
        }),
    }
}
