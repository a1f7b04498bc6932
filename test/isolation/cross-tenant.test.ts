import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { newId } from "../../src/modules/common/ids.js";
import { buildBareSchema } from "../../src/server/schema.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { createTierReader, type TierReader } from "../support/tier-reader.js";
import {
  codesOf,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";

/** Tables whose rows belong to one tenant, with the column that says which. */
const TENANT_TABLES = {
  Tenant: "id",
  TenantConfig: "tenantId",
  User: "tenantId",
  Role: "tenantId",
  RoleAssignment: "tenantId",
  Organization: "tenantId",
  Membership: "tenantId",
  Dashboard: "tenantId",
  Challenge: "tenantId",
  Submission: "tenantId",
  AuditLog: "tenantId",
  PlatformAuditLog: "tenantId",
  TenantConfigVersion: "tenantId",
  TenantKey: "tenantId",
  FeatureFlagOverride: "tenantId",
  StoredFile: "tenantId",
  UploadLinkClaim: "tenantId",
  // What the gateway counted for B: A's requests and errors must never land here.
  TenantTraffic: "tenantId",
  TenantUsagePeriod: "tenantId",
  ErrorClusterTenant: "tenantId",
} as const;

type Table = keyof typeof TENANT_TABLES;

/** Tables of the control plane: they live in the control database, whatever the tier. */
const CONTROL_TABLES = new Set<Table>([
  "Tenant",
  "TenantConfig",
  "PlatformAuditLog",
  "TenantConfigVersion",
  "TenantKey",
  "FeatureFlagOverride",
  "StoredFile",
  "UploadLinkClaim",
  "TenantTraffic",
  "TenantUsagePeriod",
  "ErrorClusterTenant",
]);

/** Tenant A and tenant B in every pairing of tiers, all in one gateway. */
const PAIRS: { a: Isolation; b: Isolation; region?: string }[] = [
  { a: Isolation.SHARED, b: Isolation.SHARED },
  { a: Isolation.SHARED, b: Isolation.SCHEMA },
  { a: Isolation.SCHEMA, b: Isolation.DATABASE },
  { a: Isolation.DATABASE, b: Isolation.SHARED },
];

/** Where a tier's DATABASE tenants go: the second cluster, another "region". */
const DATABASE_REGION = "eu";

/** Rows of B that exist in B only, so that A naming them proves nothing leaks. */
const B_ONLY = {
  grantedRole: "b_secret_role",
  spareRole: "b_only_role",
  organization: "B Only Org",
  file: "b-only/secret.txt",
} as const;

type Data = Record<string, unknown>;

/** What every probe may use: both tenants, the callers of A, and the database. */
interface World {
  a: TenantFixture;
  b: TenantFixture;
  /** Sends as A's tenant_admin with X-Tenant-ID A. */
  asAdmin<T = Data>(query: string, variables?: Data): Promise<GraphQLResponse<T>>;
  /** Sends as A's participant (holds challenges:submit) with X-Tenant-ID A. */
  asParticipant<T = Data>(query: string, variables?: Data): Promise<GraphQLResponse<T>>;
  /** Sends as A's organization owner (no tenant-wide organizations:write). */
  asOrgOwner<T = Data>(query: string, variables?: Data): Promise<GraphQLResponse<T>>;
  /** Ids of a table's rows of a tenant, read as superuser. */
  idsOf(table: Table, tenantId: string): Promise<string[]>;
  /** The tenant owning the row with this id, read as superuser; null when none. */
  ownerOf(table: Table, id: string): Promise<string | null>;
}

type Probe = (world: World) => Promise<void>;

function expectClean(res: GraphQLResponse<unknown>): void {
  expect(res.body.errors).toBeUndefined();
}

function expectRefused(res: GraphQLResponse<unknown>, code: string): void {
  expect(codesOf(res)).toEqual([code]);
  expect(res.body.data ?? null).toBeNull();
}

/** The message with the client's own input taken out, to compare two refusals. */
function withoutInput(res: GraphQLResponse<unknown>, input: string): string | undefined {
  return res.body.errors?.[0]?.message.replaceAll(input, "<input>");
}

const sorted = (ids: Iterable<string>) => [...ids].sort();

/** Writes a finished job record of the tenant, as a background job leaves one. */
async function recordJob(tenantId: string): Promise<string> {
  const id = newId();
  await gw.gateway.database.control.backgroundJob.create({
    data: { id, tenantId, kind: "EXPORT", status: "SUCCEEDED", requestedBy: "test:probe" },
  });

  return id;
}

const MISSING_ID = "00000000-0000-7000-8000-000000000000";

/**
 * One probe per Query field: each names B's records while acting in A and
 * checks that nothing of B comes back.
 */
const QUERY_PROBES: Record<string, Probe> = {
  me: async ({ a, asAdmin }) => {
    const res = await asAdmin<{ me: { id: string } }>("{ me { id } }");

    expectClean(res);
    expect(res.body.data?.me.id).toBe(a.users.admin);
  },

  tenant: async ({ a, asAdmin }) => {
    const res = await asAdmin<{ tenant: { id: string; name: string } }>("{ tenant { id name } }");

    expectClean(res);
    expect(res.body.data?.tenant).toEqual({ id: a.tenantId, name: `Tenant ${a.tenantId}` });
  },

  users: async ({ a, asAdmin, idsOf }) => {
    const res = await asAdmin<{ users: { edges: { node: { id: string } }[] } }>(
      "{ users(first: 100) { edges { node { id } } } }",
    );

    expectClean(res);
    const ids = res.body.data?.users.edges.map((edge) => edge.node.id) ?? [];
    expect(sorted(ids)).toEqual(sorted(await idsOf("User", a.tenantId)));
  },

  user: async ({ a, b, asAdmin }) => {
    const query = "query ($id: ID!) { user(id: $id) { id name email } }";
    for (const id of Object.values(b.users)) {
      const res = await asAdmin(query, { id });
      expectClean(res);
      expect(res.body.data).toEqual({ user: null });
    }

    const own = await asAdmin<{ user: { id: string } }>(query, { id: a.users.member });
    expect(own.body.data?.user.id).toBe(a.users.member);
  },

  organizations: async ({ a, asAdmin, idsOf }) => {
    const res = await asAdmin<{
      organizations: { id: string; members: { user: { id: string } }[] }[];
    }>("{ organizations { id name members { role user { id } } } }");

    expectClean(res);
    const organizations = res.body.data?.organizations ?? [];
    expect(sorted(organizations.map((o) => o.id))).toEqual(
      sorted(await idsOf("Organization", a.tenantId)),
    );
    const aUsers = new Set(await idsOf("User", a.tenantId));
    const members = organizations.flatMap((o) => o.members.map((m) => m.user.id));
    expect(members.length).toBeGreaterThan(0);
    expect(members.filter((id) => !aUsers.has(id))).toEqual([]);
  },

  dashboards: async ({ a, asAdmin, idsOf }) => {
    const res = await asAdmin<{ dashboards: { id: string; owner: { id: string } }[] }>(
      "{ dashboards { id owner { id } } }",
    );

    expectClean(res);
    const dashboards = res.body.data?.dashboards ?? [];
    expect(sorted(dashboards.map((d) => d.id))).toEqual(
      sorted(await idsOf("Dashboard", a.tenantId)),
    );
    expect(dashboards.every((d) => Object.values(a.users).includes(d.owner.id))).toBe(true);
  },

  dashboard: async ({ a, b, asAdmin }) => {
    const query = "query ($id: ID!) { dashboard(id: $id) { id title owner { id } } }";
    const foreign = await asAdmin(query, { id: b.dashboardId });

    expectClean(foreign);
    expect(foreign.body.data).toEqual({ dashboard: null });
    const own = await asAdmin<{ dashboard: { id: string } }>(query, { id: a.dashboardId });
    expect(own.body.data?.dashboard.id).toBe(a.dashboardId);
  },

  challenges: async ({ a, asAdmin, idsOf }) => {
    const res = await asAdmin<{
      challenges: {
        edges: { node: { id: string; submissions: { id: string; author: { id: string } }[] } }[];
      };
    }>("{ challenges(first: 100) { edges { node { id submissions { id author { id } } } } } }");

    expectClean(res);
    const nodes = res.body.data?.challenges.edges.map((edge) => edge.node) ?? [];
    expect(sorted(nodes.map((n) => n.id))).toEqual(sorted(await idsOf("Challenge", a.tenantId)));
    const submissions = nodes.flatMap((n) => n.submissions);
    expect(sorted(submissions.map((s) => s.id))).toEqual(
      sorted(await idsOf("Submission", a.tenantId)),
    );
    const aUsers = new Set(await idsOf("User", a.tenantId));
    expect(submissions.filter((s) => !aUsers.has(s.author.id))).toEqual([]);
  },

  adminTenants: async ({ asAdmin }) => {
    expectRefused(await asAdmin("{ adminTenants { id name usage } }"), "FORBIDDEN");
  },

  adminErrorClusters: async ({ b, asAdmin }) => {
    const res = await asAdmin(
      "query ($id: ID) { adminErrorClusters(tenantId: $id) { fingerprint message tenants } }",
      { id: b.tenantId },
    );

    expectRefused(res, "FORBIDDEN");
  },

  adminTraffic: async ({ b, asAdmin }) => {
    const res = await asAdmin(
      "query ($ids: [ID!]) { adminTraffic(tenantIds: $ids) { tenantId points { requests } } }",
      { ids: [b.tenantId] },
    );

    expectRefused(res, "FORBIDDEN");
  },

  files: async ({ a, asAdmin }) => {
    const res = await asAdmin<{ files: { edges: { node: { path: string } }[] } }>(
      "{ files(area: USER_UPLOADS, first: 100) { edges { node { path } } } }",
    );

    expectClean(res);
    const stored = await read<{ path: string }>(
      null,
      `SELECT path FROM "StoredFile" WHERE "tenantId" = $1 AND area = 'user-uploads'`,
      [a.tenantId],
    );
    const paths = res.body.data?.files.edges.map((edge) => edge.node.path) ?? [];
    expect(sorted(paths)).toEqual(sorted(stored.map((row) => row.path)));
    expect(paths).not.toContain(B_ONLY.file);
  },

  storageUsage: async ({ a, asAdmin }) => {
    const res = await asAdmin<{ storageUsage: { bytes: number; files: number } }>(
      "{ storageUsage { bytes files } }",
    );

    expectClean(res);
    const [stored] = await read<{ bytes: string; files: number }>(
      null,
      `SELECT COALESCE(SUM(bytes), 0)::text AS bytes, COUNT(*)::int AS files
         FROM "StoredFile" WHERE "tenantId" = $1`,
      [a.tenantId],
    );
    expect(res.body.data?.storageUsage).toEqual({
      bytes: Number(stored?.bytes),
      files: stored?.files,
    });
  },

  featureFlags: async ({ asAdmin }) => {
    expectRefused(await asAdmin("{ featureFlags { key overrides { tenantId } } }"), "FORBIDDEN");
  },

  tenantLogs: async ({ b, asAdmin }) => {
    const query = "query ($id: ID!) { tenantLogs(id: $id) { message line } }";

    expectRefused(await asAdmin(query, { id: b.tenantId }), "FORBIDDEN");
  },

  tenantConfig: async ({ a, asAdmin }) => {
    const res = await asAdmin<{ tenantConfig: { version: number; branding: Data } }>(
      "{ tenantConfig { version branding } }",
    );

    expectClean(res);
    const [stored] = await read<{ version: number; branding: Data }>(
      null,
      `SELECT version, branding FROM "TenantConfig" WHERE "tenantId" = $1`,
      [a.tenantId],
    );
    expect(res.body.data?.tenantConfig).toEqual(stored);
  },

  job: async ({ a, b, asAdmin }) => {
    const [own, foreign] = await Promise.all([recordJob(a.tenantId), recordJob(b.tenantId)]);
    const query = "query ($id: ID!) { job(id: $id) { id tenantId } }";

    const foreignAnswer = await asAdmin(query, { id: foreign });
    const missingAnswer = await asAdmin(query, { id: MISSING_ID });
    expectClean(foreignAnswer);
    expect(foreignAnswer.body).toEqual({ data: { job: null } });
    expect(missingAnswer.body).toEqual(foreignAnswer.body);
    const ownAnswer = await asAdmin(query, { id: own });
    expect(ownAnswer.body.data).toEqual({ job: { id: own, tenantId: a.tenantId } });
  },

  jobs: async ({ b, asAdmin }) => {
    const res = await asAdmin("query ($id: ID) { jobs(tenantId: $id) { id } }", {
      id: b.tenantId,
    });

    expectRefused(res, "FORBIDDEN");
  },

  tenantJobs: async ({ a, b, asAdmin }) => {
    await Promise.all([recordJob(a.tenantId), recordJob(b.tenantId)]);
    const res = await asAdmin<{ tenantJobs: { id: string; tenantId: string }[] }>(
      "{ tenantJobs(first: 100) { id tenantId } }",
    );

    expectClean(res);
    const stored = await read<{ id: string }>(
      null,
      `SELECT id FROM "BackgroundJob" WHERE "tenantId" = $1`,
      [a.tenantId],
    );
    const listed = res.body.data?.tenantJobs ?? [];
    expect(sorted(listed.map((job) => job.id))).toEqual(sorted(stored.map((row) => row.id)));
    expect(listed.filter((job) => job.tenantId !== a.tenantId)).toEqual([]);
  },

  tenantConfigVersions: async ({ a, asAdmin }) => {
    const res = await asAdmin<{ tenantConfigVersions: { version: number }[] }>(
      "{ tenantConfigVersions(first: 100) { version } }",
    );

    expectClean(res);
    const stored = await read<{ version: number }>(
      null,
      `SELECT version FROM "TenantConfigVersion" WHERE "tenantId" = $1 ORDER BY version DESC`,
      [a.tenantId],
    );
    expect(res.body.data?.tenantConfigVersions).toEqual(stored);
  },
};

const CREATE_USER = `mutation ($input: CreateUserInput!) { createUser(input: $input) { id email } }`;
const ASSIGN_ROLE = `mutation ($userId: ID!, $role: String!) { assignRole(userId: $userId, role: $role) { id roles } }`;
const ADD_MEMBER = `mutation ($org: ID!, $user: ID!) {
  addMember(organizationId: $org, userId: $user, role: MEMBER) { role user { id } }
}`;
const SUBMIT = `mutation ($id: ID!) { submitToChallenge(challengeId: $id, score: 1) { id } }`;

/** One probe per Mutation field, acting in A with B's ids or names. */
const MUTATION_PROBES: Record<string, Probe> = {
  createUser: async ({ a, b, asAdmin, ownerOf }) => {
    // B has a user with this email; A must not notice.
    const email = `member@${b.tenantId}.test`;
    const res = await asAdmin<{ createUser: { id: string; email: string } }>(CREATE_USER, {
      input: { email, name: "Created in A", roles: ["member"] },
    });

    expectClean(res);
    const created = res.body.data?.createUser;
    expect(created?.email).toBe(email);
    expect(await ownerOf("User", created?.id ?? "")).toBe(a.tenantId);

    // A role only B defines is as unknown as one nobody defines.
    const foreignRole = await asAdmin(CREATE_USER, {
      input: { email: "x1@a.test", name: "X", roles: [B_ONLY.grantedRole] },
    });
    const noRole = await asAdmin(CREATE_USER, {
      input: { email: "x2@a.test", name: "X", roles: ["never_defined"] },
    });
    expectRefused(foreignRole, "BAD_USER_INPUT");
    expect(withoutInput(foreignRole, B_ONLY.grantedRole)).toBe(
      withoutInput(noRole, "never_defined"),
    );
  },

  createRole: async ({ a, asAdmin, idsOf }) => {
    const res = await asAdmin<{ createRole: { name: string } }>(
      `mutation ($input: CreateRoleInput!) { createRole(input: $input) { name permissions } }`,
      { input: { name: B_ONLY.spareRole, permissions: ["users:read"] } },
    );

    expectClean(res);
    expect(res.body.data?.createRole.name).toBe(B_ONLY.spareRole);
    expect(await idsOf("Role", a.tenantId)).toContain(B_ONLY.spareRole);
  },

  assignRole: async ({ a, b, asAdmin }) => {
    const foreignUser = await asAdmin(ASSIGN_ROLE, { userId: b.users.member, role: "member" });
    const missingUser = await asAdmin(ASSIGN_ROLE, { userId: MISSING_ID, role: "member" });
    expectRefused(foreignUser, "NOT_FOUND");
    expect(foreignUser.body.errors?.[0]?.message).toBe(missingUser.body.errors?.[0]?.message);

    const foreignRole = await asAdmin(ASSIGN_ROLE, {
      userId: a.users.member,
      role: B_ONLY.grantedRole,
    });
    const missingRole = await asAdmin(ASSIGN_ROLE, {
      userId: a.users.member,
      role: "never_defined",
    });
    expectRefused(foreignRole, "BAD_USER_INPUT");
    expect(withoutInput(foreignRole, B_ONLY.grantedRole)).toBe(
      withoutInput(missingRole, "never_defined"),
    );
  },

  createOrganization: async ({ a, asAdmin, ownerOf }) => {
    const res = await asAdmin<{ createOrganization: { id: string; name: string } }>(
      `mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { id name } }`,
      { input: { name: B_ONLY.organization } },
    );

    expectClean(res);
    const created = res.body.data?.createOrganization;
    expect(created?.name).toBe(B_ONLY.organization);
    expect(await ownerOf("Organization", created?.id ?? "")).toBe(a.tenantId);
  },

  addMember: async ({ a, b, asAdmin, asOrgOwner }) => {
    const foreignOrg = await asAdmin(ADD_MEMBER, { org: b.organizationId, user: a.users.member });
    const missingOrg = await asAdmin(ADD_MEMBER, { org: MISSING_ID, user: a.users.member });
    expectRefused(foreignOrg, "NOT_FOUND");
    expect(foreignOrg.body.errors?.[0]?.message).toBe(missingOrg.body.errors?.[0]?.message);

    const foreignUser = await asAdmin(ADD_MEMBER, { org: a.organizationId, user: b.users.member });
    const missingUser = await asAdmin(ADD_MEMBER, { org: a.organizationId, user: MISSING_ID });
    expectRefused(foreignUser, "NOT_FOUND");
    expect(foreignUser.body.errors?.[0]?.message).toBe(missingUser.body.errors?.[0]?.message);

    // An organization owner without tenant-wide rights is refused alike for both.
    const ownerForeign = await asOrgOwner(ADD_MEMBER, {
      org: b.organizationId,
      user: a.users.member,
    });
    const ownerMissing = await asOrgOwner(ADD_MEMBER, { org: MISSING_ID, user: a.users.member });
    expect(codesOf(ownerForeign)).toEqual(codesOf(ownerMissing));
    expect(ownerForeign.body.data ?? null).toBeNull();
  },

  createDashboard: async ({ a, asAdmin, ownerOf }) => {
    const res = await asAdmin<{ createDashboard: { id: string; owner: { id: string } } }>(
      `mutation ($input: CreateDashboardInput!) {
        createDashboard(input: $input) { id title owner { id } }
      }`,
      { input: { title: "Made in A", modules: ["overview"] } },
    );

    expectClean(res);
    const created = res.body.data?.createDashboard;
    expect(created?.owner.id).toBe(a.users.admin);
    expect(await ownerOf("Dashboard", created?.id ?? "")).toBe(a.tenantId);
  },

  createChallenge: async ({ a, asAdmin, ownerOf }) => {
    const res = await asAdmin<{ createChallenge: { id: string } }>(
      `mutation { createChallenge(input: { title: "Made in A" }) { id title } }`,
    );

    expectClean(res);
    expect(await ownerOf("Challenge", res.body.data?.createChallenge.id ?? "")).toBe(a.tenantId);
  },

  submitToChallenge: async ({ a, b, asAdmin, asParticipant, ownerOf }) => {
    const foreign = await asParticipant(SUBMIT, { id: b.challengeIds[0] });
    const missing = await asParticipant(SUBMIT, { id: MISSING_ID });
    expectRefused(foreign, "NOT_FOUND");
    expect(foreign.body.errors?.[0]?.message).toBe(missing.body.errors?.[0]?.message);
    expectRefused(await asAdmin(SUBMIT, { id: b.challengeIds[1] }), "NOT_FOUND");

    const own = await asParticipant<{ submitToChallenge: { id: string } }>(SUBMIT, {
      id: a.challengeIds[0],
    });
    expectClean(own);
    expect(await ownerOf("Submission", own.body.data?.submitToChallenge.id ?? "")).toBe(a.tenantId);
  },

  updateTenantConfig: async ({ a, asAdmin }) => {
    const res = await asAdmin<{ updateTenantConfig: { id: string; branding: Data } }>(
      `mutation ($input: UpdateTenantConfigInput!) { updateTenantConfig(input: $input) { id branding } }`,
      { input: { branding: { primaryColor: "#a0a0a0" } } },
    );

    expectClean(res);
    expect(res.body.data?.updateTenantConfig).toEqual({
      id: a.tenantId,
      branding: { primaryColor: "#a0a0a0" },
    });
  },

  updateDashboard: async ({ a, b, asAdmin }) => {
    const mutation = `mutation ($id: ID!, $input: UpdateDashboardInput!) {
      updateDashboard(id: $id, input: $input) { id title }
    }`;
    const foreign = await asAdmin(mutation, { id: b.dashboardId, input: { title: "Hijacked" } });

    expectRefused(foreign, "NOT_FOUND");
    const own = await asAdmin(mutation, { id: a.dashboardId, input: { title: "Renamed" } });
    expectClean(own);
    expect(own.body.data).toEqual({ updateDashboard: { id: a.dashboardId, title: "Renamed" } });
  },

  restoreTenantConfig: async ({ a, asAdmin }) => {
    const res = await asAdmin<{ restoreTenantConfig: { version: number; branding: Data } }>(
      "mutation { restoreTenantConfig(version: 1) { version branding } }",
    );

    expectClean(res);
    const [first] = await read<{ branding: Data }>(
      null,
      `SELECT branding FROM "TenantConfigVersion" WHERE "tenantId" = $1 AND version = 1`,
      [a.tenantId],
    );
    expect(res.body.data?.restoreTenantConfig.branding).toEqual(first?.branding);
  },

  setFeatureFlag: async ({ asAdmin }) => {
    const res = await asAdmin(
      'mutation { setFeatureFlag(input: { key: "dashboards", enabledByDefault: false }) { key } }',
    );

    expectRefused(res, "FORBIDDEN");
  },

  setTenantFeature: async ({ b, asAdmin }) => {
    const res = await asAdmin(
      'mutation ($id: ID!) { setTenantFeature(tenantId: $id, key: "dashboards", enabled: false) { key } }',
      { id: b.tenantId },
    );

    expectRefused(res, "FORBIDDEN");
  },

  provisionTenant: async ({ b, asAdmin }) => {
    const res = await asAdmin(
      `mutation ($input: ProvisionTenantInput!) { provisionTenant(input: $input) { tenant { id } } }`,
      { input: { id: b.tenantId, name: "Hijack", isolation: "SHARED", adminEmail: "x@a.test" } },
    );

    expectRefused(res, "FORBIDDEN");
  },

  suspendTenant: async ({ b, asAdmin }) => {
    const res = await asAdmin("mutation ($id: ID!) { suspendTenant(id: $id) { id status } }", {
      id: b.tenantId,
    });

    expectRefused(res, "FORBIDDEN");
  },

  resumeTenant: async ({ b, asAdmin }) => {
    const res = await asAdmin("mutation ($id: ID!) { resumeTenant(id: $id) { id status } }", {
      id: b.tenantId,
    });

    expectRefused(res, "FORBIDDEN");
  },

  moveTenant: async ({ b, asAdmin }) => {
    const res = await asAdmin(
      "mutation ($id: ID!) { moveTenant(id: $id, isolation: SCHEMA) { to } }",
      { id: b.tenantId },
    );

    expectRefused(res, "FORBIDDEN");
  },

  createUploadUrl: async ({ a, asAdmin }) => {
    const res = await asAdmin<{ createUploadUrl: { url: string } }>(
      "mutation ($input: CreateUploadUrlInput!) { createUploadUrl(input: $input) { url } }",
      { input: { area: "USER_UPLOADS", path: B_ONLY.file, size: 5 } },
    );

    expectClean(res);
    // Signed for A's own prefix: the same path names a file of A, never B's.
    const url = res.body.data?.createUploadUrl.url ?? "";
    expect(url.startsWith(`/storage/${a.tenantId}/user-uploads/b-only/`)).toBe(true);
  },

  createDownloadUrl: async ({ asAdmin }) => {
    const mutation =
      "mutation ($path: String!) { createDownloadUrl(area: USER_UPLOADS, path: $path) { url } }";
    const foreign = await asAdmin(mutation, { path: B_ONLY.file });
    const missing = await asAdmin(mutation, { path: "never/stored.txt" });

    expectRefused(foreign, "NOT_FOUND");
    expect(foreign.body.errors?.[0]?.message).toBe(missing.body.errors?.[0]?.message);
  },

  deleteFile: async ({ asAdmin }) => {
    const res = await asAdmin(
      "mutation ($path: String!) { deleteFile(area: USER_UPLOADS, path: $path) }",
      { path: B_ONLY.file },
    );

    expectClean(res);
    expect(res.body.data).toEqual({ deleteFile: false });
  },

  deprovisionTenant: async ({ b, asAdmin }) => {
    const res = await asAdmin("mutation ($id: ID!) { deprovisionTenant(id: $id) }", {
      id: b.tenantId,
    });

    expectRefused(res, "FORBIDDEN");
  },

  exportTenant: async ({ b, asAdmin }) => {
    const res = await asAdmin("mutation ($id: ID!) { exportTenant(id: $id) { file } }", {
      id: b.tenantId,
    });

    expectRefused(res, "FORBIDDEN");
  },

  startProvisionTenant: async ({ b, asAdmin }) => {
    const res = await asAdmin(
      `mutation ($input: ProvisionTenantInput!) { startProvisionTenant(input: $input) { id } }`,
      { input: { id: b.tenantId, name: "Hijack", isolation: "SHARED", adminEmail: "x@a.test" } },
    );

    expectRefused(res, "FORBIDDEN");
  },

  startMoveTenant: async ({ b, asAdmin }) => {
    const res = await asAdmin(
      "mutation ($id: ID!) { startMoveTenant(id: $id, isolation: SCHEMA) { id } }",
      { id: b.tenantId },
    );

    expectRefused(res, "FORBIDDEN");
  },

  startExportTenant: async ({ b, asAdmin }) => {
    const res = await asAdmin("mutation ($id: ID!) { startExportTenant(id: $id) { id } }", {
      id: b.tenantId,
    });

    expectRefused(res, "FORBIDDEN");
  },

  startMigrateTenants: async ({ b, asAdmin }) => {
    const res = await asAdmin("mutation ($id: ID) { startMigrateTenants(tenantId: $id) { id } }", {
      id: b.tenantId,
    });

    expectRefused(res, "FORBIDDEN");
  },

  importTenant: async ({ b, asAdmin }) => {
    const res = await asAdmin(
      "mutation ($file: String!) { importTenant(file: $file, isolation: SHARED) { id } }",
      { file: `${b.tenantId}.tar.gz` },
    );

    expectRefused(res, "FORBIDDEN");
  },

  exportTenantLogs: async ({ b, asAdmin }) => {
    const res = await asAdmin("mutation ($id: ID!) { exportTenantLogs(id: $id) { file } }", {
      id: b.tenantId,
    });

    expectRefused(res, "FORBIDDEN");
  },

  eraseTenantLogs: async ({ b, asAdmin }) => {
    const res = await asAdmin("mutation ($id: ID!) { eraseTenantLogs(id: $id) }", {
      id: b.tenantId,
    });

    expectRefused(res, "FORBIDDEN");
  },
};

/** Each of B's rows as text, per table: any change of B shows up here. */
async function snapshotOf(read: TierReader, tenantId: string): Promise<Record<Table, string[]>> {
  // Counts still in memory are written first: a flush landing between two
  // snapshots would otherwise look like a change.
  await gw.gateway.telemetry.flush();
  const snapshot: Partial<Record<Table, string[]>> = {};
  for (const [table, column] of Object.entries(TENANT_TABLES)) {
    const rows = await read<{ row: string }>(
      CONTROL_TABLES.has(table as Table) ? null : tenantId,
      `SELECT t::text AS row FROM "${table}" t WHERE "${column}" = $1 ORDER BY 1`,
      [tenantId],
    );
    snapshot[table as Table] = rows.map((r) => r.row);
  }

  return snapshot as Record<Table, string[]>;
}

const schema = await buildBareSchema();

function rootFields(name: "Query" | "Mutation"): string[] {
  // Not isObjectType: type-graphql builds with graphql's CommonJS build, and
  // its instanceof check refuses types from the ESM build this file imports.
  const type = name === "Query" ? schema.getQueryType() : schema.getMutationType();
  if (!type) throw new Error(`The schema has no ${name} type.`);

  return Object.keys(type.getFields()).sort();
}

let gw: TestGateway;
let read: TierReader;

beforeAll(async () => {
  gw = await startTestGateway("cross-tenant");
  read = createTierReader(gw.gateway.database);
});

afterAll(() => gw?.stop());

describe.each(PAIRS)("tenant A ($a) naming tenant B's ($b) records", (pair) => {
  let world: World;
  let before: Record<Table, string[]>;
  const errors: { message: string; extensions?: Data }[] = [];
  const fixtureIn = (isolation: Isolation, prefix: string) =>
    seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId(prefix), {
      isolation,
      region: isolation === Isolation.DATABASE ? DATABASE_REGION : undefined,
    });

  beforeAll(async () => {
    const database = gw.gateway.database;
    const a = await fixtureIn(pair.a, "xt-a");
    const b = await fixtureIn(pair.b, "xt-b");
    await database.forTenant(b.tenantId).transaction(async (tx) => {
      await tx.role.create({
        data: { tenantId: b.tenantId, name: B_ONLY.grantedRole, permissions: ["users:read"] },
      });
      await tx.role.create({
        data: { tenantId: b.tenantId, name: B_ONLY.spareRole, permissions: ["users:read"] },
      });
      await tx.organization.create({
        data: { tenantId: b.tenantId, id: newId(), name: B_ONLY.organization },
      });
    });
    // A ledger row is enough for what GraphQL answers; no bytes are read.
    await database.control.storedFile.create({
      data: {
        tenantId: b.tenantId,
        area: "user-uploads",
        path: B_ONLY.file,
        bytes: 5n,
        contentType: "text/plain",
        sha256: "0".repeat(64),
      },
    });
    before = await snapshotOf(read, b.tenantId);

    const tokens = {
      admin: await gw.tokenFor(a.tenantId, a.users.admin),
      participant: await gw.tokenFor(a.tenantId, a.users.participant),
      orgOwner: await gw.tokenFor(a.tenantId, a.users.orgOwner),
    };
    const as =
      (token: string) =>
      async <T>(query: string, variables?: Data): Promise<GraphQLResponse<T>> => {
        const res = await gw.request<T>(query, { tenant: a.tenantId, token, variables });
        errors.push(...(res.body.errors ?? []));
        return res;
      };
    world = {
      a,
      b,
      asAdmin: as(tokens.admin),
      asParticipant: as(tokens.participant),
      asOrgOwner: as(tokens.orgOwner),
      idsOf: async (table, tenantId) => {
        const column = TENANT_TABLES[table];
        const key = table === "Role" ? "name" : "id";
        const rows = await read<{ id: string }>(
          CONTROL_TABLES.has(table) ? null : tenantId,
          `SELECT "${key}" AS id FROM "${table}" WHERE "${column}" = $1`,
          [tenantId],
        );
        return rows.map((row) => row.id);
      },
      // Looked for where A lives and where B lives: a row may land in either.
      ownerOf: async (table, id) => {
        for (const tenantId of [a.tenantId, b.tenantId]) {
          const rows = await read<{ owner: string }>(
            CONTROL_TABLES.has(table) ? null : tenantId,
            `SELECT "${TENANT_TABLES[table]}" AS owner FROM "${table}" WHERE id = $1`,
            [id],
          );
          if (rows[0]) return rows[0].owner;
        }
        return null;
      },
    };
  });

  afterAll(async () => {
    // The shared Redis keeps both tenants' entries until they are cleared.
    for (const tenant of [world?.a, world?.b]) {
      if (tenant) await gw.gateway.cache.clearTenant(tenant.tenantId);
    }
  });

  describe("the probe table", () => {
    it("has a probe for every Query field of the schema", () => {
      expect(Object.keys(QUERY_PROBES).sort()).toEqual(rootFields("Query"));
    });

    it("has a probe for every Mutation field of the schema", () => {
      expect(Object.keys(MUTATION_PROBES).sort()).toEqual(rootFields("Mutation"));
    });
  });

  describe("queries", () => {
    for (const [field, probe] of Object.entries(QUERY_PROBES)) {
      it(`Query.${field} shows nothing of tenant B`, () => probe(world));
    }
  });

  describe("mutations", () => {
    for (const [field, probe] of Object.entries(MUTATION_PROBES)) {
      it(`Mutation.${field} neither reaches nor reveals tenant B`, () => probe(world));
    }
  });

  describe("afterwards", () => {
    it("leaves every row of tenant B exactly as it was", async () => {
      const after = await snapshotOf(read, world.b.tenantId);

      for (const table of Object.keys(TENANT_TABLES) as Table[]) {
        expect(after[table].length, `${table} rows of B`).toBe(before[table].length);
        expect(after[table], `${table} rows of B`).toEqual(before[table]);
      }
    });

    it("sent error messages that name none of tenant B's ids, names or emails", async () => {
      const { b } = world;
      const secrets = [
        b.tenantId,
        `Tenant ${b.tenantId}`,
        ...Object.values(b.users),
        b.organizationId,
        b.otherOrganizationId,
        b.dashboardId,
        ...b.challengeIds,
        ...b.submissionIds,
      ];
      // The admin's own view of B's emails, which A named only in createUser's input.
      const emails = (
        await read<{ email: string }>(
          b.tenantId,
          `SELECT email FROM "User" WHERE "tenantId" = $1`,
          [b.tenantId],
        )
      ).map((row) => row.email);

      expect(errors.length).toBeGreaterThan(10);
      for (const error of errors) {
        const text = JSON.stringify(error);
        for (const secret of secrets) expect(text).not.toContain(secret);
        for (const email of emails) expect(text).not.toContain(email);
      }
    });
  });

  describe("a token of tenant A with X-Tenant-ID naming tenant B", () => {
    it("is refused as TENANT_MISMATCH with no data", async () => {
      const { a, b } = world;
      const token = await gw.tokenFor(a.tenantId, a.users.admin);
      const res = await gw.request("query ($id: ID!) { user(id: $id) { id } }", {
        tenant: b.tenantId,
        token,
        variables: { id: b.users.admin },
      });

      expectRefused(res, "TENANT_MISMATCH");
      expect(JSON.stringify(res.body)).not.toContain(b.users.admin);
    });
  });
});
