import { join, resolve } from "node:path";
import { isTenantId } from "../tenancy/index.js";

/** The ending of every tenant log file: JSON lines. */
export const TENANT_LOG_SUFFIX = ".log";

/** The ending the one older file of a tenant gets when its file is rotated. */
export const ROTATED_SUFFIX = ".1";

/** The ending of the file that records when a tenant's log was last erased. */
export const ERASED_SUFFIX = ".erased";

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

/**
 * The older file of `tenantId`, `<directory>/<tenantId>.log.1`: where its
 * file goes when it reaches its size bound (tenant-log-files.ts). Checked
 * like {@link tenantLogPath}.
 */
export function rotatedLogPath(directory: string, tenantId: string): string {
  return `${tenantLogPath(directory, tenantId)}${ROTATED_SUFFIX}`;
}

/**
 * The erasure marker of `tenantId`, `<directory>/<tenantId>.erased`: the
 * time its log was last erased, which every writer checks before it
 * appends (tenant-log-erasure.ts). Checked like {@link tenantLogPath}.
 */
export function erasedMarkerPath(directory: string, tenantId: string): string {
  if (!isTenantId(tenantId)) {
    throw new TypeError(`A tenant log file needs a tenant id, got ${JSON.stringify(tenantId)}.`);
  }

  return join(resolve(directory), `${tenantId}${ERASED_SUFFIX}`);
}
