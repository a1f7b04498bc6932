import DataLoader from "dataloader";
import type { TenantCache } from "../cache/index.js";

/** How loaders fetch: batched through the cache, or one query per key. */
export type LoaderMode = "batched" | "naive";

export interface LoaderSource {
  /** The tenant's cache view, or null to read the database only. */
  readonly cache: TenantCache | null;
  readonly mode: LoaderMode;
}

export interface EntityLoaderSpec<V> {
  /** The owning service, the `{service}` part of the cache key. */
  service: string;
  /** The `{entity}` part of the cache key. */
  entity: string;
  /**
   * Fetches the given keys in one query filtered by the tenant. Keys absent
   * from the returned map are missing (or belong to another tenant).
   */
  fetch: (keys: readonly string[]) => Promise<Map<string, V>>;
  /** Value for a key that has no row: null for entities, [] for lists. */
  missing: V;
}

/** Ids are uuids or slugs; anything else cannot exist and never reaches SQL. */
const KEY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isEntityKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/**
 * A per-request DataLoader that reads through the tenant's cache. One batch
 * costs at most one cache read, one query for the misses and one cache
 * write. A key with no row resolves to `spec.missing` on its own, so one
 * foreign id never fails its neighbours, and nothing but found rows is
 * written to the cache.
 */
export function createEntityLoader<V>(
  source: LoaderSource,
  spec: EntityLoaderSpec<V>,
): DataLoader<string, V> {
  if (source.mode === "naive") {
    // The benchmark's baseline: what resolvers cost without batching. The
    // queries run one after the other: started all at once, a large page
    // queued thousands of tenant transactions on the pool, and those that
    // waited past the transaction maxWait failed the request.
    let previous: Promise<unknown> = Promise.resolve();
    return new DataLoader<string, V>(
      (keys) => {
        const value = previous.then(() => fetchOne(spec, keys[0] as string));
        previous = value.catch(() => undefined);
        return value.then((found) => [found]);
      },
      { batch: false, cache: false },
    );
  }

  return new DataLoader<string, V>(async (keys) => {
    const valid = keys.filter(isEntityKey);
    const found = new Map<string, V>();

    const cached = source.cache
      ? await source.cache.getMany<V>(spec.service, spec.entity, valid)
      : [];
    const misses: string[] = [];
    valid.forEach((key, index) => {
      const hit = cached[index];
      if (hit === undefined) misses.push(key);
      else found.set(key, hit);
    });

    if (misses.length > 0) {
      const fetched = await spec.fetch(misses);
      const fresh: [string, V][] = [];
      for (const [key, value] of fetched) {
        found.set(key, value);
        fresh.push([key, value]);
      }
      if (source.cache && fresh.length > 0) {
        await source.cache.setMany(spec.service, spec.entity, fresh);
      }
    }

    return keys.map((key) => (found.has(key) ? (found.get(key) as V) : spec.missing));
  });
}

async function fetchOne<V>(spec: EntityLoaderSpec<V>, key: string): Promise<V> {
  if (!isEntityKey(key)) return spec.missing;
  const fetched = await spec.fetch([key]);

  return fetched.has(key) ? (fetched.get(key) as V) : spec.missing;
}
