// Publishes COUNT messages "q1 <n>" (QoS 1, PAYLOAD_BYTES padding) on TOPIC with clean: false
// while the link is cut under it; reports "done" once every publish resolved.
import { connect, memoryStore } from "client-wasm";
import { env, fail, optionsFromEnv, say } from "./common.mjs";

const count = Number(env.COUNT ?? 200);
const pad = "x".repeat(Number(env.PAYLOAD_BYTES ?? 1024));
const client = connect(env.MQTT_URL, {
  clientId: env.CLIENT_ID ?? "edge-stream",
  clean: false,
  store: memoryStore(),
  maxQueued: count + 10,
  reconnect: { initialMs: 50, maxMs: 300 },
  ...optionsFromEnv(),
});
let reconnects = 0;
client.onState((s) => {
  if (s.state === "reconnecting") reconnects++;
  if ((s.state === "closed" && s.error) || s.state === "elsewhere") fail(s.error);
});
const all = [];
for (let n = 1; n <= count; n++) {
  all.push(client.publish(env.TOPIC, `q1 ${n} ${pad}`, { qos: 1 }));
  if (n === 1) say({ event: "started" });
}
try {
  await Promise.all(all);
  say({ event: "done", count, reconnects });
  client.end();
  process.exit(0);
} catch (error) {
  fail(error);
}
