import type { Database } from "../../src/data/index.js";
import { SHARED_LOCATION } from "../../src/data/placement/tenant-location.js";

/**
 * Reads as superuser wherever a tenant lives: its schema or its database,
 * with unqualified table names resolving there. `null` reads the control
 * plane. Policies do not apply, so tests see exactly what is stored.
 */
export type TierReader = <T>(
  tenantId: string | null,
  sql: string,
  params?: unknown[],
) => Promise<T[]>;

export function createTierReader(database: Database): TierReader {
  return async <T>(tenantId: string | null, sql: string, params: unknown[] = []) => {
    const location = tenantId ? await database.placement.refresh(tenantId) : SHARED_LOCATION;

    return database.admin.atLocation(location, (session) => session.query<T>(sql, params));
  };
}
