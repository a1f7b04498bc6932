import { createClient } from "@keyv/redis";

/** Longest wait (ms) for a TCP connection to Redis before the attempt counts as failed. */
export const CONNECT_TIMEOUT_MS = 2_000;

/** Longest pause (ms) between two reconnection attempts, so recovery is seen quickly. */
export const MAX_RECONNECT_DELAY_MS = 2_000;

/** A node-redis client as `@keyv/redis` re-exports it. */
export type RedisClient = ReturnType<typeof createRedisClient>;

function createRedisClient(url: string) {
  return createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: reconnectDelay },
  });
}

/** What a client's owner hears about the connection, apart from its own calls. */
export interface ConnectionEvents {
  /** The connection is ready for commands (at start or after an outage). */
  onReady(): void;
  /** The connection failed or a reconnection attempt did; repeats during an outage. */
  onError(error: unknown): void;
}

/**
 * Retries forever, 100 ms at first, doubling up to `MAX_RECONNECT_DELAY_MS`, with a
 * little jitter so that many gateway processes do not reconnect in step. It never gives
 * up: node-redis would then close the client and its owner would never recover.
 */
function reconnectDelay(retries: number): number {
  const backoff = Math.min(100 * 2 ** retries, MAX_RECONNECT_DELAY_MS);

  return backoff + Math.floor(Math.random() * 100);
}

/**
 * Opens a node-redis client that fails commands at once while disconnected
 * (no offline queue: a caller waiting for Redis would only add delay) and
 * reconnects in the background forever. Connecting starts at once but is
 * not awaited; `events` tells when it is ready or failing.
 */
export function openRedisClient(url: string, events: ConnectionEvents): RedisClient {
  const client = createRedisClient(url);

  // A client without an 'error' listener would crash the process on the first failure.
  client.on("error", (error: unknown) => events.onError(error));
  client.on("ready", () => events.onReady());
  client.connect().catch((error: unknown) => events.onError(error));

  return client;
}

/** Closes without waiting for pending replies: a hung server never sends them. */
export function destroyRedisClient(client: RedisClient): void {
  if (client.isOpen) client.destroy();
}
