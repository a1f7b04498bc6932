import type { TenantClient } from "../../data/index.js";
import { createEntityLoader, type LoaderSource } from "../../loaders/index.js";
import type {
  MemberRecord,
  OrganizationRecord,
  UserMembershipRecord,
} from "./organization-types.js";

/** Cache service name: `ogc:{tenant}:organizations:…`. */
export const ORGANIZATIONS_SERVICE = "organizations";

function groupBy<T, K extends string>(rows: T[], key: (row: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const row of rows) {
    const list = groups.get(key(row)) ?? [];
    list.push(row);
    groups.set(key(row), list);
  }

  return groups;
}

export function createOrganizationLoaders(db: TenantClient, source: LoaderSource) {
  return {
    organization: createEntityLoader<OrganizationRecord | null>(source, {
      service: ORGANIZATIONS_SERVICE,
      entity: "organization",
      missing: null,
      fetch: async (ids) => {
        const rows = await db.organization.findMany({
          where: { tenantId: db.tenantId, id: { in: [...ids] } },
          select: { id: true, name: true },
        });
        return new Map(rows.map((row) => [row.id, row]));
      },
    }),

    organizationMembers: createEntityLoader<MemberRecord[]>(source, {
      service: ORGANIZATIONS_SERVICE,
      entity: "organization-members",
      missing: [],
      fetch: async (organizationIds) => {
        const rows = await db.membership.findMany({
          where: { tenantId: db.tenantId, organizationId: { in: [...organizationIds] } },
          select: { organizationId: true, userId: true, role: true },
          orderBy: { createdAt: "asc" },
        });
        const groups = groupBy(rows, (row) => row.organizationId);
        return new Map(
          [...groups].map(([id, list]) => [id, list.map(({ userId, role }) => ({ userId, role }))]),
        );
      },
    }),

    userMemberships: createEntityLoader<UserMembershipRecord[]>(source, {
      service: ORGANIZATIONS_SERVICE,
      entity: "user-memberships",
      missing: [],
      fetch: async (userIds) => {
        const rows = await db.membership.findMany({
          where: { tenantId: db.tenantId, userId: { in: [...userIds] } },
          select: { organizationId: true, userId: true, role: true },
          orderBy: { createdAt: "asc" },
        });
        const groups = groupBy(rows, (row) => row.userId);
        return new Map(
          [...groups].map(([id, list]) => [
            id,
            list.map(({ organizationId, role }) => ({ organizationId, role })),
          ]),
        );
      },
    }),
  };
}

export type OrganizationLoaders = ReturnType<typeof createOrganizationLoaders>;
