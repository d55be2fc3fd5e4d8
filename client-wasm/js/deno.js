// The package in Deno (run with --allow-net, --allow-read and, for fileStore, --allow-write):
// the edge wasm read with Deno.readFileSync at import (no init call), mqtt(s):// over
// Deno.connect / Deno.connectTls / Deno.startTls (node:tls for a client certificate with another
// TLS name), ws(s):// over Deno's global WebSocket.

/* global Deno */
import * as wasm from "./edge/client_wasm.js";
import { connectFor } from "./lib/entry.js";
import { openDenoSocket } from "./lib/transport/deno.js";
import { openNodeSocket } from "./lib/transport/node-tls.js";

export { fileStore } from "./lib/store/file.js";
export { memoryStore } from "./lib/store/memory.js";
export const { MqttClient } = wasm;

wasm.initSync({ module: Deno.readFileSync(new URL("./edge/client_wasm_bg.wasm", import.meta.url)) });

/** Nothing to do: the wasm was initialised at import. Kept so that code written for the
 *  browser entry (`await init()`) runs here unchanged. */
export async function init() {}

/** Connects to `url` (mqtt://, mqtts://, ws://, wss://); see index.d.ts. */
export const connect = connectFor(wasm, socket, () => globalThis.WebSocket);

/** Deno's own sockets, but for a client certificate with another TLS name than the URL's host:
 *  Deno.startTls takes no certificate, so that case goes through Deno's node:tls. */
function socket(target, options, sink) {
  const otherName = (options.servername ?? target.host) !== target.host;
  return target.tls && options.cert !== undefined && otherName
    ? openNodeSocket(target, options, sink)
    : openDenoSocket(target, options, sink);
}
