import { join, resolve } from "node:path";
import { isTenantId } from "../tenancy/index.js";

/** The ending of every tenant log file: JSON lines. */
export const TENANT_LOG_SUFFIX = ".log";

/**
 * The log file of `tenantId` in `directory`: `<directory>/<tenantId>.log`.
 * The id is checked against the contract's pattern first (lowercase letters,
 * digits and inner hyphens), so no id can name a path outside the
 * directory or another tenant's file. Throws on anything else: callers check
 * ids at their edge, and this is the last guard.
 */
export function tenantLogPath(directory: string, tenantId: string): string {
  if (!isTenantId(tenantId)) {
    throw new TypeError(`A tenant log file needs a tenant id, got ${JSON.stringify(tenantId)}.`);
  }

  return join(resolve(directory), `${tenantId}${TENANT_LOG_SUFFIX}`);
}
