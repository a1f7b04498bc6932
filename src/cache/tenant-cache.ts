import type { Logger } from "../logging/index.js";
import type { CacheBackend } from "./backend.js";
import { cacheKey } from "./cache-key.js";
import { decodeValue, encodeValue } from "./json-codec.js";
import type { CacheStats, TenantCache } from "./types.js";

/** The result of one store call: `ok: false` when it was skipped, failed or ran late. */
export type CallOutcome<T> = { ok: true; value: T } | { ok: false };

/** What a tenant view needs from the cache that made it. */
export interface CacheCore {
  readonly ttlMs: number;
  /** Stamped on every value written; values of another owner read as misses. */
  readonly owner: string;
  readonly stats: CacheStats;
  readonly logger: Logger;
  /** Counts one read's hits and misses, in `stats` and for the tenant. */
  recordLookup(tenantId: string, hits: number, misses: number): void;
  /** Runs one bounded, counted store call, or skips it while the store is down. */
  call<T>(work: (backend: CacheBackend) => Promise<T>): Promise<CallOutcome<T>>;
}

/** Ids named in a warning: enough to trace it, without one huge line for a bulk call. */
const LOGGED_IDS = 20;

/** The entries of one tenant; every key it builds starts with `ogc:{tenantId}:`. */
export class TenantView implements TenantCache {
  readonly tenantId: string;
  readonly #core: CacheCore;

  /** @param tenantId already checked by the cache */
  constructor(tenantId: string, core: CacheCore) {
    this.tenantId = tenantId;
    this.#core = core;
  }

  async getMany<T>(
    service: string,
    entity: string,
    ids: readonly string[],
  ): Promise<(T | undefined)[]> {
    const keys = ids.map((id) => cacheKey(this.tenantId, service, entity, id));
    if (keys.length === 0) return [];

    const outcome = await this.#core.call((backend) => backend.getMany(keys));
    const texts = outcome.ok ? outcome.value : [];
    const values = keys.map((_, index) => {
      const text = texts[index];

      return text === undefined ? undefined : (this.#unwrap(decodeValue(text)) as T | undefined);
    });

    const hits = values.filter((value) => value !== undefined).length;
    this.#core.recordLookup(this.tenantId, hits, values.length - hits);
    return values;
  }

  async setMany<T>(
    service: string,
    entity: string,
    entries: ReadonlyArray<readonly [id: string, value: T]>,
  ): Promise<void> {
    const writes: { key: string; value: string }[] = [];
    const unwritable: string[] = [];
    // Every key is checked before anything is written, so a bad id writes nothing.
    for (const [id, value] of entries) {
      const key = cacheKey(this.tenantId, service, entity, id);
      const text = encodeValue(value);
      if (text === undefined) unwritable.push(id);
      else writes.push({ key, value: `{"o":${JSON.stringify(this.#core.owner)},"v":${text}}` });
    }

    if (unwritable.length > 0) {
      this.#logger().warn(
        this.#where(service, entity, unwritable),
        "Cache skipped values that JSON cannot represent",
      );
    }
    if (writes.length === 0) return;

    await this.#core.call((backend) => backend.setMany(writes, this.#core.ttlMs));
  }

  async delete(service: string, entity: string, ids: readonly string[]): Promise<void> {
    const keys = ids.map((id) => cacheKey(this.tenantId, service, entity, id));
    if (keys.length === 0) return;

    // Known shortcoming: a delete that fails is not retried. If Redis keeps its data
    // through the outage (a network split rather than a restart), the old entry is served
    // again once it answers, until its TTL ends (300 s by default). A fix would keep a
    // bounded list of failed deletes and replay it on recovery.
    const outcome = await this.#core.call((backend) => backend.deleteMany(keys));
    if (!outcome.ok) {
      this.#logger().warn(
        this.#where(service, entity, ids),
        "Cache delete did not reach the store; these entries may be served stale until their TTL ends",
      );
    }
  }

  /** The value of an entry this owner wrote; anything else is a miss. */
  #unwrap(stored: unknown): unknown {
    if (typeof stored !== "object" || stored === null) return undefined;
    const { o, v } = stored as { o?: unknown; v?: unknown };

    return o === this.#core.owner ? v : undefined;
  }

  /** The cache's logger bound to this tenant: its lines go to the tenant's own log too. */
  #logger(): Logger {
    return this.#core.logger.child({ tenantId: this.tenantId });
  }

  // Nested, because a top-level `service` would clobber the logger's own `service` field.
  #where(service: string, entity: string, ids: readonly string[]) {
    return { entries: { service, entity, count: ids.length, ids: ids.slice(0, LOGGED_IDS) } };
  }
}
