// The contract's SessionStore on a Durable Object's storage (`ctx.storage` / `state.storage`):
// one key per client id. `save` resolves once the write is durable: `put`/`delete`, then
// `sync()` where the runtime has it (it resolves when every pending write is on disk). Inside a
// Durable Object the output gate holds the object's outgoing messages until its writes are
// confirmed anyway; `sync()` makes the rule hold for the socket writes the client makes next too.

const PREFIX = "client-wasm/session/";

/** Storage errors that mean "full / too large" become the contract's QuotaExceededError. */
function storageError(err) {
  const text = String(err?.message ?? err);
  if (!/too large|exceed|quota|limit|SQLITE_FULL|full/i.test(text)) return err;
  const quota = new Error(text);
  quota.name = "QuotaExceededError";
  return quota;
}

/**
 * @param storage  a DurableObjectStorage (`this.ctx.storage` in a DurableObject class)
 * @param prefix   the key prefix (default "client-wasm/session/"), for objects that keep more
 */
export function durableObjectStore(storage, { prefix = PREFIX } = {}) {
  if (typeof storage?.get !== "function" || typeof storage?.put !== "function") {
    const error = new Error("durableObjectStore needs a Durable Object's storage (ctx.storage)");
    error.code = "invalid_options";
    throw error;
  }
  return {
    async load(key) {
      const text = await storage.get(prefix + key);
      return typeof text === "string" ? text : null;
    },
    async save(key, text) {
      try {
        if (text === null) await storage.delete(prefix + key);
        else await storage.put(prefix + key, text);
        if (typeof storage.sync === "function") await storage.sync();
      } catch (err) {
        throw storageError(err);
      }
    },
  };
}
