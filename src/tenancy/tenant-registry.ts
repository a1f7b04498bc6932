import type { Isolation, TenantStatus } from "../generated/prisma/client.js";
import type { Database } from "../data/index.js";
import { readConfig, type TenantConfigDocuments } from "./tenant-config.js";

/** A tenant as the gateway sees it on a request. */
export interface TenantRecord {
  readonly id: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly isolation: Isolation;
  readonly region: string;
  readonly tier: string;
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

  constructor(database: Database, options: TenantRegistryOptions = {}) {
    this.#database = database;
    this.#ttlMs = options.ttlMs ?? 5_000;
  }

  /** The tenant with this id, or null. The id must already be well-formed. */
  async get(id: string): Promise<TenantRecord | null> {
    const entry = this.#entries.get(id);
    if (entry && entry.expires > Date.now()) return entry.record;

    const row = await this.#database.control.tenant.findUnique({
      where: { id },
      include: { config: true },
    });
    const record = row ? toRecord(row) : null;
    // Unknown ids are remembered too, but only briefly and only in a bounded
    // map, so a flood of made-up ids cannot grow memory without end.
    if (this.#entries.size > 10_000) this.#entries.clear();
    this.#entries.set(id, { record, expires: Date.now() + this.#ttlMs });

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
    this.#entries.delete(id);
  }
}

function toRecord(row: {
  id: string;
  name: string;
  status: TenantStatus;
  isolation: Isolation;
  region: string;
  tier: string;
  config: { settings: unknown; branding: unknown; limits: unknown; billing: unknown } | null;
}): TenantRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    isolation: row.isolation,
    region: row.region,
    tier: row.tier,
    config: readConfig(row.config),
  };
}
