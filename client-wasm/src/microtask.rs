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
    /// `None` only while dropping.
    callback: Option<Closure<dyn FnMut()>>,
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
        Microtask {
            callback: Some(callback),
            queued,
        }
    }

    /// Queues the callback unless it is queued already.
    pub(crate) fn queue(&self) {
        if let Some(callback) = &self.callback {
            if !self.queued.replace(true) {
                queue_microtask(callback.as_ref().unchecked_ref());
            }
        }
    }
}

impl Drop for Microtask {
    /// Dropped while queued (a client dropped right after a call), the callback is still called
    /// once: it must outlive its owner, or the runtime calls a freed closure ("closure invoked
    /// after being dropped"). It is left to JavaScript then; what it captured must not need
    /// its owner (the driver's holds a `Weak`, which finds nothing).
    fn drop(&mut self) {
        if let (true, Some(callback)) = (self.queued.get(), self.callback.take()) {
            callback.forget();
        }
    }
}
