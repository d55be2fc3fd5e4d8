// The package in Node: the edge wasm read from disk at import (no init call), mqtt(s):// over
// node:net / node:tls, ws(s):// over the `ws` package (optional peer dependency; Node 20 has no
// global WebSocket) or, without it, the global WebSocket of Node 22 and later.

import { readFileSync } from "node:fs";

import * as wasm from "./edge/client_wasm.js";
import { connectFor } from "./lib/entry.js";
import { openNodeSocket } from "./lib/transport/node-tls.js";
import { codedError } from "./lib/url.js";

export { fileStore } from "./lib/store/file.js";
export { memoryStore } from "./lib/store/memory.js";
export const { MqttClient } = wasm;

wasm.initSync({ module: readFileSync(new URL("./edge/client_wasm_bg.wasm", import.meta.url)) });

let webSocketClass;
function webSocket() {
  webSocketClass ??= import("ws").then(
    (ws) => ws.WebSocket ?? ws.default,
    (err) => {
      if (globalThis.WebSocket) return globalThis.WebSocket;
      throw codedError("invalid_url", `ws:// and wss:// in Node ${process.versions.node} need the "ws" package (npm install ws): ${err.message}`);
    },
  );
  return webSocketClass;
}

/** Nothing to do: the wasm was initialised at import. Kept so that code written for the
 *  browser entry (`await init()`) runs here unchanged. */
export async function init() {}

/** Connects to `url` (mqtt://, mqtts://, ws://, wss://); see index.d.ts. */
export const connect = connectFor(wasm, openNodeSocket, webSocket);
