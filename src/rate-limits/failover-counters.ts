import { StoreHealth, type HealthMessages } from "../cache/store-health.js";
import { withTimeout } from "../cache/with-timeout.js";
import type { Logger } from "../logging/index.js";
import { destroyRedisClient, openRedisClient, type RedisClient } from "../redis/redis-client.js";
import { createMemoryCounters, createRedisCounters, type CounterStore } from "./counter-store.js";

export interface FailoverCountersOptions {
  /** Redis for counters every process shares; unset, each process counts alone. */
  readonly redisUrl: string | undefined;
  /** Longest wait (ms) for one `run` of Redis calls before this process counts alone. */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** What `run` did its work on, so that a refund goes to the same counters. */
export interface Ran<T> {
  readonly value: T;
  readonly store: CounterStore;
}

const MESSAGES: HealthMessages = {
  down: "Rate-limit counters in Redis unavailable; each process counts alone until Redis answers again",
  back: "Rate-limit counters in Redis answer again; budgets are shared again",
  connected: "Rate-limit counters connected to Redis",
};

/**
 * Rate-limit counters on Redis when it answers, and in this process's memory
 * when there is no Redis or it is down, hung or failing. A hung Redis never
 * holds a request longer than `timeoutMs`: after a failure the breaker (the
 * cache's StoreHealth) keeps calls off Redis, one probe a second, until it
 * answers or reconnects. An outage is logged once, and so is the recovery.
 *
 * While Redis is away each process enforces the whole limit on its own, so
 * N processes may admit up to N times a budget; the memory counters start
 * empty and are dropped when Redis is back. Refusing every request instead
 * would turn a Redis outage into an outage of the gateway.
 */
export class FailoverCounters {
  readonly #memory = createMemoryCounters();
  readonly #redis: { client: RedisClient; store: CounterStore; health: StoreHealth } | null;
  readonly #timeoutMs: number;
  #closed = false;

  constructor(options: FailoverCountersOptions) {
    this.#timeoutMs = options.timeoutMs;
    if (options.redisUrl === undefined) {
      this.#redis = null;
      return;
    }

    // Down until the connection is ready: requests meanwhile count in memory.
    const health = new StoreHealth(options.logger, false, MESSAGES);
    const client = openRedisClient(options.redisUrl, {
      onReady: () => health.succeeded(),
      onError: (error) => health.failed(error),
    });
    this.#redis = { client, store: createRedisCounters(client), health };
  }

  /**
   * Runs `work` on the Redis counters within the timeout, or on this
   * process's own when Redis is absent, down, hung or fails. Redis cannot
   * take back what a timed-out call wrote: those points count late, and
   * the memory counters count the request as well.
   */
  async run<T>(work: (store: CounterStore) => Promise<T>): Promise<Ran<T>> {
    const redis = this.#usableRedis();
    if (redis && redis.health.admit()) {
      try {
        const value = await withTimeout(work(redis.store), this.#timeoutMs);
        redis.health.succeeded();
        return { value, store: redis.store };
      } catch (error) {
        redis.health.failed(error);
      }
    }

    return { value: await work(this.#memory), store: this.#memory };
  }

  /**
   * Runs `work` on `store` alone, within the timeout: for refunds, which
   * only the counters that counted can take back. Answers whether it ran;
   * a failure on Redis opens the breaker like any other.
   */
  async runOn(
    store: CounterStore,
    work: (store: CounterStore) => Promise<unknown>,
  ): Promise<boolean> {
    const redis = this.#redis;
    if (store !== redis?.store) {
      await work(store);
      return true;
    }
    if (this.#usableRedis() === null) return false;

    try {
      await withTimeout(work(store), this.#timeoutMs);
      redis.health.succeeded();
      return true;
    } catch (error) {
      redis.health.failed(error);
      return false;
    }
  }

  /** Closes the Redis connection without waiting for replies a hung server never sends. */
  close(): void {
    if (this.#closed) return;

    this.#closed = true;
    this.#redis?.health.close();
    if (this.#redis) destroyRedisClient(this.#redis.client);
  }

  /** Redis, when there is one, it is not closed and its connection is ready. */
  #usableRedis() {
    const redis = this.#redis;
    // A disconnected client fails at once; trying it would only add a log line.
    return redis && !this.#closed && redis.client.isReady ? redis : null;
  }
}
