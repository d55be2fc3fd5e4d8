//! The browser console, for what a page should see but no call returns: a stored row refused
//! at restore, a snapshot that could not be written.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(message: &str);
}

pub(crate) fn warn(message: &str) {
    console_warn(message);
}
