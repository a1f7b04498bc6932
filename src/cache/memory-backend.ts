import type { CacheBackend } from "./backend.js";
import { MemoryStore } from "./memory-store.js";
import { createTextKeyv } from "./text-keyv.js";

/**
 * A cache backend inside this process, for development and single-process setups: the
 * same Keyv calls as on Redis, over a `MemoryStore`. Other gateway processes do not see
 * its entries, so a delete in one process leaves the others stale until their TTL.
 */
export function createMemoryBackend(): CacheBackend {
  const store = new MemoryStore();
  const keyv = createTextKeyv(store);

  return {
    kind: "memory",
    connected: () => true,
    getMany: (keys) => keyv.getMany(keys),
    setMany: async (entries, ttlMs) => {
      await keyv.setMany(entries.map(({ key, value }) => ({ key, value, ttl: ttlMs })));
    },
    deleteMany: async (keys) => {
      await keyv.deleteMany(keys);
    },
    // The whole Map is one page: listing it does not block anyone else.
    scan: async (prefix) => ({ cursor: "0", keys: store.keysWithPrefix(prefix) }),
    unlink: async (keys) => store.deleteKeys(keys),
    // One process owns an in-memory cache: a claim always succeeds.
    claim: async (_key, value) => ({ holder: value, fresh: false }),
    ping: async () => {},
    close: async () => {
      await store.clear();
    },
  };
}
