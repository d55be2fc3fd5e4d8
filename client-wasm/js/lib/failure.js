// A runtime's socket or TLS error as the contract's LinkFailure ({ kind, message, tls? }).
// Node and Bun report OpenSSL/BoringSSL verification codes in `err.code`; Deno (rustls) only
// names the reason in the message (e.g. "invalid peer certificate: UnknownIssuer").

/** Node's (and Bun's) `err.code` for a refused server certificate -> the contract's `tls` kind. */
const NODE_TLS_CODES = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unknown_issuer",
  SELF_SIGNED_CERT_IN_CHAIN: "unknown_issuer",
  DEPTH_ZERO_SELF_SIGNED_CERT: "unknown_issuer",
  UNABLE_TO_GET_ISSUER_CERT: "unknown_issuer",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unknown_issuer",
  CERT_SIGNATURE_FAILURE: "bad_certificate",
  CERT_UNTRUSTED: "unknown_issuer",
  ERR_TLS_CERT_ALTNAME_INVALID: "name_mismatch",
  HOSTNAME_MISMATCH: "name_mismatch",
  CERT_HAS_EXPIRED: "expired",
  CERT_NOT_YET_VALID: "not_yet_valid",
  CERT_REVOKED: "revoked",
  INVALID_CA: "bad_certificate",
  INVALID_PURPOSE: "bad_certificate",
};

/** Codes for "no one answers there" (DNS, refused, no route). */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "EADDRNOTAVAIL",
  "ConnectionRefused", "FailedToOpenSocket",
]);

/** Codes for a link that ended after it was up. */
const DROPPED_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ERR_STREAM_PREMATURE_CLOSE"]);

/** rustls' certificate errors (Deno) as they appear in messages, by name (Debug) or in words
 *  (Display: "invalid peer certificate: certificate not valid for name ...") -> `tls` kind. */
const RUSTLS_REASONS = [
  [/UnknownIssuer|unknown issuer|UnknownCA|unknown ca\b|self.signed/i, "unknown_issuer"],
  [/NotValidForName|not valid for name/i, "name_mismatch"],
  [/NotValidYet|not valid yet/i, "not_yet_valid"],
  [/Expired/i, "expired"],
  [/Revoked/i, "revoked"],
  [/BadSignature|bad signature|BadEncoding|UnhandledCriticalExtension|InvalidPurpose|invalid purpose|BadCertificate|bad certificate/i, "bad_certificate"],
];

const message = (err) => String(err?.message ?? err);

/**
 * The LinkFailure for an error a socket raised. `handshaking`: the TLS handshake had not
 * finished (an alert then is `tls: handshake_failed`); `opened`: sink.open() was called.
 */
export function linkFailure(err, { handshaking = false, opened = false } = {}) {
  const text = message(err);
  const code = typeof err?.code === "string" ? err.code : "";
  const tls = NODE_TLS_CODES[code] ?? (handshaking || /certificate|tls|handshake/i.test(text) ? rustlsReason(text) : undefined);
  if (tls) return { kind: "tls", tls, message: text };
  if (UNREACHABLE_CODES.has(code) || (!opened && isUnreachableText(text))) {
    return { kind: "unreachable", message: text };
  }
  if (handshaking && !opened && isTlsAlert(code, text)) {
    return { kind: "tls", tls: "handshake_failed", message: text };
  }
  if (code === "ETIMEDOUT") return { kind: opened ? "dropped" : "timeout", message: text };
  if (DROPPED_CODES.has(code) || opened) return { kind: "dropped", message: text };
  return { kind: handshaking ? "tls" : "unreachable", ...(handshaking && { tls: "handshake_failed" }), message: text };
}

function rustlsReason(text) {
  for (const [pattern, kind] of RUSTLS_REASONS) if (pattern.test(text)) return kind;
  return undefined;
}

function isUnreachableText(text) {
  return /refused|ECONNREFUSED|not known|ENOTFOUND|unreachable|No route|failed to lookup|Unable to connect/i.test(text);
}

function isTlsAlert(code, text) {
  return /^ERR_SSL_|^ERR_TLS_/.test(code) || /alert|handshake|ssl|tls|peer/i.test(text);
}
