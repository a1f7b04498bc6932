import { actorOf, recordPlatformAudit } from "../../audit/index.js";
import type { GatewayContext } from "../../context/gateway-context.js";
import { GatewayError, badInput } from "../../errors/index.js";
import { TenantStatus } from "../../generated/prisma/enums.js";
import { isTenantId } from "../../tenancy/index.js";
import type { TenantRecord } from "../../tenancy/tenant-registry.js";
import type { TenantSummaryType } from "./platform-types.js";

function healthOf(status: TenantStatus, reachable: boolean, moving: boolean): string {
  switch (status) {
    case TenantStatus.ACTIVE:
      if (!reachable) return "unreachable";
      return moving ? "moving" : "ok";
    case TenantStatus.SUSPENDED:
      return "suspended";
    case TenantStatus.PROVISIONING:
      return "provisioning";
    default: {
      const unknown: never = status;
      return String(unknown);
    }
  }
}

/** Row counts of a tenant's data, read through its own bound handle. */
async function usageOf(ctx: GatewayContext, tenantId: string) {
  const db = ctx.platform.database.forTenant(tenantId);
  const where = { tenantId };
  const [users, organizations, dashboards, challenges, submissions] = await Promise.all([
    db.user.count({ where }),
    db.organization.count({ where }),
    db.dashboard.count({ where }),
    db.challenge.count({ where }),
    db.submission.count({ where }),
  ]);

  return { users, organizations, dashboards, challenges, submissions };
}

/** The tenant's stored bytes and files, in all and per area, with its quota. */
async function storageSummary(ctx: GatewayContext, tenant: TenantRecord) {
  const { areas, ...totals } = await ctx.platform.storage.usage(tenant);

  return {
    ...totals,
    areas: Object.fromEntries(areas.map(({ area, ...counts }) => [area, counts])),
  };
}

async function summarize(ctx: GatewayContext, tenant: TenantRecord): Promise<TenantSummaryType> {
  let usage: Record<string, unknown> | null = null;
  let reachable = true;
  try {
    usage = await usageOf(ctx, tenant.id);
  } catch (err) {
    reachable = false;
    ctx.logger.warn({ err, tenant: tenant.id }, "tenant data unreachable for summary");
  }
  // Files are counted in the control plane: known even when the tenant's data is not.
  const storage = await storageSummary(ctx, tenant);

  return {
    id: tenant.id,
    name: tenant.name,
    status: tenant.status,
    isolation: tenant.isolation,
    region: tenant.region,
    health: healthOf(tenant.status, reachable, tenant.movingTo !== null),
    tier: tenant.tier,
    releaseChannel: tenant.releaseChannel,
    location: tenant.location,
    schemaVersion: tenant.schemaVersion,
    movingTo: tenant.movingTo,
    storageBucket: tenant.storageBucket,
    usage: { ...usage, storage },
    billing: { ...tenant.config.billing },
  };
}

/** Every tenant with health, usage and billing, for the admin console. */
export async function listTenantSummaries(ctx: GatewayContext): Promise<TenantSummaryType[]> {
  const tenants = await ctx.platform.registry.list();
  await recordPlatformAudit(ctx.platform.database.control, {
    actorId: actorOf(ctx.principal),
    action: "tenant.list",
  });

  return Promise.all(tenants.map((tenant) => summarize(ctx, tenant)));
}

/** One tenant's summary, read fresh from the control plane. */
export async function tenantSummary(ctx: GatewayContext, id: string): Promise<TenantSummaryType> {
  ctx.platform.registry.invalidate(id);
  const tenant = await ctx.platform.registry.get(id);
  if (!tenant) throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${id}".`);

  return summarize(ctx, tenant);
}

/** Suspends or resumes a tenant; doing it twice changes nothing more. */
export async function setTenantStatus(
  ctx: GatewayContext,
  id: string,
  status: typeof TenantStatus.ACTIVE | typeof TenantStatus.SUSPENDED,
): Promise<TenantSummaryType> {
  if (!isTenantId(id)) throw badInput("id", "id is not a tenant id.");
  const control = ctx.platform.database.control;
  const existing = await control.tenant.findUnique({ where: { id } });
  if (!existing) throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${id}".`);
  if (existing.status === TenantStatus.PROVISIONING) {
    throw badInput("id", "The tenant is still being provisioned; finish provisioning first.");
  }

  await control.tenant.update({ where: { id }, data: { status } });
  await recordPlatformAudit(control, {
    actorId: actorOf(ctx.principal),
    action: status === TenantStatus.SUSPENDED ? "tenant.suspend" : "tenant.resume",
    tenantId: id,
  });
  await ctx.platform.events.publish({ kind: "tenant", tenantId: id });
  const tenant = await ctx.platform.registry.get(id);
  if (!tenant) throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${id}".`);

  return summarize(ctx, tenant);
}
