// `client-wasm/tls` in workerd (Cloudflare Workers): the edge-tls wasm as a module the bundler
// keeps (`./edge-tls/client_wasm_bg.wasm`), mqtts:// with the package's own TLS over
// cloudflare:sockets' plain socket (secureTransport "off"): a per-connection `ca`, a client
// certificate (`cert`/`key`), `servername` and `rejectUnauthorized`, none of which workerd's
// own TLS takes. `tls: "runtime"` uses workerd's TLS (startTls) as the default entry does.

import * as wasm from "./edge-tls/client_wasm.js";
import wasmModule from "./edge-tls/client_wasm_bg.wasm";
import { edgeAdapter } from "./lib/adapter.js";
import { packageTls } from "./lib/transport/package-tls.js";
import { checkWorkerdOptions, openWorkerdSocket, openWorkerdWebSocket } from "./lib/transport/workerd.js";

export { durableObjectStore } from "./lib/store/durable-object.js";
export { memoryStore } from "./lib/store/memory.js";
export const { MqttClient } = wasm;

wasm.initSync({ module: wasmModule });

const runtime = {
  socket: packageTls(wasm, openWorkerdSocket),
  webSocket: () => null,
  openWebSocket: (_none, href, _options, sink) => openWorkerdWebSocket(href, sink),
};

/** Connects to `url` (mqtt://, mqtts://, ws://, wss://); see index.d.ts. */
export function connect(url, options) {
  if (options?.tls === "runtime") checkWorkerdOptions(options);
  return wasm.connect(url, options, edgeAdapter(options, runtime));
}
