import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import {
  CreateDashboardDocument,
  CreateUserDocument,
  DashboardDocument,
  DashboardsDocument,
  MeDocument,
  ProvisionTenantDocument,
  TenantDocument,
  UpdateTenantConfigDocument,
  UserDocument,
  UsersDocument,
  type MeQuery,
  type ProvisionTenantInput,
  type UsersQuery,
  type UsersQueryVariables,
} from "../generated/graphql.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  codesOf,
  execute,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";

/** The data of a response that must have succeeded. */
function dataOf<T>(response: GraphQLResponse<T>): T {
  expect(response.body.errors).toBeUndefined();
  if (!response.body.data) throw new Error(`no data (HTTP ${response.status})`);

  return response.body.data;
}

/** The single error of a refused operation. */
function errorOf(response: GraphQLResponse<unknown>) {
  expect(response.body.errors).toHaveLength(1);

  return response.body.errors?.[0];
}

describe("the typed operations against a real gateway", () => {
  let gw: TestGateway;
  let acme: TenantFixture;
  let asAdmin: { tenant: string; token: string };
  let asMember: { tenant: string; token: string };

  beforeAll(async () => {
    gw = await startTestGateway("typed-operations");
    acme = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("typed"));
    asAdmin = { tenant: acme.tenantId, token: await gw.tokenFor(acme.tenantId, acme.users.admin) };
    asMember = {
      tenant: acme.tenantId,
      token: await gw.tokenFor(acme.tenantId, acme.users.member),
    };
  });
  afterAll(() => gw?.stop());

  it("types variables and results from the operation documents", () => {
    expectTypeOf<MeQuery["me"]>().toBeNullable();
    expectTypeOf<NonNullable<MeQuery["me"]>["roles"]>().toEqualTypeOf<string[]>();
    expectTypeOf<UsersQueryVariables>().toHaveProperty("after");
    expectTypeOf<ProvisionTenantInput["isolation"]>().toEqualTypeOf<
      "SHARED" | "SCHEMA" | "DATABASE"
    >();
    // A variable of the wrong type does not compile (never called).
    const wrongVariables = () =>
      // @ts-expect-error `id` is an ID, a string, not a number.
      execute(gw, UserDocument, { tenant: "acme", variables: { id: 1 } });
    expect(wrongVariables).toBeTypeOf("function");
  });

  describe("Dashboard", () => {
    it("returns the challenges with submissions, authors and their organizations", async () => {
      const data = dataOf(
        await execute(gw, DashboardDocument, { ...asMember, variables: { first: 50 } }),
      );
      const nodes = data.challenges.edges.map((edge) => edge.node);

      expect(nodes.map((node) => node.title)).toEqual([
        "Challenge 1",
        "Challenge 2",
        "Challenge 3",
      ]);
      expect(nodes.map((node) => node.submissions.length)).toEqual([2, 2, 2]);
      expect(data.challenges.pageInfo.hasNextPage).toBe(false);
      const authors = nodes.flatMap((node) => node.submissions.map((s) => s.author));
      const owner = authors.find((author) => author.id === acme.users.orgOwner);
      expect(owner?.organizations.map((org) => org.name)).toEqual(["Research"]);
    });
  });

  describe("Me", () => {
    it("is the signed-in user with roles, permissions and organizations", async () => {
      const { me } = dataOf(await execute(gw, MeDocument, asMember));

      expect(me?.id).toBe(acme.users.member);
      expect(me?.roles).toEqual(["member"]);
      expect(me?.permissions).toContain("users:read");
      expect(me?.permissions).not.toContain("users:write");
      expect(me?.organizations.map((org) => org.id)).toEqual([acme.otherOrganizationId]);
    });

    it("is null without a token", async () => {
      const { me } = dataOf(await execute(gw, MeDocument, { tenant: acme.tenantId }));

      expect(me).toBeNull();
    });
  });

  describe("CreateUser", () => {
    it("creates a member that User then reads back", async () => {
      const input = { email: `new.person@${acme.tenantId}.test`, name: "New Person" };
      const { createUser } = dataOf(
        await execute(gw, CreateUserDocument, { ...asAdmin, variables: { input } }),
      );

      expect(createUser).toMatchObject({ ...input, roles: ["member"] });
      const { user } = dataOf(
        await execute(gw, UserDocument, { ...asAdmin, variables: { id: createUser.id } }),
      );
      expect(user).toMatchObject({ id: createUser.id, name: "New Person", roles: ["member"] });
    });

    it("is FORBIDDEN to a member", async () => {
      const input = { email: `other@${acme.tenantId}.test`, name: "Other" };
      const response = await execute(gw, CreateUserDocument, { ...asMember, variables: { input } });

      expect(codesOf(response)).toEqual(["FORBIDDEN"]);
    });
  });

  describe("CreateDashboard", () => {
    it("creates a dashboard owned by the caller with modules of the plan", async () => {
      const input = { title: "Team view", modules: ["overview", "leaderboard"] };
      const { createDashboard } = dataOf(
        await execute(gw, CreateDashboardDocument, { ...asAdmin, variables: { input } }),
      );

      expect(createDashboard).toMatchObject({ ...input, owner: { id: acme.users.admin } });
    });

    it("refuses a module outside the plan with BAD_USER_INPUT naming modules, saving nothing", async () => {
      const before = dataOf(await execute(gw, DashboardsDocument, asAdmin)).dashboards;
      const input = { title: "Sales view", modules: ["overview", "crm"] };
      const response = await execute(gw, CreateDashboardDocument, {
        ...asAdmin,
        variables: { input },
      });

      const error = errorOf(response);
      expect(error?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "modules" });
      expect(error?.message).toContain("crm");
      const after = dataOf(await execute(gw, DashboardsDocument, asAdmin)).dashboards;
      expect(after).toEqual(before);
    });
  });

  describe("Users pagination", () => {
    async function page(variables: UsersQueryVariables) {
      return execute(gw, UsersDocument, { ...asAdmin, variables });
    }

    it("walks every page with first/after: no duplicates, no gaps, hasNextPage false at the end", async () => {
      const all = dataOf(await page({ first: 100 })).users;
      expect(all.pageInfo.hasNextPage).toBe(false);
      expect(all.edges.length).toBeGreaterThanOrEqual(8);

      const seen: string[] = [];
      let after: string | null | undefined = null;
      let pages = 0;
      for (;;) {
        const { users }: UsersQuery = dataOf(await page({ first: 3, after }));
        pages += 1;
        seen.push(...users.edges.map((edge) => edge.node.id));
        expect(users.pageInfo.endCursor).toBe(users.edges.at(-1)?.cursor ?? null);
        if (!users.pageInfo.hasNextPage) break;
        expect(users.edges).toHaveLength(3);
        after = users.pageInfo.endCursor;
        expect(pages, "the walk does not end").toBeLessThan(50);
      }

      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(all.edges.map((edge) => edge.node.id));
      expect(pages).toBe(Math.ceil(seen.length / 3));
    });

    it("refuses a cursor it did not issue with BAD_USER_INPUT", async () => {
      const error = errorOf(await page({ first: 3, after: "not-a-cursor" }));

      expect(error?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    });

    it.each([-1, 101])("refuses first: %i with BAD_USER_INPUT", async (first) => {
      const error = errorOf(await page({ first }));

      expect(error?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
    });
  });

  describe("ProvisionTenant", () => {
    let staff: { token: string };
    let input: ProvisionTenantInput;

    beforeAll(async () => {
      staff = { token: await gw.globalAdminToken() };
      const id = uniqueTenantId("prov");
      input = { id, name: "Provisioned", isolation: "SHARED", adminEmail: `root@${id}.test` };
    });

    const provision = (variables: { input: ProvisionTenantInput }) =>
      execute(gw, ProvisionTenantDocument, { ...staff, variables });

    it("is idempotent: the same input twice gives the same tenant admin", async () => {
      const first = dataOf(await provision({ input })).provisionTenant;
      const second = dataOf(await provision({ input })).provisionTenant;

      expect(second.adminUser.id).toBe(first.adminUser.id);
      expect(second.tenant).toEqual(first.tenant);
      expect(first.adminUser.email).toBe(input.adminEmail);
    });

    it("leaves a live tenant whose admin can sign in", async () => {
      const { provisionTenant } = dataOf(await provision({ input }));
      const token = await gw.tokenFor(input.id, provisionTenant.adminUser.id);
      const asNewAdmin = { tenant: input.id, token };

      const { tenant } = dataOf(await execute(gw, TenantDocument, asNewAdmin));
      expect(tenant).toMatchObject({ id: input.id, name: "Provisioned" });
      const { me } = dataOf(await execute(gw, MeDocument, asNewAdmin));
      expect(me?.roles).toEqual(["tenant_admin"]);
    });

    // No retry may change where an existing tenant's data lives: moving it
    // is moveTenant's job.
    it.each([
      ["region", { region: "eu-west" }],
      ["isolation", { isolation: "DATABASE" as const }],
    ])("refuses a retry with another %s with BAD_USER_INPUT", async (_, change) => {
      const response = await provision({ input: { ...input, ...change } });

      expect(codesOf(response)).toEqual(["BAD_USER_INPUT"]);
    });

    it("refuses a DATABASE tenant in a region no server serves, creating nothing", async () => {
      const id = uniqueTenantId("nowhere");
      const response = await provision({
        input: {
          ...input,
          id,
          isolation: "DATABASE",
          region: "mars",
          adminEmail: `root@${id}.test`,
        },
      });

      const error = errorOf(response);
      expect(error?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "region" });
      expect(error?.message).toMatch(/No database server serves region "mars"/);
      const lookup = await execute(gw, TenantDocument, { tenant: id });
      expect(codesOf(lookup)).toEqual(["TENANT_NOT_FOUND"]);
    });

    it("is FORBIDDEN to a tenant admin", async () => {
      const response = await execute(gw, ProvisionTenantDocument, {
        ...asAdmin,
        variables: { input: { ...input, id: uniqueTenantId("nope") } },
      });

      expect(codesOf(response)).toEqual(["FORBIDDEN"]);
    });
  });

  describe("UpdateTenantConfig", () => {
    // Features, modules and plan are for signed-in callers; a member reads
    // what everyone in the tenant sees.
    const readTenant = async () => dataOf(await execute(gw, TenantDocument, asMember)).tenant;

    it("lets a tenant admin edit branding, which the tenant then shows", async () => {
      const branding = { displayName: "Acme Labs", primaryColor: "#112233" };
      const { updateTenantConfig } = dataOf(
        await execute(gw, UpdateTenantConfigDocument, {
          ...asAdmin,
          variables: { input: { branding } },
        }),
      );

      expect(updateTenantConfig.branding).toEqual(branding);
      expect((await readTenant()).branding).toEqual(branding);
    });

    it("refuses limits from a tenant admin with FORBIDDEN and saves nothing", async () => {
      const before = await readTenant();
      const versionBefore = await gw.gateway.database.control.tenantConfig.findUnique({
        where: { tenantId: acme.tenantId },
      });
      const input = { branding: { displayName: "Sneaky" }, limits: { requestsPerMinute: 1e6 } };
      const response = await execute(gw, UpdateTenantConfigDocument, {
        ...asAdmin,
        variables: { input },
      });

      expect(codesOf(response)).toEqual(["FORBIDDEN"]);
      expect(await readTenant()).toEqual(before);
      const stored = await gw.gateway.database.control.tenantConfig.findUnique({
        where: { tenantId: acme.tenantId },
      });
      expect(stored?.limits).toEqual({});
      expect(stored?.version).toBe(versionBefore?.version);
    });

    it.each([
      ["a string", "red"],
      ["a list", ["red"]],
      ["a number", 7],
    ])("refuses %s as branding with BAD_USER_INPUT", async (_, branding) => {
      const before = await readTenant();
      const response = await execute(gw, UpdateTenantConfigDocument, {
        ...asAdmin,
        variables: { input: { branding } },
      });

      const error = errorOf(response);
      expect(error?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "branding" });
      expect(await readTenant()).toEqual(before);
    });
  });
});
