// A store that is full (save rejects with a QuotaExceededError, as fileStore does on ENOSPC):
// a QoS 1 publish with clean: false is refused with code "storage_full", and a QoS 0 one,
// which needs no storage, is still accepted.
import { connect } from "client-wasm";
import { env, fail, say } from "./common.mjs";

let full = false;
const records = new Map();
const store = {
  async load(key) {
    return records.get(key) ?? null;
  },
  async save(key, text) {
    if (full) throw Object.assign(new Error("the disk is full"), { name: "QuotaExceededError" });
    records.set(key, text);
  },
};
// Nothing listens there: the publishes wait in the queue, which is what needs the store.
const client = connect(env.MQTT_URL, { clientId: "edge-quota", clean: false, store, reconnect: { initialMs: 5000 } });
await new Promise((resolve) => setTimeout(resolve, 200));
full = true;
const outcome = await client.publish("edge/quota", "kept?", { qos: 1 }).then(() => "accepted", (e) => e.code);
if (outcome !== "storage_full") fail({ code: "check", message: `QoS 1 publish on a full store: ${outcome}` });
let qos0 = "pending";
client.publish("edge/quota", "fine", { qos: 0 }).then(() => (qos0 = "sent"), (e) => (qos0 = e.code));
await new Promise((resolve) => setTimeout(resolve, 100));
if (qos0 === "storage_full") fail({ code: "check", message: "QoS 0 needs no storage" });
say({ event: "done", qos1: outcome, pending: client.pendingCount });
client.end();
process.exit(0);
