import DataLoader from "dataloader";
import { actorOf, recordPlatformAudit } from "../../audit/index.js";
import type { GatewayContext } from "../../context/gateway-context.js";
import { GatewayError, badInput } from "../../errors/index.js";
import { TenantStatus } from "../../generated/prisma/enums.js";
import { forEachLimited } from "../../async/for-each-limited.js";
import { probeTenant } from "../../telemetry/index.js";
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

/** Tenants probed at the same time for one request. */
const PROBES_AT_ONCE = 8;

const probesOfRequest = new WeakMap<GatewayContext, DataLoader<string, boolean>>();

/**
 * Whether the tenant's data answers a trivial statement through its own
 * handle, asked once per request and tenant, and for a whole list of
 * tenants a few at a time.
 */
export function reachabilityOf(ctx: GatewayContext, tenantId: string): Promise<boolean> {
  let probes = probesOfRequest.get(ctx);
  if (!probes) {
    probes = new DataLoader(async (ids) => {
      const answered = new Map<string, boolean>();
      await forEachLimited(ids, PROBES_AT_ONCE, async (id) => {
        answered.set(id, await probeTenant(ctx.platform.database, id));
      });
      return ids.map((id) => answered.get(id) ?? false);
    });
    probesOfRequest.set(ctx, probes);
  }

  return probes.load(tenantId);
}

/** ok, moving or unreachable for an active tenant; otherwise its status. */
export async function summaryHealth(ctx: GatewayContext, tenant: TenantRecord): Promise<string> {
  // Only an active tenant's health depends on its data answering.
  const reachable = tenant.status === TenantStatus.ACTIVE && (await reachabilityOf(ctx, tenant.id));

  return healthOf(tenant.status, reachable, tenant.movingTo !== null);
}

/** Row counts of the tenant's data (left out when it does not answer) and its files. */
export async function summaryUsage(
  ctx: GatewayContext,
  tenant: TenantRecord,
): Promise<Record<string, unknown>> {
  let usage: Record<string, unknown> | null = null;
  try {
    usage = await usageOf(ctx, tenant.id);
  } catch (err) {
    // Bound to the tenant summarized, not to the one the request may name.
    ctx.platform.lifecycle.logger
      .child({ tenantId: tenant.id })
      .warn({ err }, "tenant data unreachable for summary");
  }
  // Files are counted in the control plane: known even when the tenant's data is not.
  const storage = await storageSummary(ctx, tenant);

  return { ...usage, storage };
}

/**
 * A tenant's summary from its registry record. What costs database work
 * (health, usage and the admin views) is resolved only when a query asks
 * for it, see tenant-summary-resolver.ts.
 */
function summarize(tenant: TenantRecord): TenantSummaryType {
  return {
    id: tenant.id,
    name: tenant.name,
    status: tenant.status,
    isolation: tenant.isolation,
    region: tenant.region,
    tier: tenant.tier,
    releaseChannel: tenant.releaseChannel,
    location: tenant.location,
    schemaVersion: tenant.schemaVersion,
    movingTo: tenant.movingTo,
    storageBucket: tenant.storageBucket,
    billing: { ...tenant.config.billing },
    record: tenant,
  };
}

/** Every tenant with health, usage and billing, for the admin console. */
export async function listTenantSummaries(ctx: GatewayContext): Promise<TenantSummaryType[]> {
  const tenants = await ctx.platform.registry.list();
  await recordPlatformAudit(ctx.platform.database.control, {
    actorId: actorOf(ctx.principal),
    action: "tenant.list",
  });

  return tenants.map(summarize);
}

/** One tenant's summary, read fresh from the control plane. */
export async function tenantSummary(ctx: GatewayContext, id: string): Promise<TenantSummaryType> {
  ctx.platform.registry.invalidate(id);
  const tenant = await ctx.platform.registry.get(id);
  if (!tenant) throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${id}".`);

  return summarize(tenant);
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

  return summarize(tenant);
}
