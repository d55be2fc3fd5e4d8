// mqtts:// with TLS inside the package (the `client-wasm/tls` entries): rustls in the wasm
// (`TlsSession`, sans-IO) over the runtime's plain TCP socket (node:net, Deno.connect, Bun's
// node:net, cloudflare:sockets with secureTransport "off"). The runtime's TLS is not used, so
// `ca`, `servername`, `cert`/`key` and `rejectUnauthorized` work the same in every runtime,
// workerd included. Records go in and out as bytes: the plain link's bytes are fed to the
// session, its ciphertext written back; the MQTT session sees the plaintext only.

/** PEM text of an option given as a string, bytes or an array of either (as node:tls takes). */
function pemText(value) {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(pemText).join("\n");
  if (typeof value === "string") return value;
  return new TextDecoder().decode(value);
}

/**
 * The socket function of a `client-wasm/tls` entry.
 * @param wasm     the initialised edge-tls glue (its `TlsSession` class)
 * @param plain    (target, options, sink) -> EdgeLink: the runtime's socket (plain when
 *                 `target.tls` is false; with `tls: "runtime"` it is also used for mqtts://)
 */
export function packageTls(wasm, plain) {
  return function open(target, options, sink) {
    if (!target.tls || options.tls === "runtime") return plain(target, options, sink);
    let session;
    try {
      session = new wasm.TlsSession(options.servername ?? target.host, pemText(options.ca), pemText(options.cert), pemText(options.key), options.rejectUnauthorized !== false);
    } catch (err) {
      queueMicrotask(() => sink.closed({ kind: "setup", message: String(err?.message ?? err) }));
      return { send() {}, close() {} };
    }
    const state = { tcp: false, opened: false, ended: false };
    let link;
    const flush = () => {
      const out = session.takeCiphertext();
      if (out.length > 0 && link) link.send(out);
    };
    const finish = (failure) => {
      if (state.ended) return;
      state.ended = true;
      link?.close();
      session.free();
      sink.closed(failure);
    };
    // The plain socket takes no TLS option (Deno's would refuse rejectUnauthorized: false).
    link = plain({ ...target, tls: false }, {}, {
      open() {
        state.tcp = true;
        flush(); // the ClientHello
      },
      bytes(chunk) {
        if (state.ended) return;
        const failure = session.receive(chunk);
        flush(); // the next handshake flight, or an alert
        if (failure) return finish(failure);
        if (!state.opened && !session.handshaking) {
          state.opened = true;
          sink.open(); // the MQTT session may write (CONNECT) or close from here
          if (state.ended) return;
        }
        const plaintext = session.takePlaintext();
        if (plaintext.length > 0) sink.bytes(plaintext);
        if (state.ended) return;
        if (session.peerClosed) finish({ kind: "dropped", message: "the broker ended the TLS session" });
      },
      closed(failure) {
        if (state.ended) return;
        finish((state.tcp && session.ended()) || failure);
      },
    });
    return {
      send(bytes) {
        if (state.ended) return;
        const failure = session.write(bytes);
        flush();
        if (failure) finish(failure);
      },
      close() {
        if (state.ended) return;
        state.ended = true;
        session.close();
        flush();
        link.close();
        session.free();
      },
    };
  };
}
