// mqtt:// and mqtts:// over workerd's `connect()` (cloudflare:sockets), ws:// and wss:// over
// its `fetch` with `Upgrade: websocket`.
//
// What workerd tells a Worker, found by trying (workerd 1.20261123.1):
// - a refused port and, with `secureTransport: "on"`, a refused certificate both reject
//   `opened` with "proxy request failed, cannot connect to the specified address". So TLS always
//   goes in two steps here: `secureTransport: "starttls"` (the plain TCP connection: `opened`
//   says whether anyone answers), then `startTls({ expectedServerHostname })` (SNI and the name
//   verified), whose failure is then a TLS failure.
// - a TLS failure reaches JavaScript only as "internal error; reference = <id>": the reason
//   (rustls' "invalid peer certificate: UnknownIssuer", "certificate not valid for name ...")
//   is in workerd's own log, under that reference. workerd-tls-reason.js reads the reason from
//   the certificate the server presents (name, dates; else the issuer); `bad_certificate` when
//   the server does not show it.
// - `startTls` on a socket whose TCP connect failed never settles: wait for `opened` first.
// - `new WebSocket(url, "mqtt")` works too, but a refused port and a refused upgrade both end
//   in close 1006 "Failed to establish websocket connection"; `fetch` tells them apart (it throws
//   "Network connection lost." for the first, answers with the HTTP status for the second).

import { connect as connectSocket } from "cloudflare:sockets";
import { codedError } from "../url.js";
import { diagnoseRefusedCertificate } from "./workerd-tls-reason.js";

const message = (err) => String(err?.message ?? err);

/** The connect options workerd cannot honour: refused at `connect`, before any dialling. */
export function checkWorkerdOptions(options = {}) {
  if (options.cert !== undefined || options.key !== undefined) {
    throw codedError("invalid_options", "workerd's sockets take no client certificate (cert/key); use a bridge route with the certificate, or Node, Deno or Bun");
  }
  if (options.rejectUnauthorized === false) {
    throw codedError("invalid_options", "workerd always verifies the server certificate (rejectUnauthorized: false is not possible)");
  }
  // `ca` is not refused: workerd trusts what its configuration lists (the network service's
  // tlsOptions.trustedCertificates); a per-connection CA is ignored (see docs/edge-workerd.md).
  if (options.ca !== undefined && !warnedAboutCa) {
    warnedAboutCa = true;
    console.warn("client-wasm: workerd ignores the `ca` option; it trusts the CAs of its configuration (tlsOptions.trustedCertificates) or, on Cloudflare, the public roots");
  }
}

let warnedAboutCa = false;

/** Opens a TCP (mqtt://) or TLS (mqtts://) connection to `target`; returns the EdgeLink. */
export function openWorkerdSocket(target, options = {}, sink) {
  const state = { ended: false, opened: false };
  let socket;
  let writer;
  let writing = Promise.resolve();
  const finish = (failure) => {
    if (state.ended) return;
    state.ended = true;
    socket?.close().catch(() => {});
    sink.closed(failure);
  };
  (async () => {
    const plain = connectSocket(
      { hostname: target.host, port: target.port },
      { secureTransport: target.tls ? "starttls" : "off", allowHalfOpen: false },
    );
    socket = plain;
    try {
      await plain.opened;
    } catch (err) {
      return finish({ kind: "unreachable", message: message(err) });
    }
    if (state.ended) return;
    if (target.tls) {
      socket = plain.startTls({ expectedServerHostname: options.servername ?? target.host });
      try {
        await socket.opened;
      } catch (err) {
        const name = options.servername ?? target.host;
        const reason = state.ended ? undefined : await diagnoseRefusedCertificate(connectSocket, target, name);
        return finish({
          kind: "tls",
          tls: reason ?? "bad_certificate",
          message: `TLS with ${name} failed: ${message(err)} (${reason ? `${reason}, read from the certificate the server presents` : "no reason"}; workerd's log names it)`,
        });
      }
    }
    if (state.ended) return socket.close().catch(() => {});
    writer = socket.writable.getWriter();
    state.opened = true;
    sink.open();
    const reader = socket.readable.getReader();
    for (let received = 0; ; ) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (state.ended) return;
        // TLS 1.3: a refused client certificate (workerd sends none) arrives as an alert after
        // the handshake, so the first read fails, with "internal error" again. Ask the server.
        const refused = target.tls && received === 0 && (await diagnoseRefusedCertificate(connectSocket, target, options.servername ?? target.host)) === "handshake_failed";
        if (refused) return finish({ kind: "tls", tls: "handshake_failed", message: `the broker requires a client certificate, which workerd cannot send: ${message(err)}` });
        return finish({ kind: "dropped", message: message(err) });
      }
      if (state.ended) return;
      if (chunk.done) return finish({ kind: "dropped", message: "the broker closed the connection" });
      received += chunk.value.length;
      sink.bytes(chunk.value);
    }
  })().catch((err) => finish({ kind: state.opened ? "dropped" : "unreachable", message: message(err) }));
  return {
    send(bytes) {
      const copy = Uint8Array.prototype.slice.call(bytes);
      // One writer, one chain: writes go out whole and in order.
      writing = writing.then(() => (state.ended ? undefined : writer.write(copy))).catch((err) => finish({ kind: "dropped", message: message(err) }));
    },
    close() {
      state.ended = true;
      socket?.close().catch(() => {});
    },
  };
}

