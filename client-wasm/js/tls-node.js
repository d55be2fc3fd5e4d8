// `client-wasm/tls` in Node: the edge-tls wasm (rustls inside) read from disk at import, and
// mqtts:// with the package's own TLS over node:net (lib/transport/package-tls.js); `tls:
// "runtime"` uses node:tls instead. mqtt:// over node:net, ws(s):// over the `ws` package or the
// global WebSocket.

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
export const connect = connectFor(wasm, packageTls(wasm, openNodeSocket), () =>
  import("ws").then((ws) => ws.WebSocket ?? ws.default, () => globalThis.WebSocket),
);
