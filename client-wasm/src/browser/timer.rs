//! One re-armable timer that keeps time in a hidden tab.
//!
//! Chrome throttles `setTimeout` in background tabs (to once a minute after five minutes hidden),
//! which would starve MQTT keepalive and reconnect timing. Dedicated workers are not throttled
//! that way, so the timer runs in a tiny Worker made from a Blob URL: the page posts the delay
//! (or -1 to cancel) and the worker posts a tick back. Where workers are unavailable (a strict
//! CSP without `worker-src blob:`, or a worker context without nested workers) it falls back to
//! the global `setTimeout` (`crate::timer`).

use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, MessageEvent, Url, Worker};

use crate::runtime::Timer;
use crate::timer::GlobalTimer;

/// The worker's whole program: one pending timeout at a time.
const WORKER_JS: &str = "let t=null;onmessage=e=>{if(t!==null)clearTimeout(t);t=null;\
if(e.data>=0)t=setTimeout(()=>{t=null;postMessage(0)},e.data)}";

enum Kind {
    Worker {
        worker: Worker,
        url: String,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
    },
    Global(GlobalTimer),
}

/// Calls `on_fire` once per `arm`, after the delay; `arm` again replaces the previous delay.
pub(crate) struct WorkerTimer {
    kind: Kind,
}

impl WorkerTimer {
    /// A worker-backed timer, or a `setTimeout` one if `prefer_worker` is false or no worker can
    /// be created.
    pub(crate) fn new(prefer_worker: bool, on_fire: Box<dyn FnMut()>) -> WorkerTimer {
        let on_fire = std::rc::Rc::new(std::cell::RefCell::new(on_fire));
        if prefer_worker {
            let fire = on_fire.clone();
            if let Some(kind) = worker_kind(move || {
                if let Ok(mut f) = fire.try_borrow_mut() {
                    (*f)();
                }
            }) {
                return WorkerTimer { kind };
            }
        }
        WorkerTimer {
            kind: Kind::Global(GlobalTimer::new(Box::new(move || {
                if let Ok(mut f) = on_fire.try_borrow_mut() {
                    (*f)();
                }
            }))),
        }
    }
}

impl Timer for WorkerTimer {
    fn uses_worker(&self) -> bool {
        matches!(self.kind, Kind::Worker { .. })
    }

    fn arm(&mut self, delay_ms: u64) {
        match &mut self.kind {
            Kind::Worker { worker, .. } => {
                // Browsers clamp delays above 2^31-1 ms to 0: cap at about 24 days.
                let ms = delay_ms.min(i32::MAX as u64) as f64;
                let _ = worker.post_message(&JsValue::from_f64(ms));
            }
            Kind::Global(timer) => timer.arm(delay_ms),
        }
    }

    fn cancel(&mut self) {
        match &mut self.kind {
            Kind::Worker { worker, .. } => {
                let _ = worker.post_message(&JsValue::from_f64(-1.0));
            }
            Kind::Global(timer) => timer.cancel(),
        }
    }
}

impl Drop for WorkerTimer {
    fn drop(&mut self) {
        if let Kind::Worker { worker, url, .. } = &mut self.kind {
            worker.set_onmessage(None);
            worker.terminate();
            let _ = Url::revoke_object_url(url);
        }
    }
}

fn worker_kind(mut on_fire: impl FnMut() + 'static) -> Option<Kind> {
    let parts = Array::of1(&JsValue::from_str(WORKER_JS));
    let bag = BlobPropertyBag::new();
    bag.set_type("text/javascript");
    let blob = Blob::new_with_str_sequence_and_options(&parts, &bag).ok()?;
    let url = Url::create_object_url_with_blob(&blob).ok()?;
    let Ok(worker) = Worker::new(&url) else {
        let _ = Url::revoke_object_url(&url);
        return None;
    };
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| on_fire());
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    Some(Kind::Worker {
        worker,
        url,
        _on_message: on_message,
    })
}
