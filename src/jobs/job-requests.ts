import { badInput, GatewayError } from "../errors/index.js";
import { describeLocation, planLocation } from "../data/placement/tenant-location.js";
import { JobStatus, TenantStatus } from "../generated/prisma/enums.js";
import type { LifecycleServices } from "../lifecycle/lifecycle-services.js";
import type { MoveRequest } from "../lifecycle/move-tenant.js";
import { checkProvisionRequest, checkProvisionRetry } from "../lifecycle/provision.js";
import { checkIsolation, checkLabel } from "../lifecycle/request-checks.js";
import { choosePlacement } from "../lifecycle/server-choice.js";
import { isTenantId } from "../tenancy/index.js";
import { JobKind, type JobRequest } from "./job-kinds.js";

/**
 * Checks made before a job is queued, so a request that would be refused
 * is refused at once and nothing is recorded. They are the checks the work
 * itself makes, with its messages; the work makes them again when it runs,
 * against the tenant as it stands then.
 */
export async function checkJobRequest(
  services: LifecycleServices,
  request: JobRequest,
): Promise<void> {
  switch (request.kind) {
    case JobKind.PROVISION: {
      const input = checkProvisionRequest(request.input, services.region);
      // A tenant that exists takes only the request that made it (a retry).
      const { existing } = await checkProvisionRetry(services, input);
      // A retry keeps the server its first attempt chose; a new tenant needs one.
      if (!existing) {
        await choosePlacement(services, input.isolation, {
          region: input.region,
          tier: input.tier,
          fallbackRegion: services.region,
        });
      }
      return;
    }
    case JobKind.MOVE:
      await checkMove(services, request.tenantId, request.input);
      return;
    case JobKind.EXPORT:
      await readyTenant(services, request.tenantId);
      return;
    case JobKind.MIGRATE:
      await existingTenant(services, request.tenantId, "tenantId");
      return;
    default: {
      const unknown: never = request;
      throw new Error(`unhandled job request ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * What moveTenant refuses before it moves anything: a tenant that is not
 * there or not provisioned, a target it cannot have, and the place it
 * lives already. A tenant with a move queued or under way is refused too:
 * where it will live when this one runs is not known yet.
 */
async function checkMove(services: LifecycleServices, tenantId: string, input: MoveRequest) {
  const tenant = await readyTenant(services, tenantId);
  const moving = await services.database.control.backgroundJob.findFirst({
    where: { tenantId, kind: JobKind.MOVE, status: { in: [JobStatus.QUEUED, JobStatus.RUNNING] } },
    select: { id: true },
  });
  if (tenant.movingTo !== null || moving) {
    throw badInput("id", `Tenant "${tenantId}" is being moved; move it again once that move ends.`);
  }

  const isolation = checkIsolation(input.isolation);
  const { server } = await choosePlacement(services, isolation, {
    region: input.region,
    server: input.server,
    tier: tenant.tier,
    fallbackRegion: tenant.region,
  });
  const target = describeLocation(planLocation(tenantId, isolation, server));
  const here = describeLocation(planLocation(tenantId, tenant.isolation, tenant.databaseServer));
  if (target === here) throw badInput("isolation", `Tenant "${tenantId}" already lives there.`);
}

async function existingTenant(services: LifecycleServices, tenantId: string, field: string) {
  if (!isTenantId(tenantId)) throw badInput(field, `${field} is not a tenant id.`);
  const tenant = await services.database.control.tenant.findUnique({
    where: { id: tenantId },
    select: {
      status: true,
      tier: true,
      region: true,
      isolation: true,
      databaseServer: true,
      movingTo: true,
    },
  });
  if (!tenant) throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${tenantId}".`);

  return tenant;
}

/** A tenant that provisioning has finished: moves and exports refuse others. */
async function readyTenant(services: LifecycleServices, tenantId: string) {
  const tenant = await existingTenant(services, tenantId, "id");
  if (tenant.status === TenantStatus.PROVISIONING) {
    throw badInput("id", `Tenant "${tenantId}" is still being provisioned; finish that first.`);
  }

  return tenant;
}

/** Which tenants a `startMigrateTenants` call names. */
export interface MigrationSelection {
  /** One tenant. */
  readonly tenantId?: string | null;
  /** Every tenant of this release channel. */
  readonly channel?: string | null;
}

/**
 * The ids of the tenants a migration request selects, in id order: one
 * tenant (TENANT_NOT_FOUND when there is none), a release channel's
 * tenants, or every tenant. Naming both a tenant and a channel is refused.
 */
export async function selectMigrations(
  services: LifecycleServices,
  selection: MigrationSelection,
): Promise<string[]> {
  const { tenantId, channel } = selection;
  if (tenantId != null && channel != null) {
    throw badInput("channel", "Name a tenant or a release channel to upgrade, not both.");
  }
  if (tenantId != null) {
    await existingTenant(services, tenantId, "tenantId");
    return [tenantId];
  }

  const rows = await services.database.control.tenant.findMany({
    where: channel == null ? {} : { releaseChannel: checkLabel("channel", channel, "stable") },
    select: { id: true },
    orderBy: { id: "asc" },
  });

  return rows.map((row) => row.id);
}
