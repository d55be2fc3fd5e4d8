//! A listener on the global object (`window` or a worker's `self`), removed on drop. Used for the
//! `online` event: when the network comes back, the client skips the rest of its reconnect delay.

use crate::reflect::method;
use wasm_bindgen::prelude::*;

pub(crate) struct Listener {
    event: &'static str,
    callback: Closure<dyn FnMut()>,
}

impl Listener {
    /// `None` where the global object has no `addEventListener`.
    pub(crate) fn new(event: &'static str, on_event: impl FnMut() + 'static) -> Option<Listener> {
        let add = method(&js_sys::global(), "addEventListener")?;
        let callback = Closure::<dyn FnMut()>::new(on_event);
        add.call2(&js_sys::global(), &event.into(), callback.as_ref())
            .ok()?;
        Some(Listener { event, callback })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(remove) = method(&js_sys::global(), "removeEventListener") {
            let _ = remove.call2(
                &js_sys::global(),
                &self.event.into(),
                self.callback.as_ref(),
            );
        }
    }
}
