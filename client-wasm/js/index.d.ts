// Types of the package "client-wasm", the same for every runtime's entry (browser, Node, Deno,
// Bun, workerd) and for `client-wasm/tls` (TLS inside the package). The browser entry also
// exports `init` (see below).

/** TLS options (names as MQTT.js's). Node and Bun: all of them; Deno: `ca`, `servername`,
 *  `cert`/`key`, no `rejectUnauthorized: false`; workerd:
 *  `servername` only (a custom CA goes in the runtime's config); browsers: none. */
export interface TlsOptions {
  /** PEM text of the CA certificate(s) to trust instead of the system's. */
  ca?: string | string[];
  /** The name sent as SNI and verified on the certificate (default: the URL's host). */
  servername?: string;
  /** PEM client certificate for mutual TLS (with `key`). */
  cert?: string;
  /** PEM private key of `cert`. */
  key?: string;
  /** false: accept any certificate (Node and Bun, and `client-wasm/tls` everywhere; never in production). */
  rejectUnauthorized?: boolean;
  /** `client-wasm/tls` only: "package" (the default there) runs TLS inside the package (rustls in
   *  the wasm over the runtime's plain socket: `ca` replaces the web roots, `cert`/`key`,
   *  `servername` and `rejectUnauthorized` in every runtime, workerd included); "runtime" uses
   *  the runtime's own TLS as the default entry does. */
  tls?: "package" | "runtime";
}

/** Where a `clean: false` session is kept (the default at the edge: in memory only). */
export interface SessionStore {
  /** The record stored under `key` (the clientId), or null. */
  load(key: string): Promise<string | null>;
  /** Replaces the record (null: deletes it); resolves once it is durable. Rejects with an Error
   *  named "QuotaExceededError" when full (publish then fails with code "storage_full"). */
  save(key: string, text: string | null): Promise<void>;
}

/** Options of `connect`. */
export interface ConnectOptions extends TlsOptions {
  /** Client identifier; default: "wasm-" and random hex (required with clean: false). Also the store's key. */
  clientId?: string;
  username?: string;
  /** Never written to storage by the client. */
  password?: string | Uint8Array;
  /** Clean session (default true). With false (and a clientId), a QoS 1/2 publish is accepted once the store committed it; in the browser IndexedDB, at the edge `store` (memory when absent). */
  clean?: boolean;
  /** Keepalive in seconds (default 60; 0 disables). */
  keepalive?: number;
  /** Reconnect backoff (default 500 ms doubling up to 30 s, with jitter); false: never reconnect. */
  reconnect?: false | { initialMs?: number; maxMs?: number };
  /** QoS 1/2 publishes awaiting acknowledgement at once (default 64). */
  maxInflight?: number;
  /** Publishes waiting while offline or for the in-flight window (default 1000); beyond, publish rejects with code "queue_full". */
  maxQueued?: number;
  /** How long to wait for the connection and CONNACK (default 10000). */
  connectTimeoutMs?: number;
  /** Browser only: share one connection between the tabs using the same URL and clientId (default true). */
  share?: boolean;
  /** Edge only: where a clean: false session is kept (`fileStore(dir)`, `memoryStore()`, `durableObjectStore(ctx.storage)` in workerd, or your own). */
  store?: SessionStore;
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

/** Which check refused the server's certificate, or the handshake alert. */
export type TlsFailure =
  | "unknown_issuer" | "name_mismatch" | "expired" | "not_yet_valid" | "revoked"
  | "bad_certificate" | "handshake_failed"
  /** The server refused the client certificate presented (or wanted one): an alert such as
   *  certificate_required, unknown_ca or bad_certificate. */
  | "client_cert_refused";

/** An `Error` with a stable `code` (e.g. "bad_credentials", "closed", "ended", "queue_full",
 *  "storage_full", "invalid_url", "transport", "tls"). */
export interface MqttError extends Error {
  code: string;
  /** WebSocket close code sent by the bridge, when `code` is "closed". */
  closeCode?: number;
  /** When `code` is "tls": which check failed. */
  tls?: TlsFailure;
}

export type MqttState =
  | { state: "connecting"; attempt: number }
  | { state: "connected"; sessionPresent: boolean }
  | { state: "reconnecting"; inMs: number; attempt: number; error: MqttError }
  | { state: "closed"; code: string; reason: string; closeCode?: number; error?: MqttError }
  /** Another client uses this client id; no more reconnects until `takeOver()`. */
  | { state: "elsewhere"; at: number; error: MqttError };

export declare class MqttClient {
  private constructor();
  /** Subscribes to one filter or several; resolves with the granted QoS per filter. */
  subscribe(filter: string | string[], qos?: 0 | 1 | 2): Promise<number[]>;
  /** Unsubscribes; resolves on UNSUBACK. */
  unsubscribe(filter: string | string[]): Promise<void>;
  /** Resolves on PUBACK (QoS 1), PUBCOMP (QoS 2) or once handed to the transport (QoS 0). */
  publish(topic: string, payload: string | Uint8Array | ArrayBuffer, options?: PublishOptions): Promise<void>;
  onMessage(callback: (message: MqttMessage) => void): void;
  /** Called with every state change, and at once with the current state. */
  onState(callback: (state: MqttState) => void): void;
  readonly state: MqttState;
  /** "leader", "follower" (browser tabs sharing a connection) or "solo" (always at the edge). */
  readonly role: string;
  readonly connected: boolean;
  /** Publishes not yet acknowledged (in flight or queued). */
  readonly pendingCount: number;
  /** Browser: whether the timer runs in a Worker; false at the edge. */
  readonly timerInWorker: boolean;
  /** After "elsewhere": connect again, taking the client id back. */
  takeOver(): void;
  /** DISCONNECT, close, stop reconnecting; pending promises reject with code "ended". */
  end(): void;
}

/** Opens `url` and connects: mqtts:// (direct TLS, default port 8883) and mqtt:// (1883) at the
 *  edge; ws:// and wss:// (subprotocol "mqtt", through a bridge) everywhere. Throws an Error
 *  with code "invalid_url" or "invalid_options". */
export declare function connect(url: string, options?: ConnectOptions): MqttClient;

/** Edge (Node, Deno, Bun): a SessionStore with one file per clientId in `dir`, fsynced. */
export declare function fileStore(dir: string | URL): SessionStore;
/** Edge: a SessionStore in memory (survives reconnections, not the process). */
export declare function memoryStore(): SessionStore;
/** workerd: a SessionStore on a Durable Object's storage (`ctx.storage`), one key per clientId
 *  under `prefix` (default "client-wasm/session/"); a save resolves once `storage.sync()` did. */
export declare function durableObjectStore(
  storage: { get(key: string): Promise<unknown>; put(key: string, value: string): Promise<void>; delete(key: string): Promise<boolean>; sync?(): Promise<void> },
  options?: { prefix?: string },
): SessionStore;

/** Browser entry: initialises the wasm (already done at import; a second call does nothing). Edge entries: does nothing (the wasm is initialised at import). */
export declare function init(module_or_path?: { module_or_path: RequestInfo | URL | Response | BufferSource | WebAssembly.Module }): Promise<unknown>;
