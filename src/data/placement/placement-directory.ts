import { DATABASE_SECRET_FIELD, type TenantKeyring } from "../../crypto/index.js";
import type { PrismaClient } from "../../generated/prisma/client.js";
import { Isolation } from "../../generated/prisma/enums.js";
import { SHARED_LOCATION, type TenantLocation } from "./tenant-location.js";

/** The columns of a Tenant row that say where it lives. */
export interface PlacementRow {
  readonly id: string;
  readonly isolation: Isolation;
  readonly schemaName: string | null;
  readonly databaseServer: string | null;
  readonly databaseName: string | null;
  readonly databaseSecret: string | null;
}

const PLACEMENT_COLUMNS = {
  id: true,
  movingTo: true,
  isolation: true,
  schemaName: true,
  databaseServer: true,
  databaseName: true,
  databaseSecret: true,
} as const;

/**
 * Turns a registry row into a location, opening the sealed connection
 * string with the tenant's data key (or, until the key rotation converts
 * it, with the master key that sealed it in the old format).
 */
export async function locationOf(
  row: PlacementRow,
  keyring: TenantKeyring,
): Promise<TenantLocation> {
  switch (row.isolation) {
    case Isolation.SHARED:
      return SHARED_LOCATION;
    case Isolation.SCHEMA:
      if (!row.schemaName) throw new Error(`tenant ${row.id} is SCHEMA but names no schema`);
      return { isolation: Isolation.SCHEMA, schema: row.schemaName };
    case Isolation.DATABASE:
      if (!row.databaseServer || !row.databaseName || !row.databaseSecret) {
        throw new Error(`tenant ${row.id} is DATABASE but its location is incomplete`);
      }
      return {
        isolation: Isolation.DATABASE,
        server: row.databaseServer,
        database: row.databaseName,
        url: await keyring.open(row.id, DATABASE_SECRET_FIELD, row.databaseSecret),
      };
    default: {
      const unknown: never = row.isolation;
      throw new Error(`unhandled isolation ${String(unknown)}`);
    }
  }
}

/**
 * Where each tenant lives, read from the control plane and kept for a few
 * seconds. A stale answer is safe: the old location's fence stops the
 * statement and the caller asks again with {@link PlacementDirectory.refresh}.
 * A tenant the control plane does not know is placed in the shared tables,
 * where it has no rows.
 */
export class PlacementDirectory {
  readonly #control: PrismaClient;
  readonly #keyring: TenantKeyring;
  readonly #ttlMs: number;
  readonly #entries = new Map<
    string,
    { location: TenantLocation; moving: boolean; expires: number }
  >();

  constructor(control: PrismaClient, keyring: TenantKeyring, ttlMs = 5_000) {
    this.#control = control;
    this.#keyring = keyring;
    this.#ttlMs = ttlMs;
  }

  async locate(tenantId: string): Promise<TenantLocation> {
    const entry = this.#entries.get(tenantId);
    if (entry && entry.expires > Date.now()) return entry.location;

    return this.refresh(tenantId);
  }

  /**
   * Whether a move of the tenant is under way, as last read (or read now
   * with `fresh`). Writers wait on it without holding a connection; the
   * database's move lock is what holds them when this view is stale.
   */
  async isMoving(tenantId: string, fresh = false): Promise<boolean> {
    if (fresh) await this.refresh(tenantId);
    else await this.locate(tenantId);

    return this.#entries.get(tenantId)?.moving ?? false;
  }

  /** Reads the tenant's location from the control plane now. */
  async refresh(tenantId: string): Promise<TenantLocation> {
    const row = await this.#control.tenant.findUnique({
      where: { id: tenantId },
      select: PLACEMENT_COLUMNS,
    });
    const location = row ? await locationOf(row, this.#keyring) : SHARED_LOCATION;
    // Bounded like the tenant registry: made-up ids cannot grow it forever.
    if (this.#entries.size > 10_000) this.#entries.clear();
    this.#entries.set(tenantId, {
      location,
      moving: row?.movingTo != null,
      expires: Date.now() + this.#ttlMs,
    });

    return location;
  }

  invalidate(tenantId: string): void {
    this.#entries.delete(tenantId);
  }
}
