import { recordPlatformAudit, recordTenantAudit } from "../audit/index.js";
import type { Database } from "../data/index.js";
import { badInput } from "../errors/index.js";
import { Isolation, TenantStatus } from "../generated/prisma/enums.js";
import { newId } from "../modules/common/ids.js";
import { requireEmail, requireText } from "../modules/common/validate.js";
import type { UserRecord } from "../modules/identity/identity-types.js";
import { BUILT_IN_ROLES, TENANT_ADMIN_ROLE } from "../rbac/permissions.js";
import { isTenantId } from "../tenancy/index.js";
import { configColumns, defaultConfig } from "../tenant-config/stored-config.js";
import { IMPORT_STARTED } from "./import-tenant.js";
import { withLifecycleLock } from "./lifecycle-lock.js";
import type { LifecycleServices } from "./lifecycle-services.js";
import {
  plannedColumns,
  planLocation,
  type PlannedLocation,
} from "../data/placement/tenant-location.js";
import { createRecordedLocation } from "./locations.js";
import { checkIsolation, checkLabel } from "./request-checks.js";
import { choosePlacement } from "./server-choice.js";

export interface ProvisionRequest {
  id: string;
  name: string;
  isolation: Isolation;
  region?: string | null;
  tier?: string | null;
  /** Release channel for upgrades (default `stable`). */
  releaseChannel?: string | null;
  adminEmail: string;
}

export interface ProvisionOutcome {
  tenantId: string;
  adminUser: UserRecord;
  /** False when the tenant was already fully provisioned (a retry). */
  created: boolean;
}

/**
 * The request as provisioning reads it: trimmed, with defaults filled in;
 * BAD_USER_INPUT naming the field otherwise. Callers that queue the work
 * check with it first, so a bad request is refused before anything is queued.
 */
export function checkProvisionRequest(request: ProvisionRequest, homeRegion: string) {
  const id = request.id.trim();
  if (!isTenantId(id)) {
    throw badInput(
      "id",
      "id must be 3-40 characters: lowercase letters, digits and '-', starting with a letter and not ending with '-'.",
    );
  }

  return {
    id,
    name: requireText("name", request.name, 120),
    adminEmail: requireEmail("adminEmail", request.adminEmail),
    isolation: checkIsolation(request.isolation),
    region: checkLabel("region", request.region, homeRegion),
    tier: checkLabel("tier", request.tier, "standard"),
    releaseChannel: checkLabel("releaseChannel", request.releaseChannel, "stable"),
  };
}

/** A request as {@link checkProvisionRequest} answers it. */
export type CheckedRequest = ReturnType<typeof checkProvisionRequest>;

/**
 * The first admin as the tenant's `tenant.provision` audit row names it;
 * null when no provisioning has recorded one yet.
 */
async function findFirstAdmin(database: Database, tenantId: string) {
  const tenantDb = database.forTenant(tenantId);
  const row = await tenantDb.auditLog.findFirst({
    where: { tenantId, action: "tenant.provision" },
    orderBy: { createdAt: "asc" },
    select: { detail: true },
  });
  if (!row) return null;
  const detail = row.detail as { adminUserId?: unknown } | null;
  const adminUserId = typeof detail?.adminUserId === "string" ? detail.adminUserId : "";
  // Null when the recorded admin is gone: no email can match then.
  const user = await tenantDb.user.findUnique({
    where: { tenantId_id: { tenantId, id: adminUserId } },
    select: { id: true, email: true, name: true },
  });

  return { user };
}

/** Whether the unfinished tenant row was recorded by an import, not by provisioning. */
async function madeByImport(
  services: LifecycleServices,
  tenant: { id: string; createdAt: Date },
): Promise<boolean> {
  const mark = await services.database.control.platformAuditLog.findFirst({
    where: { tenantId: tenant.id, action: IMPORT_STARTED, createdAt: { gte: tenant.createdAt } },
    select: { id: true },
  });

  return mark !== null;
}

/**
 * Creates a tenant in any tier: its location (schema or database, migrated),
 * storage, config, built-in roles and first tenant admin, then registers it
 * live. Every step can run again, so a retry of the same request after a
 * failure part-way completes the job, and a retry after success changes
 * nothing. The tenant row is written first, PROVISIONING, with the location
 * it will have, so a failed attempt is always on record for a retry or for
 * {@link deprovisionTenant}; requests see such a tenant as not found.
 *
 * A call that differs from the tenant as it stands (name, isolation, region,
 * or another first admin) is refused: provisioning never grants
 * `tenant_admin` to anyone but the first admin. Calls for one tenant id run
 * one at a time (see {@link withLifecycleLock}).
 */
export async function provisionTenant(
  services: LifecycleServices,
  request: ProvisionRequest,
  actorId: string,
): Promise<ProvisionOutcome> {
  const input = checkProvisionRequest(request, services.region);

  return withLifecycleLock(services.database, input.id, () =>
    provisionLocked(services, input, actorId),
  );
}

/**
 * What provisioning refuses before it writes anything: a call that differs
 * from the tenant as it stands (name, isolation, region, or another first
 * admin), a tenant an unfinished import began, and one being moved. A
 * retry must be the same request; for a new tenant there is nothing to
 * compare. Callers that queue the work run it first, so such a request is
 * refused before anything is queued. Answers the tenant as it stands and
 * its first admin, for provisioning to go on from.
 */
