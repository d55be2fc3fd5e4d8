//! The clock the session gets: `performance.now()` (monotonic, also in workers).

use wasm_bindgen::prelude::*;

use mqtt_core::Instant;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub(super) fn performance_now() -> f64;
}

/// `now()` for the core, in whole milliseconds.
pub fn now() -> Instant {
    Instant::from_millis(performance_now().max(0.0) as u64)
}
