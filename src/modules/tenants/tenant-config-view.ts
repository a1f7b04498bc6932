import type { GatewayContext, TenantScope } from "../../context/gateway-context.js";
import { badInput } from "../../errors/index.js";
import { listVersions, openParts, readStoredConfig } from "../../tenant-config/config-store.js";
import { limitsOf } from "../../tenant-config/effective-config.js";
import type { TenantConfigType, TenantConfigVersionType } from "./tenant-types.js";

/** Most history entries one request returns. */
const MAX_VERSIONS = 100;

/** The configuration as its editors see it: sealed parts opened, secret values never. */
export async function loadTenantConfig(
  ctx: GatewayContext,
  scope: TenantScope,
): Promise<TenantConfigType> {
  const tenantId = scope.tenant.id;
  const stored = await readStoredConfig(ctx.platform.database.control, tenantId);
  if (!stored) throw new Error(`tenant ${tenantId} has no configuration row`);
  const parts = await openParts(ctx.platform.keyring, tenantId, stored.sealed);
  const { documents } = stored;

  return {
    version: stored.version,
    updatedAt: stored.updatedAt,
    updatedBy: stored.updatedBy,
    settings: { ...documents.settings },
    secretNames: Object.keys(parts.secrets).sort(),
    branding: { ...documents.branding },
    limits: { ...documents.limits },
    effectiveLimits: { ...limitsOf({ config: documents }) },
    billing: {
      ...documents.billing,
      ...(parts.billingDetails && { details: parts.billingDetails }),
    },
  };
}

/** The newest `first` versions, older than `before` when given. */
export async function loadConfigVersions(
  ctx: GatewayContext,
  scope: TenantScope,
  first: number,
  before: number | null,
): Promise<TenantConfigVersionType[]> {
  if (first < 1 || first > MAX_VERSIONS) {
    throw badInput("first", `first must be from 1 to ${MAX_VERSIONS}.`);
  }
  if (before !== null && before < 2) throw badInput("before", "before must be 2 or more.");
  const versions = await listVersions(ctx.platform.database.control, scope.tenant.id, {
    first,
    ...(before !== null && { before }),
  });

  return versions.map((entry) => ({
    version: entry.version,
    action: entry.action,
    actorId: entry.actorId,
    restoredFrom: entry.restoredFrom,
    createdAt: entry.createdAt,
    settings: { ...entry.documents.settings },
    branding: { ...entry.documents.branding },
    limits: { ...entry.documents.limits },
    billing: { ...entry.documents.billing },
  }));
}
