import type { Isolation, TenantStatus } from "../generated/prisma/client.js";
import type { Database } from "../data/index.js";
import { describeLocation, planLocation } from "../data/placement/tenant-location.js";
import type { TenantConfigDocuments } from "../tenant-config/document-schemas.js";
import { readConfig } from "../tenant-config/stored-config.js";

/** A tenant as the gateway sees it on a request. */
export interface TenantRecord {
  readonly id: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly isolation: Isolation;
  readonly region: string;
  readonly tier: string;
  readonly releaseChannel: string;
  /** Where its tables live, e.g. `shared`, `schema:tenant_acme`, `database:eu-1/ogc_tenant_acme`. */
  readonly location: string;
  /** The latest migration applied where its tables live (null: not yet created). */
  readonly schemaVersion: string | null;
  readonly storageBucket: string;
  /** Set while a move runs: where the tenant is going. */
  readonly movingTo: string | null;
  readonly config: TenantConfigDocuments;
}

export interface TenantRegistryOptions {
  /** How long a looked-up tenant is reused in this process (ms, default 5 s). */
  ttlMs?: number;
}

/**
 * Looks tenants up in the control plane. Every request needs its tenant, so
 * records are kept in process for a few seconds; a change made through this
 * process (suspend, config update) drops its entry at once.
 */
export class TenantRegistry {
  readonly #database: Database;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { record: TenantRecord | null; expires: number }>();
  /** Grows with every invalidation, so a read an invalidation overtook is not kept. */
  #generation = 0;

  constructor(database: Database, options: TenantRegistryOptions = {}) {
    this.#database = database;
    this.#ttlMs = options.ttlMs ?? 5_000;
  }

  /** The tenant with this id, or null. The id must already be well-formed. */
  async get(id: string): Promise<TenantRecord | null> {
    const entry = this.#entries.get(id);
    if (entry && entry.expires > Date.now()) return entry.record;

    const generation = this.#generation;
    const row = await this.#database.control.tenant.findUnique({
      where: { id },
      include: { config: true },
    });
    const record = row ? toRecord(row) : null;
    // Unknown ids are remembered too, but only briefly and only in a bounded
    // map, so a flood of made-up ids cannot grow memory without end.
    if (this.#entries.size > 10_000) this.#entries.clear();
    // A change announced while this read ran may have come after it: the
    // record answers this caller, but the next one reads again.
    if (generation === this.#generation) {
      this.#entries.set(id, { record, expires: Date.now() + this.#ttlMs });
    }

    return record;
  }

  /** Every tenant, in id order, straight from the control plane. */
  async list(): Promise<TenantRecord[]> {
    const rows = await this.#database.control.tenant.findMany({
      include: { config: true },
      orderBy: { id: "asc" },
    });

    return rows.map(toRecord);
  }

  /** Forgets what this process knows of a tenant. */
  invalidate(id: string): void {
    this.#generation += 1;
    this.#entries.delete(id);
  }

  /** Forgets every tenant (after invalidations may have been missed). */
  invalidateAll(): void {
    this.#generation += 1;
    this.#entries.clear();
  }
}

function toRecord(row: {
  id: string;
  name: string;
  status: TenantStatus;
  isolation: Isolation;
  region: string;
  tier: string;
  releaseChannel: string;
  schemaName: string | null;
  databaseServer: string | null;
  databaseName: string | null;
  schemaVersion: string | null;
  storageBucket: string;
  movingTo: string | null;
  config: { settings: unknown; branding: unknown; limits: unknown; billing: unknown } | null;
}): TenantRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    isolation: row.isolation,
    region: row.region,
    tier: row.tier,
    releaseChannel: row.releaseChannel,
    // Named from the plain columns: the sealed connection string stays shut.
    location: describeLocation(planLocation(row.id, row.isolation, row.databaseServer)),
    schemaVersion: row.schemaVersion,
    storageBucket: row.storageBucket,
    movingTo: row.movingTo,
    config: readConfig(row.config),
  };
}
