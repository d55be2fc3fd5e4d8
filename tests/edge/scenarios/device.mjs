// The seed 003 device loop next to the echo host: publish FIRST on azuresphere/sample/host,
// republish what comes back on azuresphere/sample/device every INTERVAL_MS, ROUNDS times.
import { env, fail, optionsFromEnv, say, sleep } from "./common.mjs";

// CLIENT_WASM_ENTRY picks the package entry: "client-wasm/tls" runs TLS inside the package.
const { connect } = await import(env.CLIENT_WASM_ENTRY ?? "client-wasm");

const rounds = Number(env.ROUNDS ?? 4);
const interval = Number(env.INTERVAL_MS ?? 200);
const client = connect(env.MQTT_URL, { clientId: env.CLIENT_ID ?? "device", reconnect: false, ...optionsFromEnv() });
let turns = 0;
client.onMessage(async ({ topic, payload }) => {
  if (topic !== "azuresphere/sample/device") return;
  const text = new TextDecoder().decode(payload);
  say({ event: "turned", payload: text });
  if (++turns >= rounds) {
    client.end();
    process.exit(0);
  }
  await sleep(interval);
  client.publish("azuresphere/sample/host", text, { qos: 1 }).catch(fail);
});
try {
  await client.subscribe("azuresphere/sample/device", 1);
  await client.publish("azuresphere/sample/host", env.FIRST ?? "Hello from Azure Sphere", { qos: 1 });
  say({ event: "started" });
} catch (error) {
  fail(error);
}
