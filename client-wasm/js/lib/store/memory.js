// A SessionStore in memory: a `clean: false` session survives reconnections, not the process.

/** The contract's SessionStore, kept in a Map. */
export function memoryStore() {
  const records = new Map();
  return {
    async load(key) {
      return records.get(key) ?? null;
    },
    async save(key, text) {
      if (text === null) records.delete(key);
      else records.set(key, text);
    },
  };
}
