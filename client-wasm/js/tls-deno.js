// `client-wasm/tls` in Deno: the edge-tls wasm read at import, mqtts:// with the package's own
// TLS over Deno.connect (so a client certificate goes with any servername, and
// rejectUnauthorized: false works); `tls: "runtime"` uses Deno's TLS. ws(s):// over Deno's
// global WebSocket.

/* global Deno */
import * as wasm from "./edge-tls/client_wasm.js";
import { connectFor } from "./lib/entry.js";
import { openDenoSocket } from "./lib/transport/deno.js";
import { packageTls } from "./lib/transport/package-tls.js";

export { fileStore } from "./lib/store/file.js";
export { memoryStore } from "./lib/store/memory.js";
export const { MqttClient } = wasm;

wasm.initSync({ module: Deno.readFileSync(new URL("./edge-tls/client_wasm_bg.wasm", import.meta.url)) });

/** Nothing to do: the wasm was initialised at import. */
export async function init() {}

/** Connects to `url` (mqtt://, mqtts://, ws://, wss://); see index.d.ts. */
export const connect = connectFor(wasm, packageTls(wasm, openDenoSocket), () => globalThis.WebSocket);
