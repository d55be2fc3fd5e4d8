// Reads back the record store-crash-writer.mjs left (see there) and says whether it is whole:
// exactly the text the writer saved for its `n`. Env: STORE_DIR, SEED.
import { fileStore } from "client-wasm";

import { recordOf, say } from "./common.mjs";

const store = fileStore(process.env.STORE_DIR);
const seed = Number(process.env.SEED ?? "1");

const text = await store.load("crash/client");
let n = null;
try {
  n = text === null ? null : JSON.parse(text).n ?? null;
} catch {
  n = null;
}
const whole = text !== null && Number.isInteger(n) && text === recordOf(n, seed);
say({ event: "loaded", present: text !== null, n, whole, length: text?.length ?? 0 });
