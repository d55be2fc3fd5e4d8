// fileStore's contract, through the public API: any clientId is a safe file name inside the
// folder (no "/" or ".." escapes), records round-trip, null deletes, overlapping saves of one
// key end with the last one, and a missing key loads as null.
import { readdirSync } from "node:fs";
import { fileStore, memoryStore } from "client-wasm";
import { env, fail, say } from "./common.mjs";

const check = (ok, what) => ok || fail({ code: "check", message: what });
const keys = ["dev1", "a/b", "../escape", "..", ".", "", "ünï cødé", "x%41", "x%2541", "con", "a".repeat(200)];
for (const store of [fileStore(env.STORE_DIR), memoryStore()]) {
  for (const key of keys) check((await store.load(key)) === null, `empty load of ${key}`);
  await Promise.all(keys.map((key) => store.save(key, `record of ${key}`)));
  for (const key of keys) check((await store.load(key)) === `record of ${key}`, `round trip of ${key}`);
  // Overlapping saves of one key: the last call wins.
  await Promise.all([1, 2, 3, 4, 5].map((n) => store.save("dev1", `v${n}`)));
  check((await store.load("dev1")) === "v5", "last save wins");
  await store.save("a/b", null);
  check((await store.load("a/b")) === null, "null deletes");
  await store.save("a/b", null); // deleting what is not there is fine
}
const files = readdirSync(env.STORE_DIR);
check(files.length === keys.length - 1, `one file per remaining key: ${files}`);
check(files.every((f) => f.startsWith("session-") && f.endsWith(".json") && !f.includes("/")), `names: ${files}`);
check(new Set(files).size === files.length, "distinct names");
say({ event: "done", files: files.length });
process.exit(0);
