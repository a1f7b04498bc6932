import type { Database } from "../data/index.js";
import { Isolation, MembershipRole } from "../generated/prisma/enums.js";
import type { LifecycleServices } from "../lifecycle/lifecycle-services.js";
import { provisionTenant } from "../lifecycle/provision.js";
import { newId } from "../modules/common/ids.js";
import { MEMBER_ROLE } from "../rbac/permissions.js";

const SEED_ACTOR = "system:seed";

/** A seeded user a developer may want a token for. */
export interface SeededUser {
  tenantId: string;
  userId: string;
  email: string;
  roles: string[];
}

interface DemoTenant {
  id: string;
  name: string;
  isolation: Isolation;
  admin: string;
  people: { name: string; email: string; roles: string[] }[];
  organizations: { name: string; members: [email: string, role: MembershipRole][] }[];
  challenges: string[];
}

const DEMO_TENANTS: DemoTenant[] = [
  {
    id: "acme",
    name: "Acme Corporation",
    isolation: Isolation.SHARED,
    admin: "alice@acme.test",
    people: [
      { name: "Bob Member", email: "bob@acme.test", roles: [MEMBER_ROLE] },
      { name: "Carol Participant", email: "carol@acme.test", roles: [MEMBER_ROLE, "participant"] },
      { name: "Dan Analyst", email: "dan@acme.test", roles: [MEMBER_ROLE, "participant"] },
    ],
    organizations: [
      {
        name: "Research",
        members: [
          ["alice@acme.test", MembershipRole.OWNER],
          ["bob@acme.test", MembershipRole.ADMIN],
          ["carol@acme.test", MembershipRole.MEMBER],
        ],
      },
      {
        name: "Platform",
        members: [
          ["dan@acme.test", MembershipRole.OWNER],
          ["carol@acme.test", MembershipRole.MEMBER],
        ],
      },
    ],
    challenges: ["Image classification", "Churn forecast", "Route optimisation"],
  },
  {
    id: "globex",
    name: "Globex Industries",
    // A schema of its own, so the embedded default shows two tiers side by side.
    isolation: Isolation.SCHEMA,
    admin: "hank@globex.test",
    people: [
      { name: "Marge Member", email: "marge@globex.test", roles: [MEMBER_ROLE] },
      { name: "Otto Participant", email: "otto@globex.test", roles: [MEMBER_ROLE, "participant"] },
    ],
    organizations: [
      {
        name: "Operations",
        members: [
          ["hank@globex.test", MembershipRole.OWNER],
          ["otto@globex.test", MembershipRole.MEMBER],
        ],
      },
    ],
    challenges: ["Energy demand", "Anomaly detection"],
  },
];

/** Seeds the demo tenants once; a tenant that exists is left as it is. */
export async function seedDemoTenants(lifecycle: LifecycleServices): Promise<SeededUser[]> {
  const { database } = lifecycle;
  const seeded: SeededUser[] = [];
  for (const demo of DEMO_TENANTS) {
    const existing = await database.control.tenant.findUnique({ where: { id: demo.id } });
    if (!existing) await seedTenant(lifecycle, demo);
    seeded.push(...(await listSeededUsers(database, demo.id)));
  }

  return seeded;
}

async function seedTenant(lifecycle: LifecycleServices, demo: DemoTenant): Promise<void> {
  const { database } = lifecycle;
  const { adminUser } = await provisionTenant(
    lifecycle,
    { id: demo.id, name: demo.name, isolation: demo.isolation, adminEmail: demo.admin },
    SEED_ACTOR,
  );
  const tenantId = demo.id;
  const db = database.forTenant(tenantId);

  await db.transaction(async (tx) => {
    await tx.user.update({
      where: { tenantId_id: { tenantId, id: adminUser.id } },
      data: { name: `${demo.admin.split("@")[0]?.replace(/^./, (c) => c.toUpperCase())} Admin` },
    });
    await tx.role.create({
      data: { tenantId, name: "participant", permissions: ["challenges:submit"] },
    });

    const ids = new Map<string, string>([[demo.admin, adminUser.id]]);
    for (const person of demo.people) {
      const id = newId();
      ids.set(person.email, id);
      await tx.user.create({ data: { tenantId, id, email: person.email, name: person.name } });
      await tx.roleAssignment.createMany({
        data: person.roles.map((roleName) => ({ tenantId, userId: id, roleName })),
      });
    }

    for (const org of demo.organizations) {
      const organizationId = newId();
      await tx.organization.create({ data: { tenantId, id: organizationId, name: org.name } });
      await tx.membership.createMany({
        data: org.members.map(([email, role]) => ({
          tenantId,
          organizationId,
          userId: ids.get(email) as string,
          role,
        })),
      });
    }

    await tx.dashboard.createMany({
      data: [
        {
          tenantId,
          id: newId(),
          title: "Team overview",
          ownerId: adminUser.id,
          modules: ["overview", "activity"],
        },
        {
          tenantId,
          id: newId(),
          title: "Leaderboards",
          ownerId: adminUser.id,
          modules: ["leaderboard", "submissions"],
        },
      ],
    });

    const authors = [...ids.values()];
    for (const [index, title] of demo.challenges.entries()) {
      const challengeId = newId();
      await tx.challenge.create({ data: { tenantId, id: challengeId, title } });
      await tx.submission.createMany({
        data: authors.map((authorId, n) => ({
          tenantId,
          id: newId(),
          challengeId,
          authorId,
          score: Math.round((50 + ((index * 17 + n * 23) % 50)) * 10) / 10,
        })),
      });
    }
  });
}

async function listSeededUsers(database: Database, tenantId: string): Promise<SeededUser[]> {
  const rows = await database.forTenant(tenantId).user.findMany({
    where: { tenantId },
    select: { id: true, email: true, roles: { select: { roleName: true } } },
    orderBy: { id: "asc" },
  });

  return rows.map((row) => ({
    tenantId,
    userId: row.id,
    email: row.email,
    roles: row.roles.map((r) => r.roleName),
  }));
}