export async function checkProvisionRetry(services: LifecycleServices, input: CheckedRequest) {
  const { database } = services;
  const control = database.control;
  const existing = await control.tenant.findUnique({ where: { id: input.id } });
  if (existing && (existing.isolation !== input.isolation || existing.region !== input.region)) {
    throw badInput("id", `Tenant "${input.id}" already exists with other settings.`);
  }
  if (existing && existing.name !== input.name) {
    throw badInput(
      "name",
      `Tenant "${input.id}" already exists with another name; a retry must send the same name.`,
    );
  }
  if (
    existing &&
    existing.status === TenantStatus.PROVISIONING &&
    (await madeByImport(services, existing))
  ) {
    throw badInput(
      "id",
      `Tenant "${input.id}" was begun by an import that did not finish; remove it with deprovisionTenant and import it again.`,
    );
  }
  if (existing?.movingTo) {
    throw badInput("id", `Tenant "${input.id}" is being moved; provision it again afterwards.`);
  }
  // A location that exists may hold the first admin already, even when the
  // tenant never went live; the shared tables always exist.
  const locationExists = input.isolation === Isolation.SHARED || existing?.schemaVersion != null;
  const firstAdmin = locationExists ? await findFirstAdmin(database, input.id) : null;
  if (firstAdmin && firstAdmin.user?.email !== input.adminEmail) {
    throw badInput(
      "adminEmail",
      `Tenant "${input.id}" already has its first administrator; a retry must send the same adminEmail.`,
    );
  }

  return { existing, firstAdmin };
}

async function provisionLocked(
  services: LifecycleServices,
  input: CheckedRequest,
  actorId: string,
): Promise<ProvisionOutcome> {
  const { database, storage } = services;
  const control = database.control;

  // 0. A retry must be the same request: check before writing anything.
  const { existing, firstAdmin } = await checkProvisionRetry(services, input);

  // 1. Record the tenant, not yet live, with the location it is to have.
  // A retry keeps the server the first attempt recorded.
  const { server } = existing
    ? { server: existing.databaseServer }
    : await choosePlacement(services, input.isolation, {
        region: input.region,
        tier: input.tier,
        fallbackRegion: services.region,
      });
  const planned: PlannedLocation = planLocation(input.id, input.isolation, server);
  const storageBucket = existing?.storageBucket ?? storage.bucketFor(input.id, input.isolation);
  const config = defaultConfig(input.name, input.tier);
  await control.tenant.upsert({
    where: { id: input.id },
    create: {
      id: input.id,
      name: input.name,
      ...plannedColumns(planned),
      region: input.region,
      tier: input.tier,
      releaseChannel: input.releaseChannel,
      status: TenantStatus.PROVISIONING,
      storageBucket,
      config: { create: configColumns(config) },
    },
    update: {},
  });
  await control.tenantConfig.upsert({
    where: { tenantId: input.id },
    create: { tenantId: input.id, ...configColumns(config) },
    update: {},
  });
  // The first entry of the config's history: what a restore can go back to.
  await control.tenantConfigVersion.upsert({
    where: { tenantId_version: { tenantId: input.id, version: 1 } },
    create: {
      tenantId: input.id,
      version: 1,
      ...configColumns(config),
      actorId,
      action: "provision",
    },
    update: {},
  });

  // 2. The location: a schema or a database, migrated. The shared tables
  // exist already, and their version is the control plane's.
  await createRecordedLocation(services, input.id, planned);

  // 3. Storage under the tenant's prefix.
  await storage.ensureTenant(storageBucket, input.id);

  // 4. Tenant data, through the same handle requests use.
  const adminUser = await seedTenantData(database, input, firstAdmin?.user ?? null, actorId);

  // 5. Go live.
  const created =
    existing?.status !== TenantStatus.ACTIVE && existing?.status !== TenantStatus.SUSPENDED;
  if (created) {
    await control.tenant.update({ where: { id: input.id }, data: { status: TenantStatus.ACTIVE } });
  }
  await recordPlatformAudit(control, {
    actorId,
    action: created ? "tenant.provision" : "tenant.provision.retry",
    tenantId: input.id,
    detail: {
      isolation: input.isolation,
      region: input.region,
      tier: input.tier,
      ...(server ? { server } : {}),
    },
  });

  services.logger
    .child({ tenantId: input.id })
    .info({ isolation: input.isolation, region: input.region, created }, "tenant provisioned");

  return { tenantId: input.id, adminUser, created };
}

/** Built-in roles and the first admin, in one transaction. */
async function seedTenantData(
  database: Database,
  input: CheckedRequest,
  recordedAdmin: UserRecord | null,
  actorId: string,
): Promise<UserRecord> {
  return database.forTenant(input.id).transaction(async (tx) => {
    for (const name of Object.keys(BUILT_IN_ROLES)) {
      await tx.role.upsert({
        where: { tenantId_name: { tenantId: input.id, name } },
        create: {
          tenantId: input.id,
          name,
          permissions: [...(BUILT_IN_ROLES[name] ?? [])],
          builtIn: true,
        },
        update: {},
      });
    }
    const found =
      recordedAdmin ??
      (await tx.user.findUnique({
        where: { tenantId_email: { tenantId: input.id, email: input.adminEmail } },
        select: { id: true, email: true, name: true },
      }));
    const user =
      found ??
      (await tx.user.create({
        data: { tenantId: input.id, id: newId(), email: input.adminEmail, name: "Administrator" },
        select: { id: true, email: true, name: true },
      }));
    await tx.roleAssignment.upsert({
      where: {
        tenantId_userId_roleName: {
          tenantId: input.id,
          userId: user.id,
          roleName: TENANT_ADMIN_ROLE,
        },
      },
      create: { tenantId: input.id, userId: user.id, roleName: TENANT_ADMIN_ROLE },
      update: {},
    });
    // This row is what names the first admin to every later call.
    if (!recordedAdmin) {
      await recordTenantAudit(tx, input.id, {
        actorId,
        action: "tenant.provision",
        target: input.id,
        detail: { adminUserId: user.id },
      });
    }
    return user;
  });
}
