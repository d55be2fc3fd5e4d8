// The contract's EdgeAdapter for one `connect`: picks the transport by the URL's scheme on every
// (re)connection attempt, and hands the session store (options.store) to the wasm.

import { parseBrokerUrl } from "./url.js";

/**
 * @param options   the user's connect options (TLS names as MQTT.js's, `store`)
 * @param runtime   { socket(target, options, sink) -> EdgeLink, webSocket() -> WebSocket class
 *                  or a Promise of one }
 */
export function edgeAdapter(options, runtime) {
  const adapter = {
    open(url, sink) {
      const target = parseBrokerUrl(url);
      if (target.scheme === "mqtt" || target.scheme === "mqtts") {
        return runtime.socket(target, options ?? {}, sink);
      }
      return openLater(runtime.webSocket(), (WebSocketClass) => runtime.openWebSocket(WebSocketClass, target.href, options ?? {}, sink), sink);
    },
  };
  if (options?.store) adapter.store = options.store;
  return adapter;
}

/** A link whose socket comes from a promise (Node 20 loads the `ws` package on first use). */
function openLater(classOrPromise, open, sink) {
  if (typeof classOrPromise?.then !== "function") return open(classOrPromise);
  let link;
  let closed = false;
  classOrPromise.then(
    (WebSocketClass) => {
      if (!closed) link = open(WebSocketClass);
    },
    (err) => {
      if (!closed) sink.closed({ kind: "setup", message: String(err?.message ?? err) });
    },
  );
  return {
    send(bytes) {
      link?.send(bytes);
    },
    close() {
      closed = true;
      link?.close();
    },
  };
}
