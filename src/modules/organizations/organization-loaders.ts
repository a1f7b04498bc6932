import type { TenantClient } from "../../data/index.js";
import { Prisma } from "../../generated/prisma/client.js";
import { createEntityLoader, type LoaderSource } from "../../loaders/index.js";
import { groupBy } from "../common/group-by.js";
import { NESTED_LIST_MAX } from "../common/nested-list.js";
import type {
  MemberRecord,
  MembershipRole,
  OrganizationRecord,
  UserMembershipRecord,
} from "./organization-types.js";

/** Cache service name: `ogc:{tenant}:organizations:…`. */
export const ORGANIZATIONS_SERVICE = "organizations";

interface MembershipRow {
  organizationId: string;
  userId: string;
  role: MembershipRole;
}

/**
 * The first NESTED_LIST_MAX memberships of each organization (or each user)
 * named, earliest first, in one window query, so that a huge organization
 * never comes back whole. `side` is one of two fixed column names, never
 * client input.
 */
async function firstMemberships(
  db: TenantClient,
  side: "organizationId" | "userId",
  ids: readonly string[],
): Promise<Map<string, MembershipRow[]>> {
  const column = Prisma.raw(`"${side}"`);
  const rows = await db.$queryRaw<MembershipRow[]>`
    SELECT "organizationId", "userId", role::text AS role FROM (
      SELECT "organizationId", "userId", role, "createdAt",
             row_number() OVER (PARTITION BY ${column} ORDER BY "createdAt", "organizationId", "userId") AS position
      FROM "Membership"
      WHERE "tenantId" = ${db.tenantId} AND ${column} = ANY(${[...ids]})
    ) ranked
    WHERE position <= ${NESTED_LIST_MAX}
    ORDER BY ${column}, "createdAt", "organizationId", "userId"`;

  return groupBy(rows, (row) => row[side]);
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
        const groups = await firstMemberships(db, "organizationId", organizationIds);
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
        const groups = await firstMemberships(db, "userId", userIds);
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
