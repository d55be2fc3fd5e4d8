// Where a broker URL points: scheme, host, port (the scheme's default when absent) and, for
// WebSockets, the whole URL. Runtime-neutral (WHATWG URL only).

/** Default port per scheme. */
export const DEFAULT_PORTS = Object.freeze({ mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 });

/** An Error with a stable `code` (the same shape the wasm throws). */
export function codedError(code, message, extra) {
  const error = new Error(message);
  error.code = code;
  return Object.assign(error, extra);
}

/**
 * Parses `url` ("mqtt://", "mqtts://", "ws://", "wss://").
 * @returns {{ scheme: "mqtt"|"mqtts"|"ws"|"wss", host: string, port: number, tls: boolean, href: string }}
 * @throws an Error with code "invalid_url"
 */
export function parseBrokerUrl(url) {
  let parsed;
  try {
    parsed = new URL(String(url));
  } catch {
    throw codedError("invalid_url", `not a URL: ${url}`);
  }
  const scheme = parsed.protocol.replace(/:$/, "");
  if (!(scheme in DEFAULT_PORTS)) {
    throw codedError("invalid_url", `unsupported scheme "${scheme}:" in ${url} (use mqtt, mqtts, ws or wss)`);
  }
  // IPv6 literals keep their brackets in `hostname`; sockets want them bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw codedError("invalid_url", `no host in ${url}`);
  const port = parsed.port === "" ? DEFAULT_PORTS[scheme] : Number(parsed.port);
  return { scheme, host, port, tls: scheme === "mqtts" || scheme === "wss", href: parsed.href };
}

/** True when `host` is an IPv4 or IPv6 literal (TLS sends no SNI for those). */
export function isIpLiteral(host) {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}
