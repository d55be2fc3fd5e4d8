//! A re-armable timer on the global `setTimeout`, which every runtime has (browsers, workers,
//! Node, Deno, Bun, workerd). The browser wraps it in a Worker-backed timer for hidden tabs.

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::runtime::Timer;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// One pending `setTimeout` at a time.
pub(crate) struct GlobalTimer {
    callback: Closure<dyn FnMut()>,
    pending: Option<JsValue>,
}

impl GlobalTimer {
    pub(crate) fn new(on_fire: Box<dyn FnMut()>) -> GlobalTimer {
        GlobalTimer {
            callback: Closure::<dyn FnMut()>::new(on_fire),
            pending: None,
        }
    }
}

impl Timer for GlobalTimer {
    fn arm(&mut self, delay_ms: u64) {
        self.cancel();
        // Runtimes clamp delays above 2^31-1 ms to 0 or 1: cap at about 24 days.
        let ms = delay_ms.min(i32::MAX as u64) as f64;
        self.pending = Some(set_timeout(self.callback.as_ref().unchecked_ref(), ms));
    }

    fn cancel(&mut self) {
        if let Some(id) = self.pending.take() {
            clear_timeout(&id);
        }
    }
}

impl Drop for GlobalTimer {
    fn drop(&mut self) {
        self.cancel();
    }
}
