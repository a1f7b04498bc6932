import { actorOf, recordTenantAudit } from "../../audit/index.js";
import type { Principal } from "../../auth/index.js";
import type { TenantScope } from "../../context/gateway-context.js";
import { isUniqueViolation } from "../../data/index.js";
import { badInput, forbidden, notFound } from "../../errors/index.js";
import { holdsAll, isTenantAdmin, type Access } from "../../rbac/access.js";
import {
  BUILT_IN_ROLES,
  MEMBER_ROLE,
  TENANT_ADMIN_ROLE,
  isPermission,
  isRoleName,
} from "../../rbac/permissions.js";
import { newId } from "../common/ids.js";
import { requireEmail, requireList, requireText } from "../common/validate.js";
import { IDENTITY_SERVICE } from "./identity-loaders.js";
import type { CreateRoleInput, CreateUserInput, UserRecord } from "./identity-types.js";

interface Caller {
  principal: Principal | null;
  access: Access;
}

/**
 * Refuses to hand out roles beyond the caller's own reach. `tenant_admin`
 * holds every permission, including ones no role names yet, so only a
 * tenant admin (or staff) may give it.
 */
async function checkGrantable(
  scope: TenantScope,
  caller: Caller,
  field: string,
  roles: string[],
): Promise<void> {
  const granted = await permissionsOfRoles(scope, field, roles);
  const grantsAdmin = roles.includes(TENANT_ADMIN_ROLE);
  const callerIsAdmin = caller.access.isGlobalAdmin || isTenantAdmin(caller.access);
  if ((grantsAdmin && !callerIsAdmin) || !holdsAll(caller.access, granted)) {
    throw forbidden("You cannot give a role with permissions you do not hold.");
  }
}

/** The refusal of a role name the tenant has no role by; names the argument. */
function unknownRole(field: string, name: string) {
  return badInput(field, `There is no role "${name.slice(0, 40)}" in this tenant.`);
}

/**
 * Permissions a set of role names grants, read from the tenant's roles.
 * A name the tenant has no role by is the caller's mistake in `field`.
 */
async function permissionsOfRoles(
  scope: TenantScope,
  field: string,
  names: string[],
): Promise<string[]> {
  const rows = await scope.db.role.findMany({
    where: { tenantId: scope.tenant.id, name: { in: names } },
    select: { name: true, permissions: true, builtIn: true },
  });
  const missing = names.find((name) => !rows.some((row) => row.name === name));
  if (missing !== undefined) throw unknownRole(field, missing);

  return rows.flatMap((row) =>
    row.builtIn ? [...(BUILT_IN_ROLES[row.name] ?? [])] : row.permissions,
  );
}

/** Creates a tenant user with roles the caller is allowed to hand out. */
export async function createUser(
  scope: TenantScope,
  caller: Caller,
  input: CreateUserInput,
): Promise<UserRecord> {
  const email = requireEmail("email", input.email);
  const name = requireText("name", input.name);
  const roles = requireList("roles", input.roles ?? [MEMBER_ROLE], isRoleName, 20);

  await checkGrantable(scope, caller, "roles", roles);

  const tenantId = scope.tenant.id;
  const user = { id: newId(), email, name };
  try {
    await scope.db.transaction(async (tx) => {
      await tx.user.create({ data: { tenantId, ...user } });
      await tx.roleAssignment.createMany({
        data: roles.map((roleName) => ({ tenantId, userId: user.id, roleName })),
      });
      await recordTenantAudit(tx, tenantId, {
        actorId: actorOf(caller.principal),
        action: "user.create",
        target: user.id,
        detail: { roles },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw badInput("email", "A user with this email already exists.");
    throw error;
  }

  return user;
}

/** Creates a tenant-defined role from `resource:action` permissions. */
export async function createRole(
  scope: TenantScope,
  caller: Caller,
  input: CreateRoleInput,
): Promise<{ name: string; permissions: string[] }> {
  const name = input.name.trim();
  if (!isRoleName(name)) {
    throw badInput(
      "name",
      "name must be 2-40 characters: lowercase letters, digits, '_' or '-', starting with a letter.",
    );
  }
  if (Object.hasOwn(BUILT_IN_ROLES, name)) {
    throw badInput("name", `"${name}" is a built-in role and cannot be redefined.`);
  }
  const permissions = requireList("permissions", input.permissions, isPermission, 100).sort();
  if (permissions.length === 0)
    throw badInput("permissions", "A role needs at least one permission.");
  if (!holdsAll(caller.access, permissions)) {
    throw forbidden("You cannot create a role with permissions you do not hold.");
  }

  const tenantId = scope.tenant.id;
  try {
    await scope.db.transaction(async (tx) => {
      await tx.role.create({ data: { tenantId, name, permissions } });
      await recordTenantAudit(tx, tenantId, {
        actorId: actorOf(caller.principal),
        action: "role.create",
        target: name,
        detail: { permissions },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw badInput("name", `A role named "${name}" already exists.`);
    throw error;
  }

  return { name, permissions };
}

/**
 * Gives a user a role; assigning a role twice changes nothing, and neither
 * do concurrent identical calls: each one succeeds and the assignment
 * exists once. Every call is audited.
 */
export async function assignRole(
  scope: TenantScope,
  caller: Caller,
  userId: string,
  role: string,
): Promise<UserRecord> {
  const user = await scope.loaders.user.load(userId);
  if (!user) throw notFound("User");
  if (!isRoleName(role)) throw unknownRole("role", role);

  await checkGrantable(scope, caller, "role", [role]);

  const tenantId = scope.tenant.id;
  await scope.db.transaction(async (tx) => {
    // INSERT … ON CONFLICT DO NOTHING: Prisma's upsert with nothing to
    // update reads, then inserts, so two calls that both read nothing
    // would collide on the primary key.
    await tx.roleAssignment.createMany({
      data: [{ tenantId, userId, roleName: role }],
      skipDuplicates: true,
    });
    await recordTenantAudit(tx, tenantId, {
      actorId: actorOf(caller.principal),
      action: "role.assign",
      target: userId,
      detail: { role },
    });
  });
  await scope.cache.delete(IDENTITY_SERVICE, "user-access", [userId]);
  scope.loaders.userAccess.clear(userId);

  return user;
}

/** One page of the tenant's users, in creation order. */
export async function listUsers(scope: TenantScope, take: number, afterId: string | undefined) {
  return scope.db.user.findMany({
    where: { tenantId: scope.tenant.id, ...(afterId ? { id: { gt: afterId } } : {}) },
    select: { id: true, email: true, name: true },
    orderBy: { id: "asc" },
    take: take + 1,
  });
}
