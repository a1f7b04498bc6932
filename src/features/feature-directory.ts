import type { Database } from "../data/index.js";
import { planOf } from "../tenant-config/effective-config.js";
import type { TenantRecord } from "../tenancy/tenant-registry.js";
import { decideFlag, type FeatureFlag, type FlagDecision } from "./feature-flag.js";

export interface FeatureDirectoryOptions {
  /** How long a loaded set of flags is used before it is read again (ms, default 30 s). */
  ttlMs?: number;
}

interface Snapshot {
  readonly flags: ReadonlyMap<string, FeatureFlag>;
  /** tenant id → flag key → forced value. */
  readonly overrides: ReadonlyMap<string, ReadonlyMap<string, boolean>>;
  readonly expires: number;
}

/**
 * The feature flags and per-tenant overrides, read from the control plane
 * as one small snapshot and kept in process. A change made anywhere
 * reaches every process through the invalidation bus, which calls
 * {@link FeatureDirectory.invalidate}; the TTL bounds staleness when a
 * message is lost.
 */
export class FeatureDirectory {
  readonly #database: Database;
  readonly #ttlMs: number;
  #snapshot: Snapshot | null = null;
  #loading: Promise<Snapshot> | null = null;
  #generation = 0;

  constructor(database: Database, options: FeatureDirectoryOptions = {}) {
    this.#database = database;
    this.#ttlMs = options.ttlMs ?? 30_000;
  }

  /** Every flag, in key order. */
  async flags(): Promise<FeatureFlag[]> {
    const snapshot = await this.#current();

    return [...snapshot.flags.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  /** The tenants that have an override of `flagKey`, with its value. */
  async overridesOfFlag(flagKey: string): Promise<{ tenantId: string; enabled: boolean }[]> {
    const found: { tenantId: string; enabled: boolean }[] = [];
    for (const [tenantId, forced] of (await this.#current()).overrides) {
      const enabled = forced.get(flagKey);
      if (enabled !== undefined) found.push({ tenantId, enabled });
    }

    return found.sort((a, b) => a.tenantId.localeCompare(b.tenantId));
  }

  /** How one flag is decided for `tenant`; an unknown flag is off. */
  async decide(tenant: TenantRecord, key: string): Promise<FlagDecision> {
    const snapshot = await this.#current();
    const flag = snapshot.flags.get(key);
    if (!flag) return { enabled: false, reason: "none" };

    return decideFlag(flag, subjectOf(tenant), snapshot.overrides.get(tenant.id)?.get(key));
  }

  async isEnabled(tenant: TenantRecord, key: string): Promise<boolean> {
    return (await this.decide(tenant, key)).enabled;
  }

  /** The keys of every flag that is on for `tenant`, in key order. */
  async enabledFor(tenant: TenantRecord): Promise<string[]> {
    const snapshot = await this.#current();
    const subject = subjectOf(tenant);
    const forced = snapshot.overrides.get(tenant.id);

    return [...snapshot.flags.values()]
      .filter((flag) => decideFlag(flag, subject, forced?.get(flag.key)).enabled)
      .map((flag) => flag.key)
      .sort();
  }

  /** Forgets the snapshot: the next question reads the flags again. */
  invalidate(): void {
    this.#generation += 1;
    this.#snapshot = null;
    this.#loading = null;
  }

  async #current(): Promise<Snapshot> {
    const snapshot = this.#snapshot;
    if (snapshot && snapshot.expires > Date.now()) return snapshot;
    // One read at a time; everyone asking meanwhile waits for it.
    this.#loading ??= this.#load();

    return this.#loading;
  }

  async #load(): Promise<Snapshot> {
    const generation = this.#generation;
    try {
      const control = this.#database.control;
      const [flags, overrides] = await Promise.all([
        control.featureFlag.findMany(),
        control.featureFlagOverride.findMany({
          select: { flagKey: true, tenantId: true, enabled: true },
        }),
      ]);
      const byTenant = new Map<string, Map<string, boolean>>();
      for (const row of overrides) {
        const forced = byTenant.get(row.tenantId) ?? new Map<string, boolean>();
        forced.set(row.flagKey, row.enabled);
        byTenant.set(row.tenantId, forced);
      }
      const snapshot: Snapshot = {
        flags: new Map(flags.map((flag) => [flag.key, flag])),
        overrides: byTenant,
        expires: Date.now() + this.#ttlMs,
      };
      // A read that an invalidation overtook may hold the old flags: it
      // answers its own callers, but is not kept for later ones.
      if (generation === this.#generation) this.#snapshot = snapshot;

      return snapshot;
    } finally {
      if (generation === this.#generation) this.#loading = null;
    }
  }
}

function subjectOf(tenant: TenantRecord) {
  return { tenantId: tenant.id, plan: planOf(tenant).name, releaseChannel: tenant.releaseChannel };
}
