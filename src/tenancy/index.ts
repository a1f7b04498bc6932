/**
 * Tenancy: which tenant a request acts on. The only way into this folder.
 */
export { TENANT_ID_PATTERN, isTenantId } from "./tenant-id.js";
export { tenantFromHost } from "./tenant-from-host.js";
export { resolveTenantId } from "./resolve-tenant-id.js";
export type { TenantSources } from "./resolve-tenant-id.js";
