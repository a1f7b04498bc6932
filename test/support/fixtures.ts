import { Isolation, MembershipRole } from "../../src/generated/prisma/enums.js";
import type { LifecycleServices } from "../../src/lifecycle/lifecycle-services.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import { newId } from "../../src/modules/common/ids.js";

/** The ids a test needs to act as every kind of tenant user. */
export interface TenantFixture {
  tenantId: string;
  users: {
    admin: string;
    member: string;
    participant: string;
    orgOwner: string;
    orgAdmin: string;
    orgMember: string;
    analyst: string;
    /** A user with no role at all. */
    nobody: string;
  };
  organizationId: string;
  otherOrganizationId: string;
  dashboardId: string;
  challengeIds: string[];
  submissionIds: string[];
}

export interface FixtureOptions {
  challenges?: number;
  submissionsPerChallenge?: number;
  /** The tier to provision in (default SHARED). */
  isolation?: Isolation;
  /** Region for DATABASE tenants (picks the server). */
  region?: string;
  /** Release channel (default stable). */
  releaseChannel?: string;
}

/**
 * Provisions a tenant (shared unless told otherwise) and fills it with one
 * user per role, two organizations, a dashboard, challenges and submissions.
 */
export async function seedTenantFixture(
  lifecycle: LifecycleServices,
  tenantId: string,
  options: FixtureOptions = {},
): Promise<TenantFixture> {
  const { adminUser } = await provisionTenant(
    lifecycle,
    {
      id: tenantId,
      name: `Tenant ${tenantId}`,
      isolation: options.isolation ?? Isolation.SHARED,
      region: options.region,
      releaseChannel: options.releaseChannel,
      adminEmail: `admin@${tenantId}.test`,
    },
    "test:fixture",
  );
  const db = lifecycle.database.forTenant(tenantId);
  const make = (name: string) => ({
    tenantId,
    id: newId(),
    email: `${name}@${tenantId}.test`,
    name,
  });
  const people = {
    member: make("member"),
    participant: make("participant"),
    orgOwner: make("owner"),
    orgAdmin: make("orgadmin"),
    orgMember: make("orgmember"),
    analyst: make("analyst"),
    nobody: make("nobody"),
  };
  const organizationId = newId();
  const otherOrganizationId = newId();
  const dashboardId = newId();
  const challengeIds = Array.from({ length: options.challenges ?? 3 }, () => newId());
  const submissionIds: string[] = [];

  await db.transaction(async (tx) => {
    await tx.user.createMany({ data: Object.values(people) });
    await tx.role.create({
      data: { tenantId, name: "participant", permissions: ["challenges:submit"] },
    });
    await tx.role.create({
      data: { tenantId, name: "analyst", permissions: ["users:read", "challenges:read"] },
    });
    const assign = (userId: string, roleName: string) => ({ tenantId, userId, roleName });
    await tx.roleAssignment.createMany({
      data: [
        assign(people.member.id, "member"),
        assign(people.participant.id, "member"),
        assign(people.participant.id, "participant"),
        assign(people.orgOwner.id, "member"),
        assign(people.orgAdmin.id, "member"),
        assign(people.orgMember.id, "member"),
        assign(people.analyst.id, "analyst"),
      ],
    });
    await tx.organization.createMany({
      data: [
        { tenantId, id: organizationId, name: "Research" },
        { tenantId, id: otherOrganizationId, name: "Sales" },
      ],
    });
    await tx.membership.createMany({
      data: [
        { tenantId, organizationId, userId: people.orgOwner.id, role: MembershipRole.OWNER },
        { tenantId, organizationId, userId: people.orgAdmin.id, role: MembershipRole.ADMIN },
        { tenantId, organizationId, userId: people.orgMember.id, role: MembershipRole.MEMBER },
        {
          tenantId,
          organizationId: otherOrganizationId,
          userId: people.member.id,
          role: MembershipRole.OWNER,
        },
      ],
    });
    await tx.dashboard.create({
      data: {
        tenantId,
        id: dashboardId,
        title: "Overview",
        ownerId: adminUser.id,
        modules: ["overview"],
      },
    });
    await tx.challenge.createMany({
      data: challengeIds.map((id, n) => ({ tenantId, id, title: `Challenge ${n + 1}` })),
    });
    const authors = [adminUser.id, ...Object.values(people).map((p) => p.id)];
    const submissions = challengeIds.flatMap((challengeId, c) =>
      Array.from({ length: options.submissionsPerChallenge ?? 2 }, (_, s) => {
        const id = newId();
        submissionIds.push(id);
        return {
          tenantId,
          id,
          challengeId,
          authorId: authors[(c + s) % authors.length] as string,
          score: c * 10 + s,
        };
      }),
    );
    for (let i = 0; i < submissions.length; i += 5_000) {
      await tx.submission.createMany({ data: submissions.slice(i, i + 5_000) });
    }
  });

  return {
    tenantId,
    users: {
      admin: adminUser.id,
      ...Object.fromEntries(Object.entries(people).map(([k, v]) => [k, v.id])),
    } as TenantFixture["users"],
    organizationId,
    otherOrganizationId,
    dashboardId,
    challengeIds,
    submissionIds,
  };
}
