//! `TlsSession` for JavaScript (feature `edge-tls`): the package's own TLS client, rustls on ring
//! inside the wasm, over a runtime's plain TCP socket (`client-wasm/js/lib/transport/package-tls.js`
//! moves the bytes). Sans-IO, as [`mqtt_tls::TlsSession`] it wraps: ciphertext from the socket in,
//! plaintext for the MQTT session out, and back; nothing here touches a socket or a timer.
//!
//! ```text
//!  socket ──bytes──▶ receive() ──▶ takePlaintext() ──▶ the link's sink (MQTT)
//!  MQTT ──▶ write() ──▶ takeCiphertext() ──▶ socket       handshaking: until sink.open()
//!  a failure: { kind: "tls", tls: <TlsFailure code>, message } or { kind: "dropped", message }
//! ```
//!
//! Options (PEM text, see [`mqtt_tls::PemTlsOptions`]): `ca` replaces the web roots, `cert` and
//! `key` are presented for mutual TLS (X.509 v1 and v3, RSA and ECDSA keys), `verify: false` is
//! `rejectUnauthorized: false`. The failure kinds come from `mqtt-tls`' one classification, the
//! same the CLI and the bridge use.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use mqtt_tls::{PemTlsOptions, SessionError};

/// One TLS client session, driven by the package's JavaScript transport.
#[wasm_bindgen(js_name = TlsSession)]
pub struct JsTlsSession {
    inner: mqtt_tls::TlsSession,
}

#[wasm_bindgen(js_class = TlsSession)]
impl JsTlsSession {
    /// A session to `server_name` (SNI and the name verified). Throws an `Error` with code
    /// `invalid_options` for PEM text it cannot use or a name that is no DNS name or IP address.
    #[wasm_bindgen(constructor)]
    pub fn new(
        server_name: &str,
        ca: Option<String>,
        cert: Option<String>,
        key: Option<String>,
        verify: bool,
    ) -> Result<JsTlsSession, JsValue> {
        let cert_and_key = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => return Err(coded("invalid_options", "`cert` and `key` go together")),
        };
        let options = PemTlsOptions {
            ca,
            cert_and_key,
            verify,
        };
        let config = options
            .client_config()
            .map_err(|e| coded("invalid_options", &e.to_string()))?;
        mqtt_tls::TlsSession::new(config, server_name)
            .map(|inner| JsTlsSession { inner })
            .map_err(|e| coded("invalid_options", &e.to_string()))
    }

    /// Feeds ciphertext from the socket; `undefined`, or the link failure to report.
    pub fn receive(&mut self, ciphertext: &[u8]) -> JsValue {
        match self.inner.receive(ciphertext) {
            Ok(()) => JsValue::UNDEFINED,
            Err(error) => failure(&error),
        }
    }

    /// Queues plaintext (MQTT packets) for the server; `undefined`, or the link failure.
    pub fn write(&mut self, plaintext: &[u8]) -> JsValue {
        match self.inner.write(plaintext) {
            Ok(()) => JsValue::UNDEFINED,
            Err(error) => failure(&error),
        }
    }

    /// Plaintext from the server since the last call (empty when none).
    #[wasm_bindgen(js_name = takePlaintext)]
    pub fn take_plaintext(&mut self) -> Vec<u8> {
        self.inner.take_plaintext()
    }

    /// Ciphertext for the socket since the last call (empty when none).
    #[wasm_bindgen(js_name = takeCiphertext)]
    pub fn take_ciphertext(&mut self) -> Vec<u8> {
        self.inner.take_ciphertext()
    }

    /// True until the handshake is done.
    #[wasm_bindgen(getter)]
    pub fn handshaking(&self) -> bool {
        self.inner.is_handshaking()
    }

    /// The server sent close_notify.
    #[wasm_bindgen(getter, js_name = peerClosed)]
    pub fn peer_closed(&self) -> bool {
        self.inner.peer_closed()
    }

    /// Queues close_notify (take it with `takeCiphertext`).
    pub fn close(&mut self) {
        self.inner.close();
    }

    /// What to report when the socket ended: a failure, or `undefined` for an ordinary drop.
    pub fn ended(&self) -> JsValue {
        self.inner
            .ended()
            .map_or(JsValue::UNDEFINED, |error| failure(&error))
    }
}

/// The contract's LinkFailure (`client-wasm/js/index.d.ts`) for a session error.
fn failure(error: &SessionError) -> JsValue {
    let object = Object::new();
    let set = |key: &str, value: JsValue| {
        let _ = Reflect::set(&object, &key.into(), &value);
    };
    match error.kind() {
        Some(kind) => {
            set("kind", "tls".into());
            set("tls", kind.code().into());
        }
        None => set("kind", "dropped".into()),
    }
    set("message", error.to_string().into());
    object.into()
}

fn coded(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    let _ = Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}