/** Opens `href` (ws:// or wss://, subprotocol "mqtt") through `fetch`; returns the EdgeLink. */
export function openWorkerdWebSocket(href, sink) {
  const state = { ended: false, opened: false };
  let ws;
  const finish = (failure) => {
    if (state.ended) return;
    state.ended = true;
    try {
      ws?.close(1000);
    } catch {
      // already closed
    }
    sink.closed(failure);
  };
  (async () => {
    let response;
    try {
      response = await fetch(href.replace(/^ws/, "http"), { headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": "mqtt" } });
    } catch (err) {
      const text = message(err);
      if (!href.startsWith("wss:") || !/certificate|tls|internal error/i.test(text)) return finish({ kind: "unreachable", message: text });
      // As for mqtts://: workerd names no reason; read it from the server's certificate.
      const url = new URL(href);
      const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
      const reason = state.ended ? undefined : await diagnoseRefusedCertificate(connectSocket, { host, port: Number(url.port || 443) }, host);
      return finish({ kind: "tls", tls: reason ?? "bad_certificate", message: `TLS with ${host} failed: ${text}${reason ? ` (${reason}, read from the certificate the server presents)` : ""}` });
    }
    if (response.status !== 101 || !response.webSocket) {
      return finish({ kind: "handshake_refused", message: `the WebSocket upgrade was refused (HTTP ${response.status})` });
    }
    if (state.ended) return response.webSocket.close(1000);
    ws = response.webSocket;
    ws.accept();
    ws.binaryType = "arraybuffer";
    ws.addEventListener("message", (event) => {
      if (state.ended) return;
      if (typeof event.data === "string") {
        ws.close(1003, "text frames are not MQTT");
        return finish({ kind: "closed", code: 1003, reason: "text frames are not MQTT", message: "the bridge sent a text frame" });
      }
      sink.bytes(new Uint8Array(event.data));
    });
    ws.addEventListener("close", (event) => {
      const code = event.code ?? 1006;
      if (code === 1005 || code === 1006) finish({ kind: "dropped", message: `WebSocket dropped (close ${code}, no close frame)` });
      else finish({ kind: "closed", code, reason: String(event.reason ?? ""), message: `WebSocket closed (${code} ${event.reason ?? ""})` });
    });
    ws.addEventListener("error", (event) => finish({ kind: "dropped", message: message(event?.error ?? event?.message ?? "WebSocket error") }));
    state.opened = true;
    sink.open();
  })().catch((err) => finish({ kind: state.opened ? "dropped" : "unreachable", message: message(err) }));
  return {
    send(bytes) {
      if (!state.ended && ws) ws.send(Uint8Array.prototype.slice.call(bytes));
    },
    close() {
      state.ended = true;
      try {
        ws?.close(1000);
      } catch {
        // already closed
      }
    },
  };
}
