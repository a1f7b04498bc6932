/**
 * The associated data each sealed thing is bound to. Tenant ids never hold
 * a colon, so no two (tenant, field) pairs share one.
 */

/** A value of `field` of `tenantId`; the master-sealed `v1` values used the same. */
export function fieldContext(tenantId: string, field: string): string {
  checkTenantId(tenantId);
  if (field === "") throw new TypeError("A sealed field needs a name.");

  return `tenant:${tenantId}:${field}`;
}

/** The tenant's wrapped data key. */
export function dataKeyContext(tenantId: string): string {
  checkTenantId(tenantId);

  return `tenant:${tenantId}:dataKey`;
}

function checkTenantId(tenantId: string): void {
  if (tenantId === "" || tenantId.includes(":")) {
    throw new TypeError(`"${tenantId}" cannot name a tenant in sealed data.`);
  }
}
