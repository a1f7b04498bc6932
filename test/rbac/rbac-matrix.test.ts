import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import { newId } from "../../src/modules/common/ids.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  TEST_JWT_SECRET,
  codesOf,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";

/** Who calls: how the request names its tenant and which token it sends. */
const CALLERS = [
  "anonymous",
  "nobody",
  "member",
  "participant",
  "analyst",
  "org-owner",
  "org-admin",
  "org-member",
  "tenant-admin",
  "global-admin-with-tenant",
  "global-admin-without-tenant",
] as const;
type Caller = (typeof CALLERS)[number];

/**
 * What a caller gets from one root field: `allowed` (no error, a value),
 * `null` (no error, no value) or the one error code on that field.
 */
type Outcome = "allowed" | "null" | "UNAUTHENTICATED" | "FORBIDDEN" | "TENANT_REQUIRED";

/** One outcome per caller, in the order of {@link CALLERS}. */
type OutcomesOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: Outcome };
type Row = OutcomesOf<typeof CALLERS>;

interface Operation {
  /** The root field, which is also the key of `data`. */
  field: string;
  document: string;
  variables?: (caller: Caller) => Record<string, unknown>;
  expected: Row;
  /** Extra checks on an allowed answer. */
  check?: (value: Record<string, unknown>, caller: Caller) => void;
}

// Rows list their columns in the order of CALLERS: anonymous, nobody, member,
// participant, analyst, org owner, org admin, org member, tenant admin,
// global admin with a tenant, global admin without one.
const A = "allowed" as const;
const U = "UNAUTHENTICATED" as const;
const F = "FORBIDDEN" as const;
const R = "TENANT_REQUIRED" as const;
const N = "null" as const;

/** Reads with `:read` permissions: member-like callers yes, nobody no. */
const READ_MEMBERS: Row = [U, F, A, A, A, A, A, A, A, A, R];
/** Reads the analyst's custom role does not include. */
const READ_NOT_ANALYST: Row = [U, F, A, A, F, A, A, A, A, A, R];
/** Tenant writes: tenant admin and global admin in a tenant. */
const TENANT_WRITE: Row = [U, F, F, F, F, F, F, F, A, A, R];
/** Writes that must be owned by a tenant user (not staff). */
const TENANT_USER_WRITE: Row = [U, F, F, F, F, F, F, F, A, F, R];
/** Platform operations: global admin, with or without a tenant. */
const PLATFORM: Row = [U, F, F, F, F, F, F, F, F, A, A];

/**
 * The matrix runs for a tenant of every tier, side by side in one gateway;
 * the DATABASE tenant lives on the second PostgreSQL server.
 */
const TIERS = [
  { isolation: Isolation.SHARED, region: undefined },
  { isolation: Isolation.SCHEMA, region: undefined },
  { isolation: Isolation.DATABASE, region: "eu" },
];

let gw: TestGateway;
beforeAll(async () => {
  // Rate limits off: the matrix sends far more anonymous requests from one
  // address than a minute's share allows; test/rate-limits covers them.
  gw = await startTestGateway("rbac-matrix", { env: { RATE_LIMITS: "false" } });
});
afterAll(() => gw?.stop());

