//! A task for the end of the current microtask checkpoint, on the global `queueMicrotask` that
//! every runtime has (browsers, workers, Node, Deno, Bun, workerd): after the script that runs
//! now and the promise callbacks it settles, before the next event.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(callback: &js_sys::Function);
}

/// One callback that can be queued any number of times, at most once at a time.
pub(crate) struct Microtask {
    callback: Closure<dyn FnMut()>,
    queued: std::rc::Rc<std::cell::Cell<bool>>,
}

impl Microtask {
    pub(crate) fn new(mut run: impl FnMut() + 'static) -> Microtask {
        let queued = std::rc::Rc::new(std::cell::Cell::new(false));
        let flag = queued.clone();
        let callback = Closure::<dyn FnMut()>::new(move || {
            flag.set(false);
            run();
        });
        Microtask { callback, queued }
    }

    /// Queues the callback unless it is queued already.
    pub(crate) fn queue(&self) {
        if !self.queued.replace(true) {
            queue_microtask(self.callback.as_ref().unchecked_ref());
        }
    }
}
