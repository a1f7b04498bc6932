import type { TenantClient } from "../../data/index.js";
import { createEntityLoader, type LoaderSource } from "../../loaders/index.js";
import { NESTED_LIST_MAX } from "../common/nested-list.js";
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

// Memberships are read with a window query so that each organization (or
// user) brings at most NESTED_LIST_MAX rows, however large it grows.
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
        const rows = await db.$queryRaw<(MemberRecord & { organizationId: string })[]>`
          SELECT "organizationId", "userId", role::text AS role FROM (
            SELECT "organizationId", "userId", role, "createdAt",
                   row_number() OVER (PARTITION BY "organizationId" ORDER BY "createdAt", "userId") AS position
            FROM "Membership"
            WHERE "tenantId" = ${db.tenantId} AND "organizationId" = ANY(${[...organizationIds]})
          ) ranked
          WHERE position <= ${NESTED_LIST_MAX}
          ORDER BY "organizationId", "createdAt", "userId"`;
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
        const rows = await db.$queryRaw<(UserMembershipRecord & { userId: string })[]>`
          SELECT "organizationId", "userId", role::text AS role FROM (
            SELECT "organizationId", "userId", role, "createdAt",
                   row_number() OVER (PARTITION BY "userId" ORDER BY "createdAt", "organizationId") AS position
            FROM "Membership"
            WHERE "tenantId" = ${db.tenantId} AND "userId" = ANY(${[...userIds]})
          ) ranked
          WHERE position <= ${NESTED_LIST_MAX}
          ORDER BY "userId", "createdAt", "organizationId"`;
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
