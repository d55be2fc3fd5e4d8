// `client-wasm/tls` in Bun: the edge-tls wasm read from disk at import, mqtts:// with the
// package's own TLS over Bun's node:net; `tls: "runtime"` uses Bun's node:tls. ws(s):// over
// Bun's global WebSocket.

import { readFileSync } from "node:fs";

import * as wasm from "./edge-tls/client_wasm.js";
import { connectFor } from "./lib/entry.js";
import { openNodeSocket } from "./lib/transport/node-tls.js";
import { packageTls } from "./lib/transport/package-tls.js";

export { fileStore } from "./lib/store/file.js";
export { memoryStore } from "./lib/store/memory.js";
export const { MqttClient } = wasm;

wasm.initSync({ module: readFileSync(new URL("./edge-tls/client_wasm_bg.wasm", import.meta.url)) });

/** Nothing to do: the wasm was initialised at import. */
export async function init() {}

/** Connects to `url` (mqtt://, mqtts://, ws://, wss://); see index.d.ts. */
export const connect = connectFor(wasm, packageTls(wasm, openNodeSocket), () => globalThis.WebSocket);
