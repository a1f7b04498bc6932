import type { TenantRecord } from "../../tenancy/tenant-registry.js";
import type { TenantType } from "./tenant-types.js";

/** What the `Tenant` type shows of a tenant record. */
export function toTenantView(tenant: TenantRecord): TenantType {
  return {
    id: tenant.id,
    name: tenant.name,
    branding: { ...tenant.config.branding },
    features: [...(tenant.config.settings.features ?? [])],
    modules: [...(tenant.config.settings.modules ?? [])],
    plan: tenant.config.billing.plan ?? null,
  };
}
