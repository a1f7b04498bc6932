import type { ApolloServerPlugin } from "@apollo/server";
import type { GatewayContext } from "../context/gateway-context.js";
import type { Logger } from "../logging/index.js";
import { FailoverCounters } from "./failover-counters.js";
import { createRateLimitPlugin } from "./rate-limit-plugin.js";
import { TenantRateLimits } from "./tenant-rate-limits.js";

export interface RateLimitOptions {
  /** Redis for counters all processes share (`REDIS_URL`); unset, each process counts alone. */
  readonly redisUrl: string | undefined;
  /** Longest wait (ms) for Redis before a request counts in process (`RATE_LIMIT_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  /** The control plane's id: deployments sharing a Redis keep budgets apart by it. */
  readonly deploymentId: string;
  /** The cost limit of one operation (`QUERY_MAX_COST`). */
  readonly maxCost: number;
  readonly logger: Logger;
}

/** The gateway's per-tenant and per-user rate limits. */
export interface RateLimits {
  /** The Apollo plugin that enforces them and writes the RateLimit headers. */
  readonly plugin: ApolloServerPlugin<GatewayContext>;
  /** Closes the Redis connection; safe to repeat. */
  close(): void;
}

/** Opens the counters (connecting to Redis in the background) and builds the plugin. */
export function createRateLimits(options: RateLimitOptions): RateLimits {
  const counters = new FailoverCounters({
    redisUrl: options.redisUrl,
    timeoutMs: options.timeoutMs,
    logger: options.logger.child({ component: "rate-limits" }),
  });
  const limits = new TenantRateLimits(counters, options.deploymentId);

  return {
    plugin: createRateLimitPlugin({ limits, maxCost: options.maxCost }),
    close: () => counters.close(),
  };
}
