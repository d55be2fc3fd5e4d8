// Connects once (no reconnect) and reports how the connection ended: the typed error and how
// long it took, or "connected".
import { connect } from "client-wasm";
import { env, optionsFromEnv, say } from "./common.mjs";

const started = Date.now();
const client = connect(env.MQTT_URL, {
  clientId: env.CLIENT_ID ?? `fault-${Math.random().toString(16).slice(2, 10)}`,
  reconnect: false,
  connectTimeoutMs: Number(env.CONNECT_TIMEOUT_MS ?? 10_000),
  ...optionsFromEnv(),
});
client.onState((s) => {
  const ms = Date.now() - started;
  if (s.state === "connected") {
    say({ event: "connected", ms });
    client.end();
    process.exit(0);
  }
  if (s.state === "closed" || s.state === "reconnecting") {
    const e = s.error ?? {};
    say({ event: "error", state: s.state, code: e.code, tls: e.tls, closeCode: e.closeCode, message: e.message, ms });
    process.exit(1);
  }
});
