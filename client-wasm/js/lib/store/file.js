// A SessionStore on disk (node:fs, which Node, Bun and Deno all provide): one file per
// clientId in `dir`, the name a reversible, name-safe encoding of the key. A save is durable
// before it resolves: write a temporary file, fsync it, rename it over the record, fsync the
// folder (the rename itself is then on disk). Saves for one key run one after another, so the
// last one wins; a full disk rejects with a QuotaExceededError (publish: "storage_full").

import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";

const FULL = new Set(["ENOSPC", "EDQUOT", "EFBIG"]);

/** `key` as a file name: [A-Za-z0-9_-] kept, every other UTF-8 byte as %XX (so "." and "/" too). */
export function fileNameFor(key) {
  let name = "";
  for (const byte of new TextEncoder().encode(key)) {
    const c = String.fromCharCode(byte);
    name += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return `session-${name}.json`;
}

/** The contract's SessionStore in the folder `dir` (created when missing). */
export function fileStore(dir) {
  if (typeof dir !== "string" && !(dir instanceof URL)) {
    throw Object.assign(new TypeError("fileStore(dir): dir must be a path"), { code: "invalid_options" });
  }
  const folder = dir instanceof URL ? decodeURIComponent(dir.pathname) : dir;
  const ready = mkdir(folder, { recursive: true });
  const queues = new Map();
  let serial = 0;
  const inOrder = (key, job) => {
    const next = (queues.get(key) ?? Promise.resolve()).then(job, job);
    const settled = next.catch(() => {});
    queues.set(key, settled);
    settled.then(() => queues.get(key) === settled && queues.delete(key));
    return next;
  };
  return {
    async load(key) {
      await ready;
      try {
        return await readFile(join(folder, fileNameFor(key)), "utf8");
      } catch (err) {
        if (err?.code === "ENOENT") return null;
        throw err;
      }
    },
    save(key, text) {
      return inOrder(key, async () => {
        await ready;
        const path = join(folder, fileNameFor(key));
        try {
          if (text === null) {
            await unlink(path).catch((err) => {
              if (err?.code !== "ENOENT") throw err;
            });
          } else {
            const temp = `${path}.${process.pid}.${serial++}.tmp`;
            try {
              await writeSynced(temp, text);
              await rename(temp, path);
            } catch (err) {
              await unlink(temp).catch(() => {});
              throw err;
            }
          }
          await syncFolder(folder);
        } catch (err) {
          throw FULL.has(err?.code) ? quotaError(err) : err;
        }
      });
    },
  };
}

async function writeSynced(path, text) {
  const handle = await open(path, "w", 0o600);
  try {
    await handle.writeFile(text, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncFolder(folder) {
  const handle = await open(folder, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function quotaError(cause) {
  const error = new Error(`the disk is full: ${cause.message}`, { cause });
  error.name = "QuotaExceededError";
  return error;
}
