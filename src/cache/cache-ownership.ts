import type { Logger } from "../logging/index.js";
import type { GatewayCache, TenantCache } from "./types.js";

/** How long one answer about a tenant's cache is reused in this process (ms). */
const RECHECK_MS = 30_000;

/** A tenant view that misses every read and writes nothing. */
function bypass(tenantId: string): TenantCache {
  return {
    tenantId,
    getMany: async (_service, _entity, ids) => ids.map(() => undefined),
    setMany: async () => {},
    delete: async () => {},
  };
}

/**
 * Keeps gateway deployments that share a Redis from fighting over a tenant id.
 *
 * Keys are `ogc:{tenantId}:…` with nothing of the deployment in them. What
 * keeps deployments out of each other's entries is the owner stamped on every
 * value (see `CacheOptions.owner`): another owner's value reads as a miss.
 * On top of that, each deployment claims a tenant's entries under its control
 * plane's id (see `GatewayCache.claimTenant`); one that finds another's claim
 * bypasses the cache for that tenant, instead of overwriting the other's
 * entries on every request, and says so in the log. A fresh claim first
 * clears what an earlier holder left behind. When the store does not answer,
 * the cache is bypassed too.
 */
export class CacheOwnership {
  readonly #cache: GatewayCache;
  readonly #owner: string;
  readonly #logger: Logger;
  readonly #answers = new Map<string, { owned: boolean; until: number }>();

  constructor(cache: GatewayCache, owner: string, logger: Logger) {
    this.#cache = cache;
    this.#owner = owner;
    this.#logger = logger;
  }

  /** The tenant's cache view, or one that bypasses the cache when it is not this deployment's. */
  async viewFor(tenantId: string): Promise<TenantCache> {
    return (await this.#owns(tenantId)) ? this.#cache.forTenant(tenantId) : bypass(tenantId);
  }

  async #owns(tenantId: string): Promise<boolean> {
    if (this.#cache.backend === "memory") return true;
    const known = this.#answers.get(tenantId);
    if (known && known.until > Date.now()) return known.owned;

    let claim = await this.#cache.claimTenant(tenantId, this.#owner);
    if (claim?.fresh) {
      // An earlier holder's entries may outlive its claim by a little: clear them,
      // which takes the claim too, then claim again.
      await this.#cache.clearTenant(tenantId).catch(() => undefined);
      claim = await this.#cache.claimTenant(tenantId, this.#owner);
    }
    if (claim === null) return false; // store down: not remembered, asked again next time
    const owned = claim.holder === this.#owner;
    if (!owned && known?.owned !== false) {
      this.#logger
        .child({ tenantId })
        .error(
          { holder: claim.holder },
          "another gateway deployment holds this tenant's cache entries in the shared Redis; bypassing the cache for it",
        );
    }
    if (this.#answers.size > 10_000) this.#answers.clear();
    this.#answers.set(tenantId, { owned, until: Date.now() + RECHECK_MS });

    return owned;
  }
}
