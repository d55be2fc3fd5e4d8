//! The `Error`s the API throws and rejects with: a stable `code`, and `closeCode` when the
//! server closed the connection with a close frame, `tls` (the failed check) for a TLS failure.

use js_sys::{Promise, Reflect};
use wasm_bindgen::JsValue;

use mqtt_core::{CommandError, ConnectionError};

/// A JavaScript `Error` with a `code` property.
pub(super) fn js_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    let _ = Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

/// Why the connection died, with `closeCode` when the server closed it with a close frame.
pub(super) fn connection_error(error: &ConnectionError) -> JsValue {
    let value = js_error(error.code(), &error.message());
    if let Some(code) = error.close_code() {
        let _ = Reflect::set(&value, &"closeCode".into(), &JsValue::from(code));
    }
    if let ConnectionError::Transport(failure) = error {
        if let Some(kind) = failure.tls_failure() {
            let _ = Reflect::set(&value, &"tls".into(), &kind.code().into());
        }
    }
    value
}

/// Why a call was refused.
pub(super) fn command_error(error: &CommandError) -> JsValue {
    js_error(error.code(), &error.message())
}

pub(super) fn rejected(error: JsValue) -> Promise {
    Promise::reject(&error)
}
