/**
 * The gateway's cache of tenant entities, on Redis or in memory. This file is the only
 * way in; see `GatewayCache` for the guarantees.
 */
export { createCache } from "./create-cache.js";
export { cacheKey } from "./cache-key.js";
export { CacheTimeoutError, CacheUnavailableError } from "./cache-errors.js";
export type {
  CacheOptions,
  CacheStats,
  CacheStatus,
  GatewayCache,
  LookupListener,
  TenantCache,
} from "./types.js";
export type { Claim } from "./backend.js";
export { CacheOwnership } from "./cache-ownership.js";
