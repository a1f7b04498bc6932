/**
 * The tables that hold one tenant's data, parents before children, with the
 * primary key each is ordered by when copied, compared or exported.
 * `test/data/tenant-tables.test.ts` checks this list against schema.prisma,
 * so a new tenant model cannot be left out of moves and exports.
 */
export interface TenantTable {
  readonly name: string;
  readonly primaryKey: readonly string[];
}

export const TENANT_TABLES: readonly TenantTable[] = [
  { name: "User", primaryKey: ["tenantId", "id"] },
  { name: "Role", primaryKey: ["tenantId", "name"] },
  { name: "RoleAssignment", primaryKey: ["tenantId", "userId", "roleName"] },
  { name: "Organization", primaryKey: ["tenantId", "id"] },
  { name: "Membership", primaryKey: ["tenantId", "organizationId", "userId"] },
  { name: "Dashboard", primaryKey: ["tenantId", "id"] },
  { name: "Challenge", primaryKey: ["tenantId", "id"] },
  { name: "Submission", primaryKey: ["tenantId", "id"] },
  { name: "AuditLog", primaryKey: ["tenantId", "id"] },
];

/** Control-plane models, and the per-location fence: not tenant data. */
export const NON_TENANT_MODELS: readonly string[] = [
  "ControlPlane",
  "Tenant",
  "TenantConfig",
  "PlatformAuditLog",
  "TenantFence",
  "TenantConfigVersion",
  "TenantKey",
  "FeatureFlag",
  "FeatureFlagOverride",
  "StoredFile",
  "UploadLinkClaim",
  "BackgroundJob",
  "TenantTraffic",
  "TenantUsagePeriod",
  "ErrorCluster",
  "ErrorClusterTenant",
  "TenantHealthSample",
];
