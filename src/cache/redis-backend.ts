import KeyvRedis, { createClient } from "@keyv/redis";
import type { CacheBackend, ScanPage } from "./backend.js";
import { createTextKeyv } from "./text-keyv.js";

/** Longest wait (ms) for a TCP connection to Redis before the attempt counts as failed. */
export const CONNECT_TIMEOUT_MS = 2_000;

/** Longest pause (ms) between two reconnection attempts, so recovery is seen quickly. */
export const MAX_RECONNECT_DELAY_MS = 2_000;

/** Keys asked for per SCAN step: a hint to Redis, which may return more or fewer. */
const SCAN_COUNT = 1_000;

/** What the cache hears about the connection, apart from the outcome of its own calls. */
export interface ConnectionEvents {
  /** The connection is ready for commands (at start or after an outage). */
  onReady(): void;
  /** The connection failed or a reconnection attempt did; repeats during an outage. */
  onError(error: unknown): void;
}

/**
 * Retries forever, 100 ms at first, doubling up to `MAX_RECONNECT_DELAY_MS`, with a
 * little jitter so that many gateway processes do not reconnect in step. It never gives
 * up: node-redis would then close the client and the cache would never recover.
 */
function reconnectDelay(retries: number): number {
  const backoff = Math.min(100 * 2 ** retries, MAX_RECONNECT_DELAY_MS);

  return backoff + Math.floor(Math.random() * 100);
}

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
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: reconnectDelay },
  });

  // A client without an 'error' listener would crash the process on the first failure.
  client.on("error", (error: unknown) => events.onError(error));
  client.on("ready", () => events.onReady());
  const keyv = createTextKeyv(new KeyvRedis(client, { throwOnErrors: true }));
  client.connect().catch((error: unknown) => events.onError(error));

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
    close: async () => {
      // destroy, not close: close() waits for every pending reply, and a hung server
      // never sends them. Only cache writes can be lost.
      if (client.isOpen) client.destroy();
    },
  };
}
