// clean: false on fileStore(STORE_DIR) across a crash. PHASE=publish: publish COUNT messages
// "q<QOS> <n>" on TOPIC, report "stored" once the store has been idle for a while, then wait
// to be killed (with GO_FILE set it waits for that file before publishing). PHASE=resume: connect with the same clientId and store, report "drained" once
// connected with nothing pending.
import { existsSync } from "node:fs";
import { connect, fileStore } from "client-wasm";
import { env, fail, optionsFromEnv, say, sleep } from "./common.mjs";

const files = fileStore(env.STORE_DIR);
let saving = 0;
let lastSave = Date.now();
let saves = 0;
// A SessionStore of our own around fileStore: counts the writes, changes nothing.
const store = {
  load: (key) => files.load(key),
  async save(key, text) {
    saving++;
    try {
      await files.save(key, text);
      saves++;
    } finally {
      saving--;
      lastSave = Date.now();
    }
  },
};
const qos = Number(env.QOS ?? 1);
const client = connect(env.MQTT_URL, {
  clientId: env.CLIENT_ID ?? "edge-session",
  clean: false,
  store,
  reconnect: { initialMs: 100, maxMs: 500 },
  ...optionsFromEnv(),
});
client.onState((s) => s.state !== "connecting" && say({ event: "state", state: s.state, code: s.error?.code }));

async function settled(idleMs) {
  while (saving > 0 || Date.now() - lastSave < idleMs) await sleep(50);
}

if (env.PHASE === "publish") {
  // GO_FILE: wait for the test to create it (it holds the link first).
  while (env.GO_FILE && !existsSync(env.GO_FILE)) await sleep(50);
  const count = Number(env.COUNT ?? 20);
  for (let n = 1; n <= count; n++) {
    client.publish(env.TOPIC, `q${qos} ${n}`, { qos }).then(
      () => say({ event: "acked", n }),
      (error) => say({ event: "publish_failed", n, code: error.code, message: error.message }),
    );
  }
  await settled(700);
  say({ event: "stored", pending: client.pendingCount, saves });
  // Wait to be killed (SIGKILL): no end(), no DISCONNECT.
  setInterval(() => {}, 60_000);
} else {
  const deadline = Date.now() + Number(env.LIMIT_MS ?? 20_000);
  await sleep(200);
  while (!(client.connected && client.pendingCount === 0)) {
    if (Date.now() > deadline) fail({ code: "timeout", message: `still ${client.pendingCount} pending` });
    await sleep(50);
  }
  await settled(200);
  say({ event: "drained", saves });
  client.end();
  await sleep(100);
  process.exit(0);
}
