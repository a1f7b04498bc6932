import KeyvRedis from "@keyv/redis";
import {
  destroyRedisClient,
  openRedisClient,
  type ConnectionEvents,
} from "../redis/redis-client.js";
import type { CacheBackend, ScanPage } from "./backend.js";
import { createTextKeyv } from "./text-keyv.js";

/** Keys asked for per SCAN step: a hint to Redis, which may return more or fewer. */
const SCAN_COUNT = 1_000;

/**
 * A cache backend on one Redis server: reads, writes and deletes go through Keyv and
 * `@keyv/redis`, whose getMany, setMany and deleteMany are one round trip each on a single
 * server (MGET; MULTI of SET PX; MULTI of UNLINK). Scans use the client directly.
 *
 * Connecting starts at once but is not awaited: a Redis that is down at start leaves the
 * cache `down`, and node-redis keeps reconnecting in the background. While disconnected,
 * commands fail at once instead of waiting in node-redis's offline queue.
 */
export function createRedisBackend(url: string, events: ConnectionEvents): CacheBackend {
  const client = openRedisClient(url, events);
  const keyv = createTextKeyv(new KeyvRedis(client, { throwOnErrors: true }));

  return {
    kind: "redis",
    connected: () => client.isReady,
    getMany: (keys) => keyv.getMany(keys),
    setMany: async (entries, ttlMs) => {
      await keyv.setMany(entries.map(({ key, value }) => ({ key, value, ttl: ttlMs })));
    },
    deleteMany: async (keys) => {
      await keyv.deleteMany(keys);
    },
    scan: async (prefix, cursor): Promise<ScanPage> => {
      const page = await client.scan(cursor, { MATCH: `${prefix}*`, COUNT: SCAN_COUNT });

      return { cursor: String(page.cursor), keys: page.keys };
    },
    unlink: (keys) => client.unlink(keys),
    claim: async (key, value, ttlMs) => {
      if ((await client.set(key, value, { NX: true, PX: ttlMs })) === "OK") {
        return { holder: value, fresh: true };
      }
      const holder = (await client.get(key)) ?? value;
      if (holder === value) await client.pExpire(key, ttlMs);
      return { holder, fresh: false };
    },
    ping: async () => {
      await client.ping();
    },
    // Only cache writes can be lost by not waiting for replies.
    close: async () => destroyRedisClient(client),
  };
}
