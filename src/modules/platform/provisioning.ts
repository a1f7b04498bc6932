import { recordPlatformAudit, recordTenantAudit } from "../../audit/index.js";
import type { Database } from "../../data/index.js";
import { badInput } from "../../errors/index.js";
import { Isolation, TenantStatus } from "../../generated/prisma/enums.js";
import { BUILT_IN_ROLES, TENANT_ADMIN_ROLE } from "../../rbac/permissions.js";
import { isTenantId } from "../../tenancy/index.js";
import { defaultConfig, type TenantConfigDocuments } from "../../tenancy/tenant-config.js";
import type { Prisma } from "../../generated/prisma/client.js";
import { newId } from "../common/ids.js";
import { requireEmail, requireText } from "../common/validate.js";
import type { UserRecord } from "../identity/identity-types.js";
import { withProvisioningLock, type ControlWriter } from "./provisioning-lock.js";

export interface ProvisionRequest {
  id: string;
  name: string;
  isolation: Isolation;
  region?: string | null;
  tier?: string | null;
  adminEmail: string;
}

export interface ProvisionOutcome {
  tenantId: string;
  adminUser: UserRecord;
  /** False when the tenant was already fully provisioned (a retry). */
  created: boolean;
}

/** The config documents as Prisma JSON columns. */
function toConfigRow(config: TenantConfigDocuments) {
  return {
    settings: config.settings as Prisma.InputJsonObject,
    branding: config.branding as Prisma.InputJsonObject,
    limits: config.limits as Prisma.InputJsonObject,
    billing: config.billing as Prisma.InputJsonObject,
  };
}

const LABEL_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

function checkRequest(request: ProvisionRequest) {
  const id = request.id.trim();
  if (!isTenantId(id)) {
    throw badInput(
      "id",
      "id must be 3-40 characters: lowercase letters, digits and '-', starting with a letter and not ending with '-'.",
    );
  }
  const region = request.region?.trim() || "local";
  const tier = request.tier?.trim() || "standard";
  if (!LABEL_PATTERN.test(region))
    throw badInput("region", "region must be a short lowercase label.");
  if (!LABEL_PATTERN.test(tier)) throw badInput("tier", "tier must be a short lowercase label.");

  return {
    id,
    name: requireText("name", request.name, 120),
    adminEmail: requireEmail("adminEmail", request.adminEmail),
    isolation: request.isolation,
    region,
    tier,
  };
}

/** Refuses tiers this gateway cannot host yet. */
function checkIsolation(isolation: Isolation): void {
  switch (isolation) {
    case Isolation.SHARED:
      return;
    case Isolation.SCHEMA:
    case Isolation.DATABASE:
      throw badInput(
        "isolation",
        `Isolation ${isolation} is not available on this gateway yet; use SHARED.`,
      );
    default: {
      const unknown: never = isolation;
      throw badInput("isolation", `Unknown isolation ${String(unknown)}.`);
    }
  }
}

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

/**
 * Creates a tenant with its config, built-in roles and first tenant admin.
 * Every step is an upsert, so a retry of the same request after a failure
 * part-way completes the job, and a retry after success changes nothing. A
 * call that differs from the tenant as it stands (name, isolation, region,
 * or another first admin) is refused: provisioning never grants
 * `tenant_admin` to anyone but the first admin. Calls for one tenant id run
 * one at a time (see {@link withProvisioningLock}). The tenant turns ACTIVE
 * only after its data exists, so it is never half-live.
 */
export async function provisionTenant(
  database: Database,
  request: ProvisionRequest,
  actorId: string,
): Promise<ProvisionOutcome> {
  const input = checkRequest(request);
  checkIsolation(input.isolation);

  return withProvisioningLock(database, input.id, (control) =>
    provisionChecked(database, control, input, actorId),
  );
}

async function provisionChecked(
  database: Database,
  control: ControlWriter,
  input: ReturnType<typeof checkRequest>,
  actorId: string,
): Promise<ProvisionOutcome> {
  // 0. A retry must be the same request: check before writing anything.
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
  // Read even without a tenant row: a run that failed after the tenant
  // data was written may have recorded the first admin already.
  const firstAdmin = await findFirstAdmin(database, input.id);
  if (firstAdmin && firstAdmin.user?.email !== input.adminEmail) {
    throw badInput(
      "adminEmail",
      `Tenant "${input.id}" already has its first administrator; a retry must send the same adminEmail.`,
    );
  }

  // 1. Register the tenant, not yet live, with its default config.
  const config = defaultConfig(input.name, input.tier);
  await control.tenant.upsert({
    where: { id: input.id },
    create: {
      id: input.id,
      name: input.name,
      isolation: input.isolation,
      region: input.region,
      tier: input.tier,
      status: TenantStatus.PROVISIONING,
      config: { create: toConfigRow(config) },
    },
    update: {},
  });
  await control.tenantConfig.upsert({
    where: { tenantId: input.id },
    create: { tenantId: input.id, ...toConfigRow(config) },
    update: {},
  });

  // 2. Tenant data: built-in roles and the first admin, in one transaction.
  const tenantDb = database.forTenant(input.id);
  const adminUser = await tenantDb.transaction(async (tx) => {
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
      firstAdmin?.user ??
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
    if (!firstAdmin) {
      await recordTenantAudit(tx, input.id, {
        actorId,
        action: "tenant.provision",
        target: input.id,
        detail: { adminUserId: user.id },
      });
    }
    return user;
  });

  // 3. Go live.
  const created =
    existing?.status !== TenantStatus.ACTIVE && existing?.status !== TenantStatus.SUSPENDED;
  if (created) {
    await control.tenant.update({ where: { id: input.id }, data: { status: TenantStatus.ACTIVE } });
  }
  await recordPlatformAudit(control, {
    actorId,
    action: created ? "tenant.provision" : "tenant.provision.retry",
    tenantId: input.id,
    detail: { isolation: input.isolation, region: input.region, tier: input.tier },
  });

  return { tenantId: input.id, adminUser, created };
}
