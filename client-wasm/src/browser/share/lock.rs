//! The two browser APIs the sharing rests on: the Web Locks API elects the leader (the lock is
//! released when its tab ends, closes or crashes), a `BroadcastChannel` carries the rest.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent};

/// Queues for the exclusive lock `name`. When granted, `on_granted` gets the function that
/// releases it and returns whether it keeps the lock (false: released at once). `false` when
/// the browser has no Web Locks API (older browsers, insecure contexts).
pub(crate) fn request_lock(
    name: &str,
    on_granted: impl FnOnce(Function) -> bool + 'static,
) -> bool {
    let global = js_sys::global();
    let locks = Reflect::get(&global, &"navigator".into())
        .and_then(|navigator| Reflect::get(&navigator, &"locks".into()))
        .unwrap_or(JsValue::UNDEFINED);
    let Ok(request) = Reflect::get(&locks, &"request".into())
        .and_then(wasm_bindgen::JsCast::dyn_into::<Function>)
    else {
        return false;
    };
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let mut release = None;
        // The lock is held until this promise settles.
        let held = Promise::new(&mut |resolve, _reject| release = Some(resolve));
        if let Some(release) = release {
            if !on_granted(release.clone()) {
                let _ = release.call0(&JsValue::NULL);
            }
        }
        held.into()
    });
    request.call2(&locks, &name.into(), &callback).is_ok()
}

/// A `BroadcastChannel` and its listener (closed when dropped).
pub(super) struct Channel {
    channel: BroadcastChannel,
    _listener: Closure<dyn FnMut(MessageEvent)>,
}

impl Channel {
    pub(super) fn open(
        name: &str,
        mut on_message: impl FnMut(JsValue) + 'static,
    ) -> Option<Channel> {
        let channel = BroadcastChannel::new(name).ok()?;
        let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            on_message(event.data());
        });
        channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        Some(Channel {
            channel,
            _listener: listener,
        })
    }

    pub(super) fn post(&self, message: &JsValue) {
        let _ = self.channel.post_message(message);
    }
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
