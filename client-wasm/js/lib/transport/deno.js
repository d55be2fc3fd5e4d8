// mqtts:// and mqtt:// over Deno's sockets. SNI is the name given to connectTls/startTls: for
// another name than the URL's host (`servername`), connect in the clear and start TLS on it.
// Deno has no per-connection "skip verification" (rejectUnauthorized: false is refused) and
// takes a client certificate only in connectTls (deno.js sends `cert`/`key` with another
// `servername` through node:tls instead; refused here too, should it arrive).

/* global Deno */
import { linkFailure } from "../failure.js";
import { codedError } from "../url.js";

const READ_SIZE = 16 * 1024;

/** Opens a connection to `target` and reports it to `sink`; returns the contract's EdgeLink. */
export function openDenoSocket(target, options = {}, sink) {
  if (options.rejectUnauthorized === false) {
    throw codedError("invalid_options", "Deno cannot skip certificate verification per connection (rejectUnauthorized: false); run with --unsafely-ignore-certificate-errors instead");
  }
  if (target.tls && options.cert !== undefined && (options.servername ?? target.host) !== target.host) {
    throw codedError("invalid_options", "Deno takes a client certificate only when the URL's host is the TLS name (no other servername)");
  }
  const state = { opened: false, handshaking: target.tls, ended: false };
  let conn;
  let writing = Promise.resolve();
  const finish = (failure) => {
    if (state.ended) return;
    state.ended = true;
    try {
      conn?.close();
    } catch {
      // already closed
    }
    sink.closed(failure);
  };
  (async () => {
    conn = await dial(target, options);
    if (state.ended) return conn.close();
    // Make the handshake (and a refused certificate) happen before the link counts as open.
    if (target.tls) await conn.handshake();
    state.opened = true;
    state.handshaking = false;
    sink.open();
    const buffer = new Uint8Array(READ_SIZE);
    for (;;) {
      const n = await conn.read(buffer);
      if (state.ended) return;
      if (n === null) return finish({ kind: "dropped", message: "the broker closed the connection" });
      sink.bytes(buffer.subarray(0, n));
    }
  })().catch((err) => {
    if (!state.ended) finish(linkFailure(err, state));
  });
  return {
    send(bytes) {
      // Writes may be partial; chain them so they go out whole and in order.
      writing = writing.then(async () => {
        for (let off = 0; off < bytes.length && !state.ended;) off += await conn.write(bytes.subarray(off));
      }).catch((err) => finish(linkFailure(err, state)));
    },
    close() {
      state.ended = true;
      try {
        conn?.close();
      } catch {
        // already closed
      }
    },
  };
}

async function dial(target, options) {
  const { host: hostname, port } = target;
  if (!target.tls) return Deno.connect({ hostname, port });
  const caCerts = options.ca === undefined ? undefined : [options.ca].flat().map(String);
  const servername = options.servername ?? hostname;
  if (servername === hostname) {
    const client = options.cert !== undefined ? { cert: String(options.cert), key: String(options.key) } : {};
    return Deno.connectTls({ hostname, port, caCerts, ...client });
  }
  const plain = await Deno.connect({ hostname, port });
  return Deno.startTls(plain, { hostname: servername, caCerts });
}
