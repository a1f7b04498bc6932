import type { Logger } from "../logging/index.js";
import type { CacheBackend, Claim } from "./backend.js";
import { CacheUnavailableError } from "./cache-errors.js";
import { assertTenantId, cacheKey, tenantKeyPrefix } from "./cache-key.js";
import { createMemoryBackend } from "./memory-backend.js";
import { createRedisBackend } from "./redis-backend.js";
import { StoreHealth } from "./store-health.js";
import { TenantView, type CacheCore, type CallOutcome } from "./tenant-cache.js";
import type {
  CacheOptions,
  CacheStats,
  CacheStatus,
  GatewayCache,
  LookupListener,
  TenantCache,
} from "./types.js";
import { withTimeout } from "./with-timeout.js";

const SKIPPED: CallOutcome<never> = { ok: false };

/** The one implementation of GatewayCache; the backend decides where entries live. */
class StoreCache implements GatewayCache, CacheCore {
  readonly stats: CacheStats = { roundTrips: 0, hits: 0, misses: 0, errors: 0 };
  readonly backend: "redis" | "memory";
  readonly ttlMs: number;
  readonly owner: string;
  readonly logger: Logger;
  readonly #store: CacheBackend;
  readonly #health: StoreHealth;
  readonly #timeoutMs: number;
  readonly #lookupListeners: LookupListener[] = [];
  #closed = false;

  constructor(store: CacheBackend, health: StoreHealth, options: CacheOptions, logger: Logger) {
    this.#store = store;
    this.#health = health;
    this.#timeoutMs = options.timeoutMs;
    this.backend = store.kind;
    this.ttlMs = options.ttlSeconds * 1_000;
    this.owner = options.owner ?? "local";
    this.logger = logger;
  }

  forTenant(tenantId: string): TenantCache {
    assertTenantId(tenantId);

    return new TenantView(tenantId, this);
  }

  onLookup(listener: LookupListener): void {
    this.#lookupListeners.push(listener);
  }

  recordLookup(tenantId: string, hits: number, misses: number): void {
    this.stats.hits += hits;
    this.stats.misses += misses;
    for (const listener of this.#lookupListeners) listener(tenantId, hits, misses);
  }

  async call<T>(work: (store: CacheBackend) => Promise<T>): Promise<CallOutcome<T>> {
    // A disconnected client would fail at once, and waiting for it would only add delay.
    if (this.#closed || !this.#store.connected() || !this.#health.admit()) return SKIPPED;

    try {
      return { ok: true, value: await this.#roundTrip(work) };
    } catch {
      return SKIPPED;
    }
  }

  async clearTenant(tenantId: string): Promise<number> {
    const prefix = tenantKeyPrefix(tenantId);
    if (this.#closed || !this.#store.connected()) {
      throw new CacheUnavailableError(`Cache store is down; tenant ${tenantId} was not cleared.`);
    }

    let removed = 0;
    let cursor = "0";
    try {
      do {
        const page = await this.#roundTrip((store) => store.scan(prefix, cursor));
        cursor = page.cursor;
        if (page.keys.length > 0) {
          removed += await this.#roundTrip((store) => store.unlink(page.keys));
        }
      } while (cursor !== "0");
    } catch (error) {
      throw new CacheUnavailableError(
        `Cache store failed while clearing tenant ${tenantId}; ${removed} keys were removed.`,
        { cause: error },
      );
    }

    return removed;
  }

  async claimTenant(tenantId: string, owner: string): Promise<Claim | null> {
    const key = cacheKey(tenantId, "gateway", "deployment", "owner");
    const outcome = await this.call((store) => store.claim(key, owner, this.ttlMs));

    return outcome.ok ? outcome.value : null;
  }

  async ping(): Promise<boolean> {
    // Skips the breaker's pause: a health check wants the store's state now.
    if (this.#closed || !this.#store.connected()) return false;

    try {
      await this.#roundTrip((store) => store.ping());
      return true;
    } catch {
      return false;
    }
  }

  status(): CacheStatus {
    return !this.#closed && this.#store.connected() && this.#health.up ? "up" : "down";
  }

  async close(): Promise<void> {
    if (this.#closed) return;

    this.#closed = true;
    this.#health.close();
    await this.#store.close();
  }

  /** One counted store call within `timeoutMs`; a failure opens the breaker and rethrows. */
  async #roundTrip<T>(work: (store: CacheBackend) => Promise<T>): Promise<T> {
    this.stats.roundTrips += 1;
    try {
      const value = await withTimeout(work(this.#store), this.#timeoutMs);
      this.#health.succeeded();
      return value;
    } catch (error) {
      this.stats.errors += 1;
      this.#health.failed(error);
      throw error;
    }
  }
}

function assertWholeNumber(name: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Cache option ${name} must be a whole number of at least 1, got ${value}.`,
    );
  }
}

/**
 * Builds the gateway cache: on Redis when `redisUrl` is set, otherwise in memory.
 *
 * It waits at most `timeoutMs` for Redis, and never fails because Redis is down: the
 * cache then starts `down` and is used as soon as node-redis reconnects. It throws only
 * for bad options: a `redisUrl` that is not `redis://` or `rediss://`, or a timeout or
 * TTL that is not a whole number of at least 1.
 */
export async function createCache(options: CacheOptions): Promise<GatewayCache> {
  // node-redis reads an empty URL as "localhost:6379"; a mistyped setting must not do that.
  if (options.redisUrl !== undefined && !/^rediss?:\/\/./.test(options.redisUrl)) {
    throw new TypeError(
      "Cache option redisUrl must start with redis:// or rediss://, or be unset.",
    );
  }
  assertWholeNumber("timeoutMs", options.timeoutMs);
  assertWholeNumber("ttlSeconds", options.ttlSeconds);
  const logger = options.logger.child({ component: "cache" });

  if (options.redisUrl === undefined) {
    return new StoreCache(createMemoryBackend(), new StoreHealth(logger, true), options, logger);
  }

  // Down until the connection is ready; the first word from Redis ends the wait.
  const health = new StoreHealth(logger, false);
  let heard!: () => void;
  const firstWord = new Promise<void>((resolve) => (heard = resolve));
  const store = createRedisBackend(options.redisUrl, {
    onReady: () => {
      health.succeeded();
      heard();
    },
    onError: (error) => {
      health.failed(error);
      heard();
    },
  });
  await withTimeout(firstWord, options.timeoutMs).catch(() => {
    // Still connecting: start without the cache rather than delay the gateway.
  });

  return new StoreCache(store, health, options, logger);
}
