// The file store under a crash: replaces one record again and again, as fast as the store
// allows, printing each save before it starts and once it resolved; the test kills this process
// (SIGKILL) at a seeded moment and reads the record back with store-crash-reader.mjs.
// Record n is `{"n":n,"pad":"…"}` with a pad whose length and content follow from n, so a
// reader can tell a whole record from a torn one. Env: STORE_DIR, SEED.
import { fileStore } from "client-wasm";

import { recordOf, say } from "./common.mjs";

const store = fileStore(process.env.STORE_DIR);
const seed = Number(process.env.SEED ?? "1");

for (let n = 1; ; n++) {
  say({ event: "started", n });
  await store.save("crash/client", recordOf(n, seed));
  say({ event: "acked", n });
}
