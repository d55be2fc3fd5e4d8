// The package in Bun: the edge wasm read from disk at import (no init call), mqtt(s):// over
// Bun's node:net / node:tls (the same code as Node's), ws(s):// over Bun's global WebSocket.

import { readFileSync } from "node:fs";

import * as wasm from "./edge/client_wasm.js";
import { connectFor } from "./lib/entry.js";
import { openNodeSocket } from "./lib/transport/node-tls.js";

export { fileStore } from "./lib/store/file.js";
export { memoryStore } from "./lib/store/memory.js";
export const { MqttClient } = wasm;

wasm.initSync({ module: readFileSync(new URL("./edge/client_wasm_bg.wasm", import.meta.url)) });

/** Nothing to do: the wasm was initialised at import. Kept so that code written for the
 *  browser entry (`await init()`) runs here unchanged. */
export async function init() {}

/** Connects to `url` (mqtt://, mqtts://, ws://, wss://); see index.d.ts. */
export const connect = connectFor(wasm, openNodeSocket, () => globalThis.WebSocket);
