import type { TenantRecord } from "../tenancy/tenant-registry.js";
import { planNamed, type Plan, type TenantLimits } from "./plans.js";

/** The tenant's plan, from its billing document. */
export function planOf(tenant: Pick<TenantRecord, "config">): Plan {
  return planNamed(tenant.config.billing.plan);
}

/** The plan's limits with the tenant's own `limits` document laid over them. */
export function limitsOf(tenant: Pick<TenantRecord, "config">): TenantLimits {
  return { ...planOf(tenant).limits, ...tenant.config.limits };
}

/** Dashboard modules the tenant may use: its plan's, plus add-ons billed to it. */
export function modulesOf(tenant: Pick<TenantRecord, "config">): string[] {
  const modules = new Set([
    ...planOf(tenant).modules,
    ...(tenant.config.billing.extraModules ?? []),
  ]);

  return [...modules];
}
