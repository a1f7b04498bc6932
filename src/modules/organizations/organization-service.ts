import { actorOf, recordTenantAudit } from "../../audit/index.js";
import type { Principal } from "../../auth/index.js";
import type { TenantScope } from "../../context/gateway-context.js";
import { isUniqueViolation } from "../../data/index.js";
import { badInput, forbidden, notFound } from "../../errors/index.js";
import { hasPermission, type Access } from "../../rbac/access.js";
import { newId } from "../common/ids.js";
import { requireText } from "../common/validate.js";
import { ORGANIZATIONS_SERVICE } from "./organization-loaders.js";
import {
  MembershipRole,
  type CreateOrganizationInput,
  type OrganizationRecord,
} from "./organization-types.js";

interface Caller {
  principal: Principal | null;
  access: Access;
}

/** Every organization of the tenant, by name. */
export async function listOrganizations(scope: TenantScope): Promise<OrganizationRecord[]> {
  return scope.db.organization.findMany({
    where: { tenantId: scope.tenant.id },
    select: { id: true, name: true },
    orderBy: { name: "asc" },
    take: 500,
  });
}

/** Creates an organization; a tenant user who creates one becomes its owner. */
export async function createOrganization(
  scope: TenantScope,
  caller: Caller,
  input: CreateOrganizationInput,
): Promise<OrganizationRecord> {
  const name = requireText("name", input.name, 120);
  const tenantId = scope.tenant.id;
  const organization = { id: newId(), name };
  const ownerId = caller.access.userId;

  try {
    await scope.db.transaction(async (tx) => {
      await tx.organization.create({ data: { tenantId, ...organization } });
      if (ownerId) {
        await tx.membership.create({
          data: {
            tenantId,
            organizationId: organization.id,
            userId: ownerId,
            role: MembershipRole.OWNER,
          },
        });
      }
      await recordTenantAudit(tx, tenantId, {
        actorId: actorOf(caller.principal),
        action: "organization.create",
        target: organization.id,
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw badInput("name", `An organization named "${name}" already exists.`);
    }
    throw error;
  }
  if (ownerId) {
    await scope.cache.delete(ORGANIZATIONS_SERVICE, "user-memberships", [ownerId]);
    scope.loaders.userMemberships.clear(ownerId);
  }

  return organization;
}

/**
 * The caller's role in an organization, or null. Tenant-wide
 * `organizations:write` counts as owner everywhere.
 */
export async function managingRole(
  scope: TenantScope,
  access: Access,
  organizationId: string,
): Promise<MembershipRole | null> {
  if (hasPermission(access, "organizations:write")) return MembershipRole.OWNER;
  if (!access.userId) return null;
  const memberships = await scope.loaders.userMemberships.load(access.userId);

  return memberships.find((m) => m.organizationId === organizationId)?.role ?? null;
}

/**
 * Adds a user to an organization, or changes their role there. Concurrent
 * calls for one membership all succeed; the last one's role stays.
 */
export async function addMember(
  scope: TenantScope,
  caller: Caller,
  organizationId: string,
  userId: string,
  role: MembershipRole,
) {
  const [organization, user] = await Promise.all([
    scope.loaders.organization.load(organizationId),
    scope.loaders.user.load(userId),
  ]);
  if (!organization) throw notFound("Organization");
  if (!user) throw notFound("User");

  const tenantId = scope.tenant.id;
  await scope.db.transaction(async (tx) => {
    // Admins manage members; making someone an owner, or changing an
    // owner's role, takes an owner. Both roles are read under a row lock,
    // in user id order, so a concurrent change of either cannot slip
    // between this check and the write.
    const ids = [...new Set([userId, caller.access.userId ?? userId])].sort();
    const locked = await tx.$queryRaw<{ userId: string; role: MembershipRole }[]>`
      SELECT "userId", role::text AS role FROM "Membership"
      WHERE "tenantId" = ${tenantId} AND "organizationId" = ${organizationId}
        AND "userId" = ANY(${ids})
      ORDER BY "userId"
      FOR UPDATE`;
    const roleOf = (id: string | null) => locked.find((row) => row.userId === id)?.role ?? null;
    const mine = hasPermission(caller.access, "organizations:write")
      ? MembershipRole.OWNER
      : roleOf(caller.access.userId);
    const current = roleOf(userId);
    if (mine !== MembershipRole.OWNER && mine !== MembershipRole.ADMIN) {
      throw forbidden("Only owners and admins of the organization manage its members.");
    }
    if (
      (role === MembershipRole.OWNER || current === MembershipRole.OWNER) &&
      mine !== MembershipRole.OWNER
    ) {
      throw forbidden("Only an owner of the organization can add or change an owner.");
    }

    // INSERT … ON CONFLICT DO NOTHING, then set the role of a row that was
    // there (or that a concurrent call inserted a moment ago). Prisma's
    // upsert is only atomic when it happens to compile to a native upsert,
    // and two calls that both read nothing would collide on the key.
    const { count } = await tx.membership.createMany({
      data: [{ tenantId, organizationId, userId, role }],
      skipDuplicates: true,
    });
    if (count === 0) {
      await tx.membership.update({
        where: { tenantId_organizationId_userId: { tenantId, organizationId, userId } },
        data: { role },
      });
    }
    await recordTenantAudit(tx, tenantId, {
      actorId: actorOf(caller.principal),
      action: "organization.member.add",
      target: organizationId,
      detail: { userId, role },
    });
  });
  await Promise.all([
    scope.cache.delete(ORGANIZATIONS_SERVICE, "organization-members", [organizationId]),
    scope.cache.delete(ORGANIZATIONS_SERVICE, "user-memberships", [userId]),
  ]);
  scope.loaders.organizationMembers.clear(organizationId);
  scope.loaders.userMemberships.clear(userId);

  return { userId, role };
}
