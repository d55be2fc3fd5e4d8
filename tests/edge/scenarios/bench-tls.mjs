// The bench's edge-TLS rows (tests/bench/src/edge_tls.rs): with `client-wasm/tls`, TLS inside the
// package (MQTT_TLS=package) or the runtime's node:tls (MQTT_TLS=runtime), against the same
// mutual-TLS broker: HANDSHAKES connects (TCP + TLS handshake + CONNECT/CONNACK, each a fresh
// client), then one client subscribed to its own topic publishes MESSAGES QoS 1 messages of SIZE
// bytes, all in flight its window allows; reported as the median connect time and messages/s
// until the last one arrived back. Bounded: every wait has a time limit.
import { connect } from "client-wasm/tls";
import { env, fail, optionsFromEnv, say } from "./common.mjs";

const options = { reconnect: false, connectTimeoutMs: 10_000, maxInflight: 64, maxQueued: 100_000, ...optionsFromEnv(), tls: env.MQTT_TLS };
const handshakes = Number(env.HANDSHAKES ?? 20);
const messages = Number(env.MESSAGES ?? 2000);
const size = Number(env.SIZE ?? 1024);

function connected(client) {
  return new Promise((resolve, reject) => {
    client.onState((s) => {
      if (s.state === "connected") resolve();
      if (s.state === "closed" || s.state === "reconnecting") reject(s.error ?? new Error(s.state));
    });
  });
}

try {
  const times = [];
  for (let i = 0; i < handshakes; i++) {
    const started = performance.now();
    const client = connect(env.MQTT_URL, { ...options, clientId: `bench-hs-${i}` });
    await connected(client);
    times.push(performance.now() - started);
    client.end();
  }
  times.sort((a, b) => a - b);
  say({ event: "handshake", medianMs: times[Math.floor(times.length / 2)], minMs: times[0], count: times.length });

  const client = connect(env.MQTT_URL, { ...options, clientId: "bench-tp" });
  await connected(client);
  const topic = `${env.MQTT_USERNAME}/bench-tls`;
  let received = 0;
  let done;
  const all = new Promise((resolve) => (done = resolve));
  client.onMessage(() => {
    received += 1;
    if (received === messages) done();
  });
  await client.subscribe(topic, 1);
  const payload = new Uint8Array(size).fill(120);
  const started = performance.now();
  const acks = [];
  for (let i = 0; i < messages; i++) acks.push(client.publish(topic, payload, { qos: 1 }));
  const limit = new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${received} of ${messages} in 60 s`)), 60_000));
  await Promise.race([Promise.all([Promise.all(acks), all]), limit]);
  const seconds = (performance.now() - started) / 1000;
  say({ event: "throughput", messages, size, seconds, perSecond: messages / seconds });
  client.end();
  process.exit(0);
} catch (error) {
  fail(error);
}
