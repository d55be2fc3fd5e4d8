//! One `web_sys::WebSocket` (subprotocol `mqtt`, binary frames only) as the browser's
//! [`Link`]: its events become [`LinkEvent`]s, a close event the session's
//! [`TransportFailure`](mqtt_core::TransportFailure) (`crate::close`).

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, CloseEvent, Event, WebSocket};

use crate::close;
use crate::reflect::describe;
use crate::runtime::{shared_events, Link, LinkEvent};
use mqtt_core::TransportFailure;

#[wasm_bindgen(inline_js = r#"
export function onMessages(ws, bytes, text) {
  ws.onmessage = (event) => {
    const data = event.data;
    if (data instanceof ArrayBuffer) bytes(new Uint8Array(data));
    else if (typeof data === "string") text();
  };
}
"#)]
extern "C" {
    /// Sets `ws.onmessage`: a binary message's bytes go to `bytes` (one crossing into wasm per
    /// message, the bytes copied once), a text message calls `text`.
    #[wasm_bindgen(js_name = onMessages)]
    fn on_messages(
        ws: &WebSocket,
        bytes: &Closure<dyn FnMut(Vec<u8>)>,
        text: &Closure<dyn FnMut()>,
    );
}

pub(crate) struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_bytes: Closure<dyn FnMut(Vec<u8>)>,
    _on_text: Closure<dyn FnMut()>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Opens `url` asking for subprotocol `mqtt`. `on_event` receives everything that happens;
    /// after [`Link::close`] or a drop it receives nothing more.
    pub(crate) fn open(url: &str, on_event: Box<dyn FnMut(LinkEvent)>) -> Result<Socket, String> {
        let ws = WebSocket::new_with_str(url, "mqtt")
            .map_err(|e| describe(&e, "the WebSocket could not be created"))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let emit = shared_events(on_event);
        let opened = Rc::new(Cell::new(false));
        let (e1, e2, e3, e4) = (emit.clone(), emit.clone(), emit.clone(), emit);
        let (o1, o2) = (opened.clone(), opened);
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            o1.set(true);
            e1(LinkEvent::Open);
        });
        let on_bytes = Closure::<dyn FnMut(Vec<u8>)>::new(move |bytes: Vec<u8>| {
            e2(LinkEvent::Bytes(bytes));
        });
        let text_ws = ws.clone();
        let on_text = Closure::<dyn FnMut()>::new(move || {
            // MQTT over WebSockets forbids text frames: close, and report why.
            let (code, reason) = close::TEXT_FRAME_REFUSED;
            let _ = text_ws.close_with_code_and_reason(code, reason);
            e4(LinkEvent::Closed(TransportFailure::WebSocketProtocol(
                "the server sent a text frame".into(),
            )));
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |c: CloseEvent| {
            let failure = close::failure(c.code(), &c.reason(), o2.get());
            e3(LinkEvent::Closed(failure));
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_messages(&ws, &on_bytes, &on_text);
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Socket {
            ws,
            _on_open: on_open,
            _on_bytes: on_bytes,
            _on_text: on_text,
            _on_close: on_close,
        })
    }
}

impl Link for Socket {
    /// Queues `bytes` as one binary message. Errors (socket not open) surface as a close event.
    fn send(&self, bytes: &[u8]) {
        let _ = self.ws.send_with_u8_array(bytes);
    }

    /// Closes normally (after the queued messages) and detaches the callbacks.
    fn close(self, code: u16, reason: &str) {
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
