// The package in workerd (Cloudflare Workers): bundle it with wrangler or esbuild, which keep
// the wasm a module of its own (`WebAssembly.instantiate(bytes)` is refused in workerd), and
// initialise it at import (no init call). mqtt(s):// over cloudflare:sockets, ws(s):// over
// fetch. A custom CA comes only from workerd's configuration; no client certificates (see
// docs/edge-workerd.md).

import * as wasm from "./edge/client_wasm.js";
import wasmModule from "./edge/client_wasm_bg.wasm";
import { edgeAdapter } from "./lib/adapter.js";
import { checkWorkerdOptions, openWorkerdSocket, openWorkerdWebSocket } from "./lib/transport/workerd.js";

export { durableObjectStore } from "./lib/store/durable-object.js";
export { memoryStore } from "./lib/store/memory.js";
export const { MqttClient } = wasm;

wasm.initSync({ module: wasmModule });

const runtime = {
  socket: openWorkerdSocket,
  // fetch-based WebSockets need no class: the adapter passes it through untouched.
  webSocket: () => null,
  openWebSocket: (_none, href, _options, sink) => openWorkerdWebSocket(href, sink),
};

/** Connects to `url` (mqtt://, mqtts://, ws://, wss://); see index.d.ts. */
export function connect(url, options) {
  checkWorkerdOptions(options ?? {});
  return wasm.connect(url, options, edgeAdapter(options, runtime));
}
