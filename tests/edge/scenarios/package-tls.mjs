// One QoS 1 round trip over `client-wasm/tls` (TLS inside the package): subscribe
// `<user>/package-tls`, publish there with QoS 1 (settles on PUBACK), wait for the message.
// Reports "connected" (handshake + CONNACK, ms), "round_trip" or the typed "error", then exits.
import { connect } from "client-wasm/tls";
import { env, optionsFromEnv, say } from "./common.mjs";

const started = Date.now();
let finished = false;
const client = connect(env.MQTT_URL, {
  clientId: env.CLIENT_ID ?? `package-tls-${Math.random().toString(16).slice(2, 10)}`,
  reconnect: false,
  connectTimeoutMs: 10_000,
  ...optionsFromEnv(),
  ...(env.MQTT_TLS && { tls: env.MQTT_TLS }),
});
client.onState((s) => {
  const ms = Date.now() - started;
  if (s.state === "connected") say({ event: "connected", ms });
  if (!finished && (s.state === "closed" || s.state === "reconnecting")) {
    const e = s.error ?? {};
    say({ event: "error", state: s.state, code: e.code, tls: e.tls, message: e.message, ms });
    process.exit(1);
  }
});
const topic = `${env.MQTT_USERNAME}/package-tls`;
const arrived = new Promise((resolve) => client.onMessage(resolve));
try {
  await client.subscribe(topic, 1);
  await client.publish(topic, "over rustls in the wasm", { qos: 1 });
  const message = await arrived;
  finished = true;
  say({ event: "round_trip", topic: message.topic, payload: new TextDecoder().decode(message.payload), qos: message.qos, ms: Date.now() - started });
  client.end();
  process.exit(0);
} catch (error) {
  say({ event: "error", code: error?.code, tls: error?.tls, message: String(error?.message ?? error), ms: Date.now() - started });
  process.exit(1);
}
