// ws:// and wss:// over a WHATWG WebSocket (global in Deno, Bun, Node 22+; the `ws` package on
// Node 20), subprotocol "mqtt", binary frames as ArrayBuffers.

/** Opens `url` with the WebSocket class `WebSocketClass`; returns the contract's EdgeLink. */
export function openWebSocket(WebSocketClass, url, options, sink) {
  const socket = new WebSocketClass(url, ["mqtt"], webSocketOptions(WebSocketClass, options));
  socket.binaryType = "arraybuffer";
  const state = { opened: false, ended: false };
  let refusal;
  socket.onopen = () => {
    state.opened = true;
    sink.open();
  };
  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      // MQTT over WebSockets is binary only (the browser adapter closes with 1003 too).
      socket.close(1003, "text frames are not MQTT");
      return;
    }
    sink.bytes(new Uint8Array(event.data));
  };
  // `ws` reports the HTTP status of a refused upgrade; keep it for the failure's message.
  if (typeof socket.on === "function") {
    socket.on("unexpected-response", (_request, response) => {
      refusal = `the bridge refused the WebSocket upgrade (HTTP ${response.statusCode})`;
      socket.terminate?.();
    });
  }
  let errorText;
  socket.onerror = (event) => {
    errorText ??= String(event?.message ?? event?.error?.message ?? "WebSocket error");
  };
  socket.onclose = (event) => {
    if (state.ended) return;
    state.ended = true;
    sink.closed(closeFailure(event, state.opened, refusal ?? errorText));
  };
  return {
    send(bytes) {
      if (!state.ended && socket.readyState === 1) socket.send(bytes);
    },
    close() {
      state.ended = true;
      try {
        socket.close(1000);
      } catch {
        socket.terminate?.();
      }
    },
  };
}

function webSocketOptions(WebSocketClass, options = {}) {
  // Only the `ws` package takes a third argument (TLS options for wss:// to a private CA).
  if (typeof WebSocketClass.prototype?.terminate !== "function") return undefined;
  const picked = {};
  for (const key of ["ca", "cert", "key", "servername", "rejectUnauthorized", "headers"]) {
    if (options[key] !== undefined) picked[key] = options[key];
  }
  return picked;
}

/** A CloseEvent as the contract's LinkFailure. */
function closeFailure(event, opened, text) {
  const code = event?.code ?? 1006;
  if (code !== 1005 && code !== 1006 && code !== 0) {
    return { kind: "closed", code, reason: String(event.reason ?? ""), message: `WebSocket closed (${code} ${event.reason ?? ""})` };
  }
  if (opened) return { kind: "dropped", message: text ?? `WebSocket dropped (close ${code}, no close frame)` };
  if (text && /refused|ECONNREFUSED|ENOTFOUND|unreachable|not known|Failed to connect|Unable to connect/i.test(text)) {
    return { kind: "unreachable", message: text };
  }
  return { kind: "handshake_refused", message: text ?? "the WebSocket upgrade failed" };
}
