import type { TenantClient } from "../../data/index.js";
import { createEntityLoader, type LoaderSource } from "../../loaders/index.js";
import { BUILT_IN_ROLES } from "../../rbac/permissions.js";
import type { UserAccessRecord, UserRecord } from "./identity-types.js";

/** Cache service name for identity entities: `ogc:{tenant}:identity:…`. */
export const IDENTITY_SERVICE = "identity";

export function createIdentityLoaders(db: TenantClient, source: LoaderSource) {
  return {
    user: createEntityLoader<UserRecord | null>(source, {
      service: IDENTITY_SERVICE,
      entity: "user",
      missing: null,
      fetch: async (ids) => {
        const rows = await db.user.findMany({
          where: { tenantId: db.tenantId, id: { in: [...ids] } },
          select: { id: true, email: true, name: true },
        });
        return new Map(rows.map((row) => [row.id, row]));
      },
    }),

    userAccess: createEntityLoader<UserAccessRecord>(source, {
      service: IDENTITY_SERVICE,
      entity: "user-access",
      missing: { roles: [], permissions: [] },
      fetch: async (userIds) => {
        const rows = await db.roleAssignment.findMany({
          where: { tenantId: db.tenantId, userId: { in: [...userIds] } },
          select: {
            userId: true,
            role: { select: { name: true, permissions: true, builtIn: true } },
          },
          orderBy: { roleName: "asc" },
        });
        const byUser = new Map<string, UserAccessRecord>();
        for (const { userId, role } of rows) {
          const access = byUser.get(userId) ?? { roles: [], permissions: [] };
          // Built-in roles take their permissions from code, so an upgrade
          // that adds a permission reaches every tenant at once.
          const granted = role.builtIn ? (BUILT_IN_ROLES[role.name] ?? []) : role.permissions;
          access.roles.push(role.name);
          access.permissions = [...new Set([...access.permissions, ...granted])].sort();
          byUser.set(userId, access);
        }
        return byUser;
      },
    }),
  };
}

export type IdentityLoaders = ReturnType<typeof createIdentityLoaders>;
