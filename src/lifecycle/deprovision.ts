import { recordPlatformAudit } from "../audit/index.js";
import {
  describeLocation,
  SHARED_LOCATION,
  planLocation,
} from "../data/placement/tenant-location.js";
import { badInput, GatewayError } from "../errors/index.js";
import { Isolation, TenantStatus } from "../generated/prisma/enums.js";
import { isTenantId } from "../tenancy/index.js";
import { withLifecycleLock } from "./lifecycle-lock.js";
import type { LifecycleServices } from "./lifecycle-services.js";
import { dropLocation } from "./locations.js";
import { settleInterruptedMove } from "./move-tenant.js";

/**
 * Removes a tenant for good: its data wherever it lives (rows, schema, or
 * database and login), its storage prefix, its cache entries, any fence its
 * earlier moves left in the shared tables, and finally its registry row,
 * config and job records. Only a suspended tenant, or one whose provisioning
 * never finished, can be removed, so a live tenant cannot vanish by one
 * mistaken call. The platform audit log keeps its history. Running it
 * again after a failure part-way finishes the job.
 *
 * When the tenant's database server does not answer, removal stops with an
 * error, unless `force` is set: then the tenant is removed all the same and
 * the database it may have left is named in the platform audit log, to be
 * dropped by hand once the server is back.
 */
export async function deprovisionTenant(
  services: LifecycleServices,
  tenantId: string,
  actorId: string,
  options: { force?: boolean } = {},
): Promise<void> {
  if (!isTenantId(tenantId)) throw badInput("id", "id is not a tenant id.");
  const { database } = services;

  await withLifecycleLock(database, tenantId, async () => {
    // A move that died part-way is finished or undone first, so that every
    // copy the tenant has is where the registry says.
    await settleInterruptedMove(services, tenantId, actorId);
    const tenant = await database.control.tenant.findUnique({ where: { id: tenantId } });
    if (!tenant) throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${tenantId}".`);
    if (tenant.status === TenantStatus.ACTIVE) {
      throw badInput("id", `Tenant "${tenantId}" is active; suspend it before removing it.`);
    }

    const planned = planLocation(tenantId, tenant.isolation, tenant.databaseServer);
    let orphaned: string | null = null;
    try {
      await dropLocation(database, tenantId, planned);
    } catch (error) {
      const where = describeLocation(planned);
      // Another deployment's database is refused as it is; force leaves it be.
      if (!options.force && error instanceof GatewayError) throw error;
      if (!options.force) {
        throw new Error(
          `Could not remove ${where} of tenant ${tenantId} (${(error as Error).message}). Retry when its server answers, or remove the tenant with force and drop ${where} by hand.`,
          { cause: error },
        );
      }
      orphaned = where;
      services.logger
        .child({ tenantId })
        .warn({ err: error, orphaned }, "tenant removed, location left behind");
    }
    // Shared rows may remain from a time the tenant lived there, with a fence.
    if (tenant.isolation !== Isolation.SHARED) {
      await dropLocation(database, tenantId, SHARED_LOCATION);
    }
    await database.admin.atLocation(SHARED_LOCATION, (session) =>
      session.query(`DELETE FROM "TenantFence" WHERE "tenantId" = $1`, [tenantId]),
    );
    await services.storage.removeTenant(tenant.storageBucket, tenantId);
    await services.cache.clearTenant(tenantId);
    // Its log lines go with it, also those another gateway process still
    // holds (the erasure is recorded for them); later lines start a new file.
    const logBytes = (await services.logs?.erase(tenantId)) ?? 0;
    // Its job records go with its row, so that a new tenant of the same id
    // starts with none (the audit rows keep what was done). The tenant's
    // data key goes with its row too (the foreign key cascades).
    const [{ count: jobs }] = await database.control.$transaction([
      database.control.backgroundJob.deleteMany({ where: { tenantId } }),
      database.control.tenant.delete({ where: { id: tenantId } }),
    ]);
    database.placement.invalidate(tenantId);
    database.keyring.forget(tenantId);
    await recordPlatformAudit(database.control, {
      actorId,
      action: "tenant.deprovision",
      tenantId,
      detail: { isolation: tenant.isolation, status: tenant.status, orphaned, logBytes, jobs },
    });
  });
}
