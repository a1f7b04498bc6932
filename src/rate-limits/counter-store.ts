import { RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from "rate-limiter-flexible";
import type { RedisClient } from "../redis/redis-client.js";
import { WINDOW_SECONDS } from "./budgets.js";

/** A counter's state in its current window. */
export interface WindowCount {
  /** Points counted in the window so far, the call's own included. */
  readonly used: number;
  /** Milliseconds until the window ends and the counter starts again from zero. */
  readonly resetMs: number;
}

/**
 * Fixed-window counters, one per key. A key's window starts with its first
 * point and lasts {@link WINDOW_SECONDS}; later points do not extend it.
 */
export interface CounterStore {
  /** `redis`: shared by every process of the deployment; `memory`: this process's own. */
  readonly kind: "redis" | "memory";
  /** Adds `points` to `key` (takes them back when negative) and answers the new state. */
  add(key: string, points: number): Promise<WindowCount>;
}

/**
 * rate-limiter-flexible's own limit (`points`) is fixed per limiter, while a
 * tenant's limits change with its configuration and differ per tenant. So
 * the library keeps the counters (penalty adds, reward takes back, neither
 * refuses) and the comparison with the tenant's limit is ours: one limiter
 * per store, and counts that do not depend on any limit. The library's
 * own limit is set out of reach and never consulted.
 */
const LIBRARY_OPTIONS = {
  points: Number.MAX_SAFE_INTEGER,
  duration: WINDOW_SECONDS,
  // Our keys are complete (`ogc:{tenantId}:…`); the library adds nothing.
  keyPrefix: "",
} as const;

type Counting = Pick<RateLimiterMemory, "penalty" | "reward">;

function storeOn(kind: CounterStore["kind"], limiter: Counting): CounterStore {
  return {
    kind,
    add: async (key, points) => {
      const res: RateLimiterRes =
        points < 0 ? await limiter.reward(key, -points) : await limiter.penalty(key, points);

      return { used: res.consumedPoints, resetMs: Math.max(res.msBeforeNext, 0) };
    },
  };
}

/** Counters in this process's memory; each expires with its window. */
export function createMemoryCounters(): CounterStore {
  return storeOn("memory", new RateLimiterMemory(LIBRARY_OPTIONS));
}

/**
 * Counters in Redis, shared by every process that uses the same Redis. Each
 * add is one atomic Lua script (SET NX EX, INCRBY, PTTL): two processes
 * adding at once both count, and the first point of a window sets its
 * expiry. Calls fail at once while the client is not ready.
 */
export function createRedisCounters(client: RedisClient): CounterStore {
  const limiter = new RateLimiterRedis({
    ...LIBRARY_OPTIONS,
    storeClient: client,
    // node-redis 4+ (the library would guess it from the class name, which
    // a bundler or a wrapper can change).
    useRedisPackage: true,
    rejectIfRedisNotReady: true,
  });

  return storeOn("redis", limiter);
}
