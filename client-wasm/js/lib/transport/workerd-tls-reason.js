// Why workerd refused a server certificate, found out afresh: workerd gives JavaScript only
// "internal error; reference = <id>" for a failed TLS handshake. So, after such a failure, a
// second plain connection sends a TLS 1.2 ClientHello (same SNI) and reads the server's
// Certificate message, which TLS 1.2 sends in the clear; the leaf's names and validity dates
// tell a wrong name or an expired certificate apart, and what is left is an issuer workerd's
// configuration does not trust. Nothing is trusted from this connection: it only names the
// reason of a failure workerd already decided. `undefined` when the server will not say (TLS
// 1.3 only, an alert, no answer within a few seconds).

const DEADLINE_MS = 3_000;
const MAX_BYTES = 64 * 1024;

const u16 = (n) => [(n >> 8) & 0xff, n & 0xff];
const u24 = (n) => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const isIp = (name) => /^\d{1,3}(\.\d{1,3}){3}$/.test(name);

function clientHello(servername) {
  const suites = [0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc009, 0xc013, 0x009c, 0x002f].flatMap(u16);
  const name = [...new TextEncoder().encode(servername)];
  const ext = (type, body) => [...u16(type), ...u16(body.length), ...body];
  const extensions = [
    ...(isIp(servername) ? [] : ext(0x0000, [...u16(name.length + 3), 0, ...u16(name.length), ...name])),
    ...ext(0x000a, [...u16(6), 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]),
    ...ext(0x000b, [1, 0]),
    ...ext(0x000d, [...u16(18), 4, 3, 5, 3, 6, 3, 8, 4, 8, 5, 8, 6, 4, 1, 5, 1, 6, 1]),
  ];
  const random = [...crypto.getRandomValues(new Uint8Array(32))];
  const body = [3, 3, ...random, 0, ...u16(suites.length), ...suites, 1, 0, ...u16(extensions.length), ...extensions];
  const handshake = [1, ...u24(body.length), ...body];
  return Uint8Array.from([0x16, 3, 1, ...u16(handshake.length), ...handshake]);
}

/** Reads handshake messages until ServerHelloDone: { certificate: DER of the leaf, asksClientCert }. */
async function serverFlight(reader) {
  let records = new Uint8Array(0);
  let handshake = [];
  let certificate;
  let asksClientCert = false;
  for (let total = 0; total < MAX_BYTES;) {
    const { value, done } = await reader.read();
    if (done) return undefined;
    total += value.length;
    records = Uint8Array.of(...records, ...value);
    while (records.length >= 5 && records.length >= 5 + ((records[3] << 8) | records[4])) {
      const length = (records[3] << 8) | records[4];
      if (records[0] !== 0x16) return undefined; // an alert, or not TLS
      handshake.push(...records.subarray(5, 5 + length));
      records = records.subarray(5 + length);
    }
    while (handshake.length >= 4 && handshake.length >= 4 + ((handshake[1] << 16) | (handshake[2] << 8) | handshake[3])) {
      const length = (handshake[1] << 16) | (handshake[2] << 8) | handshake[3];
      const [type] = handshake;
      const body = Uint8Array.from(handshake.slice(4, 4 + length));
      handshake = handshake.slice(4 + length);
      if (type === 11 && body.length > 6) {
        const leafLength = (body[3] << 16) | (body[4] << 8) | body[5];
        certificate = body.subarray(6, 6 + leafLength);
      }
      if (type === 13) asksClientCert = true;
      if (type === 14) return certificate && { certificate, asksClientCert };
    }
  }
  return undefined;
}

/** One DER element at `at`: { tag, start (of the content), end }. */
function element(der, at) {
  const tag = der[at];
  let length = der[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i += 1) length = length * 256 + der[start + i];
    start += bytes;
  }
  if (start + length > der.length || tag === undefined) throw new Error("truncated DER");
  return { tag, start, end: start + length };
}

function children(der, parent) {
  const out = [];
  for (let at = parent.start; at < parent.end;) {
    const child = element(der, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

function derTime(der, { tag, start, end }) {
  const text = new TextDecoder().decode(der.subarray(start, end));
  const digits = tag === 0x17 ? (Number(text.slice(0, 2)) < 50 ? "20" : "19") + text : text;
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((i, k) => Number(digits.slice(i, k === 0 ? 4 : i + 2)));
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/** The leaf's DNS and IP names (subjectAltName) and validity. */
function leafFacts(der) {
  const tbs = children(der, element(der, 0))[0];
  const fields = children(der, tbs);
  const offset = fields[0].tag === 0xa0 ? 1 : 0; // [0] version
  const [notBefore, notAfter] = children(der, fields[offset + 3]).map((t) => derTime(der, t));
  const names = [];
  const extensions = fields.find((f) => f.tag === 0xa3);
  if (extensions) {
    for (const extension of children(der, children(der, extensions)[0])) {
      const [oid, ...rest] = children(der, extension);
      const isSan = der.subarray(oid.start, oid.end).join(".") === "85.29.17";
      if (!isSan) continue;
      const octets = rest[rest.length - 1];
      for (const name of children(der, element(der, octets.start))) {
        const bytes = der.subarray(name.start, name.end);
        if (name.tag === 0x82) names.push(new TextDecoder().decode(bytes).toLowerCase());
        if (name.tag === 0x87 && bytes.length === 4) names.push(bytes.join("."));
      }
    }
  }
  return { names, notBefore, notAfter };
}

function nameMatches(pattern, name) {
  if (pattern === name) return true;
  if (!pattern.startsWith("*.")) return false;
  const dot = name.indexOf(".");
  return dot > 0 && name.slice(dot + 1) === pattern.slice(2);
}

/** The contract's `tls` kind for a handshake workerd refused, or undefined. */
export async function diagnoseRefusedCertificate(connectSocket, target, servername, now = Date.now()) {
  let socket;
  let timer;
  try {
    socket = connectSocket({ hostname: target.host, port: target.port }, { secureTransport: "off" });
    const deadline = new Promise((resolve) => (timer = setTimeout(resolve, DEADLINE_MS)));
    const work = (async () => {
      await socket.opened;
      const writer = socket.writable.getWriter();
      await writer.write(clientHello(servername));
      return serverFlight(socket.readable.getReader());
    })();
    const flight = await Promise.race([work, deadline]);
    if (!flight) return undefined;
    // A server asking for a client certificate (workerd has none to give) refused us itself.
    if (flight.asksClientCert) return "handshake_failed";
    const { names, notBefore, notAfter } = leafFacts(flight.certificate);
    const wanted = servername.toLowerCase();
    if (!names.some((pattern) => nameMatches(pattern, wanted))) return "name_mismatch";
    if (now > notAfter) return "expired";
    if (now < notBefore) return "not_yet_valid";
    return "unknown_issuer";
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    socket?.close().catch(() => {});
  }
}
