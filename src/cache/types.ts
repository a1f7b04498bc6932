import type { Logger } from "../logging/index.js";
import type { Claim } from "./backend.js";

/** How the gateway cache is built; checked once by `createCache`. */
export interface CacheOptions {
  /**
   * Redis to keep entries in, such as `redis://127.0.0.1:6379`. Unset (the default) keeps
   * them in a Map inside this process, which other gateway processes do not share.
   */
  redisUrl?: string;
  /**
   * Longest wait for one cache call, in milliseconds. Past it the call counts as a miss
   * (reads) or does nothing (writes); the gateway then loads from the database instead.
   */
  timeoutMs: number;
  /** Lifetime of an entry, in seconds. */
  ttlSeconds: number;
  /**
   * Whose entries these are: the control plane's id. Every value is stored with it and
   * read back only by the same owner, so deployments that share a Redis and a tenant id
   * never read each other's entries, whatever their claims say. Default `local`.
   */
  owner?: string;
  /** Receives one line when the store goes away and one when it is back. */
  logger: Logger;
}

/** Hears one tenant read: how many of its ids were found and how many were not. */
export type LookupListener = (tenantId: string, hits: number, misses: number) => void;

/** `down` while the store does not answer: calls then count as misses or do nothing. */
export type CacheStatus = "up" | "down";

/**
 * Counts round trips to the store, for benchmarks and tests. Calls skipped while the
 * store is down make no round trip; their ids count as misses, not as errors.
 */
export interface CacheStats {
  /**
   * Requests sent to the store: one per getMany, setMany, delete and ping, and one per
   * SCAN or UNLINK step of clearTenant.
   */
  roundTrips: number;
  /** Ids found in the store. */
  hits: number;
  /** Ids not found, unreadable, or not asked for because the store was down. */
  misses: number;
  /** Store calls that failed or took longer than `timeoutMs`. */
  errors: number;
}

/**
 * The gateway's cache of entities, kept per tenant under
 * `ogc:{tenantId}:{service}:{entity}:{id}`.
 *
 * Values go through JSON: a `Date` comes back as its ISO string, so callers revive dates
 * themselves, and `undefined` cannot be stored (it is what a miss returns). Only cache
 * values that loaded successfully: an error or a partial result written here would be
 * served to every later request until its entry expires.
 */
export interface GatewayCache {
  /**
   * A view bound to one tenant: the only way to read or write entries, so no code path
   * can build another tenant's key. Throws TypeError for a malformed tenant id.
   */
  forTenant(tenantId: string): TenantCache;
  /**
   * Removes every entry of a tenant and returns how many went (SCAN + UNLINK on Redis;
   * never KEYS, which blocks the server). Unlike the other calls it rejects when the
   * store is down or a step passes `timeoutMs`, because its caller must know that a
   * tenant's data is still there.
   */
  clearTenant(tenantId: string): Promise<number>;
  /**
   * Claims a tenant's entries for one deployment (`owner`, its control plane's id) under
   * `ogc:{tenantId}:gateway:deployment:owner`, and answers who holds them: `owner`,
   * another deployment's id, or null when the store did not answer. Deployments that
   * share a Redis and a tenant id must never read each other's entries.
   */
  claimTenant(tenantId: string, owner: string): Promise<Claim | null>;
  /** Answers within `timeoutMs` whether the store works; never throws. */
  ping(): Promise<boolean>;
  /** Whether calls currently reach the store. The memory store is always `up`. */
  status(): CacheStatus;
  /** Live counters; read them, do not write them. */
  readonly stats: CacheStats;
  /** Calls `listener` after every tenant read (`getMany`), for per-tenant metrics. */
  onLookup(listener: LookupListener): void;
  readonly backend: "redis" | "memory";
  /** Drops the connection; cache writes still in flight are lost, which a cache may do. */
  close(): Promise<void>;
}

/**
 * Entries of one tenant. None of its calls rejects because of the store: a failure or a
 * call past `timeoutMs` reads as a miss and writes as nothing. They reject only with a
 * TypeError for a malformed service, entity or id, which is a bug of the caller.
 */
export interface TenantCache {
  readonly tenantId: string;
  /**
   * Reads entries in one round trip (MGET on Redis); `undefined` for a miss, in the order
   * of `ids`. The cache does not check that a value has type `T`. No ids, no round trip.
   */
  getMany<T>(service: string, entity: string, ids: readonly string[]): Promise<(T | undefined)[]>;
  /**
   * Writes entries with the cache's TTL in one round trip (a MULTI of SET with PX on
   * Redis). Entries whose value JSON cannot represent are skipped with a warning.
   */
  setMany<T>(
    service: string,
    entity: string,
    entries: ReadonlyArray<readonly [id: string, value: T]>,
  ): Promise<void>;
  /**
   * Deletes entries in one round trip. A delete that does not reach the store is logged
   * at warn: those entries may be served stale until their TTL ends.
   */
  delete(service: string, entity: string, ids: readonly string[]): Promise<void>;
}
