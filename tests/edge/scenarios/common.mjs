// Shared by the scenarios (not part of the package): connect options from the environment
// and one JSON object per stdout line for tests/src/edge.
import { readFileSync } from "node:fs";

export const env = process.env;

/** `{ ca, cert, key, servername, username, password }` from MQTT_CA, MQTT_CERT, MQTT_KEY (files),
 *  MQTT_SERVERNAME, MQTT_USERNAME, MQTT_PASSWORD. */
export function optionsFromEnv() {
  return {
    ...(env.MQTT_CA && { ca: readFileSync(env.MQTT_CA, "utf8") }),
    ...(env.MQTT_CERT && { cert: readFileSync(env.MQTT_CERT, "utf8"), key: readFileSync(env.MQTT_KEY, "utf8") }),
    ...(env.MQTT_SERVERNAME && { servername: env.MQTT_SERVERNAME }),
    ...(env.MQTT_USERNAME && { username: env.MQTT_USERNAME, password: env.MQTT_PASSWORD }),
  };
}

export function say(event) {
  console.log(JSON.stringify(event));
}

/** Reports an error (code, tls kind) and exits 1. */
export function fail(error) {
  say({ event: "error", code: error?.code, tls: error?.tls, closeCode: error?.closeCode, message: String(error?.message ?? error) });
  process.exit(1);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** store-crash-writer.mjs's record n: its pad's length and letter follow from n and the seed,
 *  so store-crash-reader.mjs can tell a whole record from a torn one. Sizes run up to 48 KiB, so
 *  some writes span several pages of the file. */
export function recordOf(n, seed) {
  const length = ((Math.imul(n, 2654435761) ^ seed) >>> 0) % 49152;
  const pad = String.fromCharCode(97 + (n % 26)).repeat(length);
  return JSON.stringify({ n, pad });
}
