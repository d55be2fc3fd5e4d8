//! One `web_sys::WebSocket` (subprotocol `mqtt`, binary frames only) and its callbacks.

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// What a socket reports to its owner.
pub(crate) enum SocketEvent {
    Open,
    Bytes(Vec<u8>),
    /// A text frame: MQTT over WebSockets forbids them.
    Text,
    Close {
        code: u16,
        reason: String,
    },
}

pub(crate) struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Opens `url` asking for subprotocol `mqtt`. `on_event` receives everything that happens;
    /// after [`Socket::close`] or a drop it receives nothing more.
    pub(crate) fn open(
        url: &str,
        on_event: impl FnMut(SocketEvent) + 'static,
    ) -> Result<Socket, String> {
        let ws = WebSocket::new_with_str(url, "mqtt").map_err(|e| describe(&e))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let on_event = std::rc::Rc::new(std::cell::RefCell::new(on_event));
        let emit = move |event| {
            if let Ok(mut f) = on_event.try_borrow_mut() {
                (*f)(event);
            }
        };
        let (e1, e2, e3) = (emit.clone(), emit.clone(), emit);
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| e1(SocketEvent::Open));
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |m: MessageEvent| {
            let data = m.data();
            if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
                e2(SocketEvent::Bytes(Uint8Array::new(buffer).to_vec()));
            } else if data.is_string() {
                e2(SocketEvent::Text);
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |c: CloseEvent| {
            e3(SocketEvent::Close {
                code: c.code(),
                reason: c.reason(),
            });
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// Queues `bytes` as one binary message. Errors (socket not open) surface as a close event.
    pub(crate) fn send(&self, bytes: &[u8]) {
        let _ = self.ws.send_with_u8_array(bytes);
    }

    /// Closes normally (after the queued messages) and detaches the callbacks.
    pub(crate) fn close(self, code: u16, reason: &str) {
        let _ = self.ws.close_with_code_and_reason(code, reason);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let state = self.ws.ready_state();
        if state == WebSocket::CONNECTING || state == WebSocket::OPEN {
            let _ = self.ws.close();
        }
    }
}

/// A JavaScript exception as text.
pub(crate) fn describe(value: &JsValue) -> String {
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    // Not `{value:?}`: JsValue's Debug pulls a large debug-string helper into the JS glue.
    value
        .as_string()
        .unwrap_or_else(|| "the WebSocket could not be created".into())
}
