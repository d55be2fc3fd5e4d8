// What every server-side entry (node.js, bun.js, deno.js) does once the edge wasm is
// initialised: `connect(url, options)` with that runtime's transports.

import { edgeAdapter } from "./adapter.js";
import { openWebSocket } from "./transport/websocket.js";

/**
 * The public `connect` for a runtime.
 * @param wasm       the initialised edge glue module (its `connect(url, options, adapter)`)
 * @param socket     (target, options, sink) -> EdgeLink for mqtt:// and mqtts://
 * @param webSocket  () -> a WebSocket class, or a Promise of one
 */
export function connectFor(wasm, socket, webSocket) {
  const runtime = { socket, webSocket, openWebSocket };
  return function connect(url, options) {
    return wasm.connect(url, options, edgeAdapter(options, runtime));
  };
}
