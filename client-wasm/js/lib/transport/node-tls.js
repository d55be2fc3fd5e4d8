// mqtts:// over node:tls and mqtt:// over node:net (Node, and Bun's node: modules). TLS options
// are MQTT.js's names: `ca`, `servername`, `cert`, `key`, `rejectUnauthorized`.

import net from "node:net";
import tls from "node:tls";

import { linkFailure } from "../failure.js";
import { isIpLiteral } from "../url.js";

/** The node:tls options for `target` (a parsed broker URL) and the user's connect options. */
export function tlsOptions(target, options = {}) {
  const servername = options.servername ?? (isIpLiteral(target.host) ? undefined : target.host);
  const picked = { host: target.host, port: target.port, servername };
  for (const key of ["ca", "cert", "key", "passphrase", "rejectUnauthorized", "ciphers", "minVersion"]) {
    if (options[key] !== undefined) picked[key] = options[key];
  }
  return picked;
}

/** Opens a socket to `target` and reports it to `sink`; returns the contract's EdgeLink. */
export function openNodeSocket(target, options, sink) {
  const state = { opened: false, handshaking: target.tls, ended: false };
  const socket = target.tls
    ? tls.connect(tlsOptions(target, options))
    : net.connect({ host: target.host, port: target.port });
  socket.setNoDelay?.(true);
  socket.once(target.tls ? "secureConnect" : "connect", () => {
    state.opened = true;
    state.handshaking = false;
    sink.open();
  });
  socket.on("data", (chunk) => {
    sink.bytes(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  });
  let failure;
  socket.on("error", (err) => {
    failure ??= linkFailure(err, state);
  });
  socket.on("close", () => {
    if (state.ended) return;
    state.ended = true;
    sink.closed(failure ?? (state.opened
      ? { kind: "dropped", message: "the broker closed the connection" }
      : { kind: "dropped", message: "the connection closed before it was up" }));
  });
  return {
    send(bytes) {
      // `bytes` is a fresh array the wasm keeps no reference to: no copy needed.
      if (!state.ended) socket.write(bytes);
    },
    close() {
      state.ended = true;
      socket.destroy();
    },
  };
}