describe.each(TIERS)("the RBAC matrix of every contract operation ($isolation tenant)", (tier) => {
  let fx: TenantFixture;
  let victimTenantId: string;
  /** Moved by the staff callers, one tenant each: a second move of one is refused. */
  const movedTenantIds = new Map<Caller, string>();
  let targetUserId: string;
  /** A finished job of the matrix's tenant, for the job status rows. */
  let fxJobId: string;
  const tokens = new Map<Caller, string>();

  function ask<T = Record<string, unknown>>(
    caller: Caller,
    document: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>> {
    const named = caller !== "global-admin-without-tenant";
    return gw.request<T>(document, {
      tenant: named ? fx.tenantId : undefined,
      token: tokens.get(caller),
      variables,
    });
  }

  beforeAll(async () => {
    fx = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("matrix"), tier);
    victimTenantId = uniqueTenantId("victim");
    await provisionTenant(
      gw.gateway.lifecycle,
      {
        id: victimTenantId,
        name: "Victim",
        isolation: Isolation.SHARED,
        adminEmail: "a@victim.test",
      },
      "test:fixture",
    );

    for (const caller of ["global-admin-with-tenant", "global-admin-without-tenant"] as const) {
      const id = uniqueTenantId("moved");
      await provisionTenant(
        gw.gateway.lifecycle,
        { id, name: "Moved", isolation: Isolation.SHARED, adminEmail: "a@moved.test" },
        "test:fixture",
      );
      movedTenantIds.set(caller, id);
    }

    const users: Partial<Record<Caller, string>> = {
      nobody: fx.users.nobody,
      member: fx.users.member,
      participant: fx.users.participant,
      analyst: fx.users.analyst,
      "org-owner": fx.users.orgOwner,
      "org-admin": fx.users.orgAdmin,
      "org-member": fx.users.orgMember,
      "tenant-admin": fx.users.admin,
    };
    for (const [caller, userId] of Object.entries(users)) {
      tokens.set(caller as Caller, await gw.tokenFor(fx.tenantId, userId));
    }
    const staff = await gw.globalAdminToken();
    tokens.set("global-admin-with-tenant", staff);
    tokens.set("global-admin-without-tenant", staff);

    // Role and membership changes of the matrix land on this user, never on
    // a caller, so no row changes the next row's caller.
    const created = await ask<{ createUser: { id: string } }>(
      "tenant-admin",
      "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
      { input: { email: "target@matrix.test", name: "Target", roles: ["member"] } },
    );
    expect(created.body.errors).toBeUndefined();
    targetUserId = created.body.data!.createUser.id;
    fxJobId = newId();
    await gw.gateway.database.control.backgroundJob.create({
      data: {
        id: fxJobId,
        tenantId: fx.tenantId,
        kind: "EXPORT",
        status: "SUCCEEDED",
        requestedBy: "test:fixture",
      },
    });
  });
  const OPERATIONS: Operation[] = [
    // ------------------------------------------------------------- queries
    {
      field: "me",
      document: "{ me { id } }",
      expected: [N, A, A, A, A, A, A, A, A, N, R],
      check: (me, caller) => expect(me.id).toBe(userOf(caller)),
    },
    {
      field: "tenant",
      document: "{ tenant { id name } }",
      expected: [A, A, A, A, A, A, A, A, A, A, R],
      check: (tenant) => expect(tenant.id).toBe(fx.tenantId),
    },
    {
      field: "users",
      document: "{ users(first: 50) { edges { node { id email } } } }",
      expected: READ_MEMBERS,
      check: (users) => expect((users.edges as unknown[]).length).toBeGreaterThanOrEqual(8),
    },
    {
      field: "user",
      document: "query($id: ID!) { user(id: $id) { id email } }",
      variables: () => ({ id: fx.users.member }),
      expected: READ_MEMBERS,
      check: (user) => expect(user.id).toBe(fx.users.member),
    },
    {
      field: "organizations",
      document: "{ organizations { id name } }",
      expected: READ_NOT_ANALYST,
      check: (orgs) =>
        expect(Object.values(orgs).map((o) => (o as { name: string }).name)).toContain("Research"),
    },
    {
      field: "dashboards",
      document: "{ dashboards { id title } }",
      expected: READ_NOT_ANALYST,
      check: (list) =>
        expect(Object.values(list).map((d) => (d as { id: string }).id)).toContain(fx.dashboardId),
    },
    {
      field: "dashboard",
      document: "query($id: ID!) { dashboard(id: $id) { id title } }",
      variables: () => ({ id: fx.dashboardId }),
      expected: READ_NOT_ANALYST,
      check: (dashboard) => expect(dashboard.title).toBe("Overview"),
    },
    {
      field: "challenges",
      document: "{ challenges(first: 10) { edges { node { id title } } } }",
      expected: READ_MEMBERS,
      check: (page) => expect(page.edges).toHaveLength(3),
    },
    {
      field: "adminTenants",
      document: "{ adminTenants { id status } }",
      expected: PLATFORM,
      check: (list) =>
        expect(Object.values(list).map((t) => (t as { id: string }).id)).toEqual(
          expect.arrayContaining([fx.tenantId, victimTenantId]),
        ),
    },
    {
      field: "adminErrorClusters",
      document: "{ adminErrorClusters(first: 5) { fingerprint code tenantCount } }",
      expected: PLATFORM,
      check: (list) => {
        const clusters = Object.values(list) as { fingerprint: string }[];
        expect(clusters.length).toBeLessThanOrEqual(5);
        for (const cluster of clusters) expect(cluster.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      },
    },
    {
      field: "adminTraffic",
      document:
        "query($ids: [ID!]) { adminTraffic(hours: 1, tenantIds: $ids) { tenantId points { at } } }",
      variables: () => ({ ids: [fx.tenantId] }),
      expected: PLATFORM,
      check: (list) => {
        const [series, ...more] = Object.values(list) as { tenantId: string; points: unknown[] }[];
        expect(series?.tenantId).toBe(fx.tenantId);
        expect(more).toEqual([]);
      },
    },
    {
      field: "tenantLogs",
      document: "query($id: ID!) { tenantLogs(id: $id, first: 5) { time level message } }",
      variables: () => ({ id: fx.tenantId }),
      expected: PLATFORM,
      check: (lines) => expect(Array.isArray(lines)).toBe(true),
    },
    {
      field: "job",
      document: "query($id: ID!) { job(id: $id) { id tenantId status } }",
      variables: () => ({ id: fxJobId }),
      // Staff see any job; a tenant's config writers see its jobs.
      expected: [U, F, F, F, F, F, F, F, A, A, A],
      check: (job) =>
        expect(job).toEqual({ id: fxJobId, tenantId: fx.tenantId, status: "SUCCEEDED" }),
    },
    {
      field: "jobs",
      document: "query($id: ID) { jobs(tenantId: $id, first: 100) { id tenantId } }",
      variables: () => ({ id: fx.tenantId }),
      expected: PLATFORM,
      check: (list) => {
        const jobs = Object.values(list) as { id: string; tenantId: string }[];
        expect(jobs.map((job) => job.id)).toContain(fxJobId);
        expect(jobs.every((job) => job.tenantId === fx.tenantId)).toBe(true);
      },
    },
    {
      field: "tenantJobs",
      document: "{ tenantJobs(first: 100) { id tenantId } }",
      expected: TENANT_WRITE,
      check: (list) => {
        const jobs = Object.values(list) as { id: string; tenantId: string }[];
        expect(jobs.map((job) => job.id)).toContain(fxJobId);
        expect(jobs.every((job) => job.tenantId === fx.tenantId)).toBe(true);
      },
    },

    // ----------------------------------------------------------- mutations
    {
      field: "createUser",
      document: "mutation($input: CreateUserInput!) { createUser(input: $input) { id email } }",
      variables: (caller) => ({
        input: { email: `made-by-${caller}@matrix.test`, name: `By ${caller}`, roles: ["member"] },
      }),
      expected: TENANT_WRITE,
      check: (user, caller) => expect(user.email).toBe(`made-by-${caller}@matrix.test`),
    },
    {
      field: "createRole",
      document:
        "mutation($input: CreateRoleInput!) { createRole(input: $input) { name permissions } }",
      variables: (caller) => ({ input: { name: `r-${caller}`, permissions: ["users:read"] } }),
      expected: TENANT_WRITE,
      check: (role, caller) =>
        expect(role).toEqual({ name: `r-${caller}`, permissions: ["users:read"] }),
    },
    {
      field: "assignRole",
      document: 'mutation($userId: ID!) { assignRole(userId: $userId, role: "member") { id } }',
      variables: () => ({ userId: targetUserId }),
      expected: TENANT_WRITE,
      check: (user) => expect(user.id).toBe(targetUserId),
    },
    {
      field: "createOrganization",
      document:
        "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id name } }",
      variables: (caller) => ({ input: { name: `Org by ${caller}` } }),
      expected: TENANT_WRITE,
      check: (org, caller) => expect(org.name).toBe(`Org by ${caller}`),
    },
    {
      field: "addMember",
      document: `mutation($org: ID!, $user: ID!) {
        addMember(organizationId: $org, userId: $user, role: MEMBER) { role user { id } }
      }`,
      variables: () => ({ org: fx.organizationId, user: targetUserId }),
      // The fixture's `member` owns the other organization, not this one.
      expected: [U, F, F, F, F, A, A, F, A, A, R],
      check: (membership) =>
        expect(membership).toEqual({ role: "MEMBER", user: { id: targetUserId } }),
    },
    {
      field: "createDashboard",
      document:
        "mutation($input: CreateDashboardInput!) { createDashboard(input: $input) { id title } }",
      variables: (caller) => ({ input: { title: `Board of ${caller}`, modules: ["overview"] } }),
      expected: TENANT_USER_WRITE,
      check: (board, caller) => expect(board.title).toBe(`Board of ${caller}`),
    },
    {
      field: "createChallenge",
      document:
        "mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { id title } }",
      variables: (caller) => ({ input: { title: `Challenge of ${caller}` } }),
      expected: TENANT_WRITE,
      check: (challenge, caller) => expect(challenge.title).toBe(`Challenge of ${caller}`),
    },
    {
      field: "submitToChallenge",
      document:
        "mutation($id: ID!) { submitToChallenge(challengeId: $id, score: 42.5) { id score } }",
      variables: () => ({ id: fx.challengeIds[0] }),
      // `participant` holds challenges:submit through the participant role.
      expected: [U, F, F, A, F, F, F, F, A, F, R],
      check: (submission) => expect(submission.score).toBe(42.5),
    },
    {
      field: "updateTenantConfig",
      document:
        "mutation($input: UpdateTenantConfigInput!) { updateTenantConfig(input: $input) { id branding } }",
      variables: (caller) => ({ input: { branding: { displayName: `Set by ${caller}` } } }),
      expected: TENANT_WRITE,
      check: (tenant, caller) =>
        expect(tenant.branding).toEqual({ displayName: `Set by ${caller}` }),
    },
    {
      field: "provisionTenant",
      document: `mutation($input: ProvisionTenantInput!) {
        provisionTenant(input: $input) { tenant { id } adminUser { id email roles } }
      }`,
      variables: (caller) => {
        const id = uniqueTenantId("prov");
        return {
          input: { id, name: `By ${caller}`, isolation: "SHARED", adminEmail: `admin@${id}.test` },
        };
      },
      expected: PLATFORM,
      check: (result) =>
        expect((result.adminUser as { roles: string[] }).roles).toEqual(["tenant_admin"]),
    },
    {
      field: "exportTenantLogs",
      document: "mutation($id: ID!) { exportTenantLogs(id: $id) { tenantId bytes sha256 } }",
      variables: () => ({ id: fx.tenantId }),
      expected: PLATFORM,
      check: (copy) => {
        expect(copy.tenantId).toBe(fx.tenantId);
        expect(copy.sha256).toMatch(/^[0-9a-f]{64}$/);
      },
    },
    {
      field: "eraseTenantLogs",
      document: "mutation($id: ID!) { eraseTenantLogs(id: $id) }",
      variables: () => ({ id: fx.tenantId }),
      expected: PLATFORM,
      check: (bytes) => expect(bytes).toBeGreaterThanOrEqual(0),
    },
    {
      field: "suspendTenant",
      document: "mutation($id: ID!) { suspendTenant(id: $id) { id status } }",
      variables: () => ({ id: victimTenantId }),
      expected: PLATFORM,
      check: (summary) => expect(summary).toEqual({ id: victimTenantId, status: "SUSPENDED" }),
    },
    {
      field: "resumeTenant",
      document: "mutation($id: ID!) { resumeTenant(id: $id) { id status } }",
      variables: () => ({ id: victimTenantId }),
      expected: PLATFORM,
      check: (summary) => expect(summary).toEqual({ id: victimTenantId, status: "ACTIVE" }),
    },
    {
      field: "startProvisionTenant",
      document: `mutation($input: ProvisionTenantInput!) {
        startProvisionTenant(input: $input) { tenantId kind status }
      }`,
      variables: (caller) => {
        const id = uniqueTenantId("queued");
        return {
          input: { id, name: `By ${caller}`, isolation: "SHARED", adminEmail: `admin@${id}.test` },
        };
      },
      expected: PLATFORM,
      check: (job) => expect(job).toMatchObject({ kind: "PROVISION", status: "QUEUED" }),
    },
    {
      field: "startMoveTenant",
      document:
        "mutation($id: ID!) { startMoveTenant(id: $id, isolation: SCHEMA) { tenantId kind } }",
      variables: (caller) => ({ id: movedTenantIds.get(caller) ?? victimTenantId }),
      expected: PLATFORM,
      check: (job, caller) =>
        expect(job).toEqual({ tenantId: movedTenantIds.get(caller), kind: "MOVE" }),
    },
    {
      field: "startExportTenant",
      document: "mutation($id: ID!) { startExportTenant(id: $id) { tenantId kind } }",
      variables: () => ({ id: fx.tenantId }),
      expected: PLATFORM,
      check: (job) => expect(job).toEqual({ tenantId: fx.tenantId, kind: "EXPORT" }),
    },
    {
      field: "startMigrateTenants",
      document: "mutation($id: ID) { startMigrateTenants(tenantId: $id) { tenantId kind } }",
      variables: () => ({ id: fx.tenantId }),
      expected: PLATFORM,
      check: (jobs) =>
        expect(Object.values(jobs)).toEqual([{ tenantId: fx.tenantId, kind: "MIGRATE" }]),
    },
  ];

  function userOf(caller: Caller): string | undefined {
    const ids: Partial<Record<Caller, string>> = {
      nobody: fx.users.nobody,
      member: fx.users.member,
      participant: fx.users.participant,
      analyst: fx.users.analyst,
      "org-owner": fx.users.orgOwner,
      "org-admin": fx.users.orgAdmin,
      "org-member": fx.users.orgMember,
      "tenant-admin": fx.users.admin,
    };
    return ids[caller];
  }

  it("lists every Query and Mutation field of the contract exactly once", () => {
    expect(OPERATIONS.map((op) => op.field).sort()).toEqual(
      [
        "me",
        "tenant",
        "users",
        "user",
        "organizations",
        "dashboards",
        "dashboard",
        "challenges",
        "adminTenants",
        "tenantLogs",
        "exportTenantLogs",
        "eraseTenantLogs",
        "adminErrorClusters",
        "adminTraffic",
        "createUser",
        "createRole",
        "assignRole",
        "createOrganization",
        "addMember",
        "createDashboard",
        "createChallenge",
        "submitToChallenge",
        "updateTenantConfig",
        "provisionTenant",
        "suspendTenant",
        "resumeTenant",
        "job",
        "jobs",
        "tenantJobs",
        "startProvisionTenant",
        "startMoveTenant",
        "startExportTenant",
        "startMigrateTenants",
      ].sort(),
    );
  });

  for (const op of OPERATIONS) {
    describe(`${op.field}`, () => {
      CALLERS.forEach((caller, column) => {
        const expected = op.expected[column]!;
        it(`answers ${expected} to ${caller}`, async () => {
          const res = await ask(caller, op.document, op.variables?.(caller));
          const value = (res.body.data as Record<string, unknown> | null | undefined)?.[op.field];

          if (expected === "allowed" || expected === "null") {
            expect(res.body.errors).toBeUndefined();
            if (expected === "null") {
              expect(value).toBeNull();
            } else {
              // A value, though maybe a falsy one: eraseTenantLogs answers 0 bytes.
              expect(value ?? null).not.toBeNull();
              op.check?.(value as Record<string, unknown>, caller);
            }
            return;
          }
          expect(codesOf(res)).toEqual([expected]);
          expect(res.body.errors?.[0]?.path).toEqual([op.field]);
          expect(value ?? null).toBeNull();
        });
      });
    });
  }

  describe("custom roles", () => {
    it("lets a tenant admin create a role with a custom permission and hand it out", async () => {
      const made = await ask(
        "tenant-admin",
        'mutation { createRole(input: { name: "exporter", permissions: ["reports:export"] }) { name permissions } }',
      );
      expect(made.body.errors).toBeUndefined();
      expect(made.body.data).toEqual({
        createRole: { name: "exporter", permissions: ["reports:export"] },
      });

      const assigned = await ask(
        "tenant-admin",
        'mutation($id: ID!) { assignRole(userId: $id, role: "exporter") { id } }',
        { id: targetUserId },
      );
      expect(assigned.body.errors).toBeUndefined();
      const token = await gw.tokenFor(fx.tenantId, targetUserId);
      const me = await gw.request<{ me: { roles: string[]; permissions: string[] } }>(
        "{ me { roles permissions } }",
        { token },
      );
      expect(me.body.data?.me.roles).toContain("exporter");
      expect(me.body.data?.me.permissions).toContain("reports:export");
    });

    it("refuses createRole to a member, and writes nothing", async () => {
      const refused = await ask(
        "member",
        'mutation { createRole(input: { name: "members-own", permissions: ["users:read"] }) { name } }',
      );
      expect(codesOf(refused)).toEqual(["FORBIDDEN"]);

      // The name is still free: the refused call created nothing.
      const made = await ask(
        "tenant-admin",
        'mutation { createRole(input: { name: "members-own", permissions: ["users:read"] }) { name } }',
      );
      expect(made.body.errors).toBeUndefined();
      expect(made.body.data).toEqual({ createRole: { name: "members-own" } });
    });
  });

  describe("privilege escalation through roles:write", () => {
    let keeperToken: string;
    let deputyToken: string;
    let bystanderId: string;

    /** A tenant user made by the tenant admin, holding only `roles`. */
    async function userWithRoles(email: string, roles: string[]): Promise<string> {
      const res = await ask<{ createUser: { id: string } }>(
        "tenant-admin",
        "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
        { input: { email, name: email, roles } },
      );
      expect(res.body.errors).toBeUndefined();
      return res.body.data!.createUser.id;
    }

    async function createRole(token: string, name: string, permissions: string[]) {
      return gw.request(
        "mutation($input: CreateRoleInput!) { createRole(input: $input) { name permissions } }",
        { token, variables: { input: { name, permissions } } },
      );
    }

    async function assignRole(token: string, userId: string, role: string) {
      return gw.request(
        "mutation($u: ID!, $r: String!) { assignRole(userId: $u, role: $r) { id } }",
        {
          token,
          variables: { u: userId, r: role },
        },
      );
    }

    beforeAll(async () => {
      const admin = tokens.get("tenant-admin")!;
      for (const [name, permissions] of [
        ["role-keeper", ["roles:write", "users:read"]],
        [
          "deputy",
          [
            "users:read",
            "users:write",
            "roles:write",
            "organizations:read",
            "organizations:write",
            "dashboards:read",
            "dashboards:write",
            "challenges:read",
            "challenges:write",
            "challenges:submit",
            "config:write",
            "storage:write",
          ],
        ],
      ] as const) {
        const res = await createRole(admin, name, [...permissions]);
        expect(res.body.errors).toBeUndefined();
      }
      keeperToken = await gw.tokenFor(
        fx.tenantId,
        await userWithRoles("keeper@matrix.test", ["role-keeper"]),
      );
      deputyToken = await gw.tokenFor(
        fx.tenantId,
        await userWithRoles("deputy@matrix.test", ["deputy"]),
      );
      bystanderId = await userWithRoles("bystander@matrix.test", ["member"]);
    });

    it("lets the holder create and assign a role made of permissions they hold", async () => {
      const made = await createRole(keeperToken, "user-reader", ["users:read"]);
      expect(made.body.errors).toBeUndefined();
      expect(made.body.data).toEqual({
        createRole: { name: "user-reader", permissions: ["users:read"] },
      });

      const assigned = await assignRole(keeperToken, bystanderId, "user-reader");
      expect(assigned.body.errors).toBeUndefined();
      expect(assigned.body.data).toEqual({ assignRole: { id: bystanderId } });
    });

    it("refuses to create a role with a permission the holder lacks", async () => {
      expect(codesOf(await createRole(keeperToken, "sneaky", ["config:write"]))).toEqual([
        "FORBIDDEN",
      ]);
      expect(
        codesOf(await createRole(keeperToken, "sneaky", ["users:read", "users:write"])),
      ).toEqual(["FORBIDDEN"]);
      expect(codesOf(await createRole(keeperToken, "sneaky", ["reports:export"]))).toEqual([
        "FORBIDDEN",
      ]);
    });

    it("refuses to assign a role whose permissions the holder lacks, even to themselves", async () => {
      const keeperId = (
        await gw.request<{ me: { id: string } }>("{ me { id } }", { token: keeperToken })
      ).body.data!.me.id;

      expect(codesOf(await assignRole(keeperToken, bystanderId, "tenant_admin"))).toEqual([
        "FORBIDDEN",
      ]);
      expect(codesOf(await assignRole(keeperToken, bystanderId, "analyst"))).toEqual(["FORBIDDEN"]);
      expect(codesOf(await assignRole(keeperToken, keeperId, "member"))).toEqual(["FORBIDDEN"]);

      const me = await gw.request<{ me: { roles: string[] } }>("{ me { roles } }", {
        token: keeperToken,
      });
      expect(me.body.data?.me.roles).toEqual(["role-keeper"]);
    });

    it("refuses tenant_admin to a holder of every built-in permission, since tenant_admin also holds custom ones", async () => {
      // tenant_admin holds every tenant permission, defined or not, so it
      // grants `reports:export`, which this caller does not hold.
      const res = await assignRole(deputyToken, bystanderId, "tenant_admin");

      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    });
  });

  describe("organization management", () => {
    let freshIds: string[];

    beforeAll(async () => {
      freshIds = [];
      for (const n of [1, 2, 3, 4]) {
        const res = await ask<{ createUser: { id: string } }>(
          "tenant-admin",
          "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }",
          { input: { email: `fresh${n}@matrix.test`, name: `Fresh ${n}` } },
        );
        expect(res.body.errors).toBeUndefined();
        freshIds.push(res.body.data!.createUser.id);
      }
    });

    const addMember = (caller: Caller, org: string, user: string, role: string) =>
      ask(
        caller,
        `mutation($o: ID!, $u: ID!) { addMember(organizationId: $o, userId: $u, role: ${role}) { role user { id } } }`,
        {
          o: org,
          u: user,
        },
      );

    it("lets an org admin add a MEMBER and an ADMIN to their own organization", async () => {
      const asMember = await addMember("org-admin", fx.organizationId, freshIds[0]!, "MEMBER");
      expect(asMember.body.errors).toBeUndefined();
      expect(asMember.body.data).toEqual({
        addMember: { role: "MEMBER", user: { id: freshIds[0] } },
      });

      const asAdmin = await addMember("org-admin", fx.organizationId, freshIds[1]!, "ADMIN");
      expect(asAdmin.body.errors).toBeUndefined();
      expect(asAdmin.body.data).toEqual({
        addMember: { role: "ADMIN", user: { id: freshIds[1] } },
      });
    });

    it("refuses an org admin who adds an OWNER", async () => {
      const res = await addMember("org-admin", fx.organizationId, freshIds[2]!, "OWNER");

      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    });

    it("refuses an org admin who adds a member to another organization", async () => {
      const res = await addMember("org-admin", fx.otherOrganizationId, freshIds[2]!, "MEMBER");

      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    });

    it("refuses an org member who adds anyone", async () => {
      const res = await addMember("org-member", fx.organizationId, freshIds[2]!, "MEMBER");

      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    });

    it("lets an org owner add another OWNER", async () => {
      const res = await addMember("org-owner", fx.organizationId, freshIds[3]!, "OWNER");

      expect(res.body.errors).toBeUndefined();
      expect(res.body.data).toEqual({ addMember: { role: "OWNER", user: { id: freshIds[3] } } });
    });

    it("refuses an org admin who demotes an owner through addMember", async () => {
      // freshIds[3] became an OWNER above; an ADMIN may not take that away.
      const res = await addMember("org-admin", fx.organizationId, freshIds[3]!, "MEMBER");
      expect(codesOf(res)).toEqual(["FORBIDDEN"]);

      const orgs = await ask<{
        organizations: { id: string; members: { role: string; user: { id: string } }[] }[];
      }>("tenant-admin", "{ organizations { id members { role user { id } } } }");
      const research = orgs.body.data?.organizations.find((o) => o.id === fx.organizationId);
      expect(research?.members.find((m) => m.user.id === freshIds[3])?.role).toBe("OWNER");
    });
  });

  describe("calls without a token", () => {
    it("answers me with null", async () => {
      const res = await gw.request("{ me { id } }", { tenant: fx.tenantId });

      expect(res.body).toEqual({ data: { me: null } });
    });

    it("answers tenant with the tenant's branding", async () => {
      const res = await gw.request<{ tenant: { id: string; name: string; branding: unknown } }>(
        "{ tenant { id name branding } }",
        { tenant: fx.tenantId },
      );

      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.tenant.id).toBe(fx.tenantId);
      expect(res.body.data?.tenant.name).toBe(`Tenant ${fx.tenantId}`);
    });
  });

  describe("roles in the token", () => {
    let forged: string;

    beforeAll(async () => {
      forged = await issueDevelopmentToken(TEST_JWT_SECRET, {
        sub: fx.users.nobody,
        tid: fx.tenantId,
        roles: ["tenant_admin"],
      });
    });

    it("grant no tenant role: the user's roles come from the tenant's data", async () => {
      const res = await gw.request<{ me: { roles: string[]; permissions: string[] } }>(
        "{ me { roles permissions } }",
        { token: forged },
      );

      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.me).toEqual({ roles: [], permissions: [] });
    });

    it("open no read that the user's tenant roles do not allow", async () => {
      const res = await gw.request("{ users { edges { node { id } } } }", { token: forged });

      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    });

    it("open no write that the user's tenant roles do not allow", async () => {
      const res = await gw.request(
        'mutation { createRole(input: { name: "forged", permissions: ["users:read"] }) { name } }',
        { token: forged },
      );

      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    });
  });
});
