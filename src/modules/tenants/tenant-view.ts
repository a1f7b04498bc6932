import type { TenantRecord } from "../../tenancy/tenant-registry.js";
import { modulesOf } from "../../tenant-config/effective-config.js";
import type { TenantType } from "./tenant-types.js";

/** What the `Tenant` type shows of a tenant record and the features it has on. */
export function toTenantView(tenant: TenantRecord, features: readonly string[]): TenantType {
  return {
    id: tenant.id,
    name: tenant.name,
    branding: { ...tenant.config.branding },
    features: [...features],
    modules: modulesOf(tenant),
    plan: tenant.config.billing.plan ?? null,
  };
}
