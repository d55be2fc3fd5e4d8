//! The TypeScript types of the package and the JS functions the API calls.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** Options of `connect`. */
export interface ConnectOptions {
  /** Client identifier; default: "wasm-" and random hex (required with clean: false). Also the IndexedDB key of the stored session. */
  clientId?: string;
  username?: string;
  /** Never written to storage by the client. */
  password?: string | Uint8Array;
  /** Clean session (default true). With false (and a clientId), a QoS 1/2 publish is accepted once its row is committed to IndexedDB (a full storage rejects it with "storage_full"; nothing accepted earlier is lost), survives a page reload, and inbound QoS 2 messages are not delivered twice across one. */
  clean?: boolean;
  /** Keepalive in seconds (default 60; 0 disables). */
  keepalive?: number;
  /** Reconnect backoff (default 500 ms doubling up to 30 s, with jitter); false: never reconnect. */
  reconnect?: false | { initialMs?: number; maxMs?: number };
  /** QoS 1/2 publishes awaiting acknowledgement at once (default 64). */
  maxInflight?: number;
  /** Publishes waiting while offline or for the in-flight window (default 1000); beyond, publish rejects with code "queue_full". */
  maxQueued?: number;
  /** How long to wait for the WebSocket and CONNACK (default 10000). */
  connectTimeoutMs?: number;
  /** With an explicit clientId, the tabs of this origin that connect to the same URL with the same clientId share one connection (default true; see `role`); false: this tab connects alone. */
  share?: boolean;
}

export interface PublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

export interface MqttMessage {
  topic: string;
  /** The bytes exactly as published (decode text with `new TextDecoder().decode(payload)`). */
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
}

/** An `Error` with a stable `code` (e.g. "bad_credentials", "closed", "ended", "queue_full", "invalid_url"). */
export interface MqttError extends Error {
  code: string;
  /** WebSocket close code sent by the bridge, when `code` is "closed". */
  closeCode?: number;
}

export type MqttState =
  | { state: "connecting"; attempt: number }
  | { state: "connected"; sessionPresent: boolean }
  | { state: "reconnecting"; inMs: number; attempt: number; error: MqttError }
  | { state: "closed"; code: string; reason: string; closeCode?: number; error?: MqttError }
  /** Another client uses this client id: the broker dropped 3 connections in a row within 5 s of accepting them. No more reconnects until `takeOver()`; `at` is when (Date.now()). */
  | { state: "elsewhere"; at: number; error: MqttError };
"#;

#[wasm_bindgen]
extern "C" {
    /// The options `connect` takes (see the TypeScript above).
    #[wasm_bindgen(typescript_type = "ConnectOptions")]
    pub type ConnectOptions;
    /// The options `publish` takes: `qos`, `retain`.
    #[wasm_bindgen(typescript_type = "PublishOptions")]
    pub type PublishOptions;
    /// A payload: text (sent as UTF-8) or bytes.
    #[wasm_bindgen(typescript_type = "string | Uint8Array | ArrayBuffer")]
    pub type Payload;
    /// One topic filter or several.
    #[wasm_bindgen(typescript_type = "string | string[]")]
    pub type Filters;
    /// Called with each message that arrives.
    #[wasm_bindgen(typescript_type = "(message: MqttMessage) => void")]
    pub type MessageCallback;
    /// Called with each change of the connection state.
    #[wasm_bindgen(typescript_type = "(state: MqttState) => void")]
    pub type StateCallback;
    /// Settles when the broker acknowledged (or at once for QoS 0).
    #[wasm_bindgen(typescript_type = "Promise<void>")]
    pub type VoidPromise;
    /// Settles with the QoS the broker granted each filter.
    #[wasm_bindgen(typescript_type = "Promise<number[]>")]
    pub type GrantedPromise;
    /// The connection state: `state` plus what that state carries.
    #[wasm_bindgen(typescript_type = "MqttState")]
    pub type State;

    #[wasm_bindgen(js_namespace = console, js_name = error)]
    pub(super) fn console_error(message: &str, error: &JsValue);
    #[wasm_bindgen(js_namespace = Math, js_name = random)]
    pub(super) fn math_random() -> f64;
}
