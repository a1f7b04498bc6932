import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rolloutBucket } from "../../src/features/rollout-bucket.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

type Data = Record<string, unknown>;

const SET_FLAG = `mutation ($input: FeatureFlagInput!) {
  setFeatureFlag(input: $input) {
    key enabledByDefault plans releaseChannels rolloutPercent overrides { tenantId enabled }
  }
}`;
const SET_TENANT = `mutation ($tenantId: ID!, $key: String!, $enabled: Boolean) {
  setTenantFeature(tenantId: $tenantId, key: $key, enabled: $enabled) {
    key overrides { tenantId enabled }
  }
}`;
const FEATURES = "{ tenant { features } }";
const CREATE_DASHBOARD = `mutation ($input: CreateDashboardInput!) {
  createDashboard(input: $input) { id modules }
}`;
const UPDATE_DASHBOARD = `mutation ($id: ID!, $input: UpdateDashboardInput!) {
  updateDashboard(id: $id, input: $input) { id title modules }
}`;

describe("feature flags on real requests", () => {
  let gw: TestGateway;
  let acme: TenantFixture;
  let other: TenantFixture;
  let staff: string;
  let acmeAdmin: string;
  let otherAdmin: string;

  beforeAll(async () => {
    gw = await startTestGateway("feature-gates");
    acme = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("ff-a"));
    other = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("ff-b"));
    staff = await gw.globalAdminToken();
    acmeAdmin = await gw.tokenFor(acme.tenantId, acme.users.admin);
    otherAdmin = await gw.tokenFor(other.tenantId, other.users.admin);
  });
  afterAll(() => gw?.stop());

  const asStaff = <T = Data>(query: string, variables?: Data) =>
    gw.request<T>(query, { token: staff, variables });
  async function featuresOf(tenantId: string, token: string): Promise<string[]> {
    const res = await gw.request<{ tenant: { features: string[] } }>(FEATURES, {
      tenant: tenantId,
      token,
    });
    expect(res.body.errors).toBeUndefined();
    return res.body.data?.tenant.features ?? [];
  }

  it("lists the features a new tenant has: the gated ones, on by default", async () => {
    expect(await featuresOf(acme.tenantId, acmeAdmin)).toEqual([
      "challenges",
      "dashboards",
      "storage",
    ]);
  });

  it("answers FEATURE_DISABLED on fields behind a flag switched off for the tenant, and only there", async () => {
    const off = await asStaff(SET_TENANT, {
      tenantId: acme.tenantId,
      key: "dashboards",
      enabled: false,
    });
    expect(off.body.errors).toBeUndefined();

    const query = await gw.request("{ dashboards { id } }", {
      tenant: acme.tenantId,
      token: acmeAdmin,
    });
    const mutation = await gw.request(CREATE_DASHBOARD, {
      tenant: acme.tenantId,
      token: acmeAdmin,
      variables: { input: { title: "Nope", modules: ["overview"] } },
    });
    const neighbour = await gw.request<{ dashboards: unknown[] }>("{ dashboards { id } }", {
      tenant: other.tenantId,
      token: otherAdmin,
    });

    expect(codesOf(query)).toEqual(["FEATURE_DISABLED"]);
    expect(query.body.errors?.[0]?.extensions?.feature).toBe("dashboards");
    expect(codesOf(mutation)).toEqual(["FEATURE_DISABLED"]);
    expect(await featuresOf(acme.tenantId, acmeAdmin)).toEqual(["challenges", "storage"]);
    expect(neighbour.body.errors).toBeUndefined();
    const dashboards = await gw.gateway.database
      .forTenant(acme.tenantId)
      .dashboard.count({ where: { tenantId: acme.tenantId, title: "Nope" } });
    expect(dashboards).toBe(0);

    await asStaff(SET_TENANT, { tenantId: acme.tenantId, key: "dashboards", enabled: null });
    const back = await gw.request("{ dashboards { id } }", {
      tenant: acme.tenantId,
      token: acmeAdmin,
    });
    expect(back.body.errors).toBeUndefined();
  });

  it("still answers UNAUTHENTICATED before FEATURE_DISABLED to a caller without a token", async () => {
    await asStaff(SET_TENANT, { tenantId: acme.tenantId, key: "challenges", enabled: false });

    const res = await gw.request("{ challenges(first: 1) { edges { cursor } } }", {
      tenant: acme.tenantId,
    });

    expect(codesOf(res)).toEqual(["UNAUTHENTICATED"]);
    await asStaff(SET_TENANT, { tenantId: acme.tenantId, key: "challenges", enabled: null });
  });

  it("switches a flag on by plan", async () => {
    expect(await featuresOf(acme.tenantId, acmeAdmin)).not.toContain("ai-insights");

    await gw.request(
      `mutation ($input: UpdateTenantConfigInput!) { updateTenantConfig(input: $input) { id } }`,
      {
        tenant: acme.tenantId,
        token: staff,
        variables: { input: { billing: { plan: "enterprise" } } },
      },
    );

    expect(await featuresOf(acme.tenantId, acmeAdmin)).toContain("ai-insights");
    expect(await featuresOf(other.tenantId, otherAdmin)).not.toContain("ai-insights");
  });

  it("switches a flag on by release channel", async () => {
    const beta = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("ff-beta"), {
      releaseChannel: "beta",
    });
    const betaAdmin = await gw.tokenFor(beta.tenantId, beta.users.admin);

    expect(await featuresOf(beta.tenantId, betaAdmin)).toContain("live-leaderboard");
    expect(await featuresOf(other.tenantId, otherAdmin)).not.toContain("live-leaderboard");
  });

  it("rolls a flag out by stable hash, keeping the first tenants when it grows", async () => {
    const fleet = [acme.tenantId, other.tenantId];
    const created = await asStaff(SET_FLAG, {
      input: { key: "gradual", description: "Rolled out by share", rolloutPercent: 0 },
    });
    expect(created.body.errors).toBeUndefined();
    const buckets = new Map(fleet.map((id) => [id, rolloutBucket("gradual", id)]));
    const [low, high] = [...buckets.entries()].sort((x, y) => x[1] - y[1]);
    const tokenOf = (id: string) => (id === acme.tenantId ? acmeAdmin : otherAdmin);

    // Just enough to include the lower bucket; then enough for both.
    await asStaff(SET_FLAG, { input: { key: "gradual", rolloutPercent: low![1] + 1 } });
    const first = await featuresOf(low![0], tokenOf(low![0]));
    await asStaff(SET_FLAG, { input: { key: "gradual", rolloutPercent: high![1] + 1 } });

    expect(first).toContain("gradual");
    expect(await featuresOf(low![0], tokenOf(low![0]))).toContain("gradual");
    expect(await featuresOf(high![0], tokenOf(high![0]))).toContain("gradual");
  });

  it("keeps omitted fields of a flag when staff change others", async () => {
    await asStaff(SET_FLAG, {
      input: { key: "kept", plans: ["growth"], releaseChannels: ["beta"], rolloutPercent: 5 },
    });

    const res = await asStaff<{ setFeatureFlag: Data }>(SET_FLAG, {
      input: { key: "kept", rolloutPercent: 15 },
    });

    expect(res.body.data?.setFeatureFlag).toEqual({
      key: "kept",
      enabledByDefault: false,
      plans: ["growth"],
      releaseChannels: ["beta"],
      rolloutPercent: 15,
      overrides: [],
    });
  });

  it.each([
    ["a rollout over 100", { key: "bad", rolloutPercent: 101 }, "input.rolloutPercent"],
    ["an unknown plan", { key: "bad", plans: ["platinum"] }, "input.plans.0"],
    ["a malformed key", { key: "Bad Key" }, "input.key"],
    ["a malformed channel", { key: "bad", releaseChannels: ["Beta!"] }, "input.releaseChannels.0"],
    [
      "a description with a bidi override",
      { key: "bad", description: "a\u202eb" },
      "input.description",
    ],
  ])("refuses %s with BAD_USER_INPUT naming the field", async (_, input, field) => {
    const res = await asStaff(SET_FLAG, { input });

    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.extensions?.field).toBe(field);
    expect(await gw.gateway.database.control.featureFlag.count({ where: { key: "bad" } })).toBe(0);
  });

  it("refuses flag changes to a tenant admin", async () => {
    const res = await gw.request(SET_FLAG, {
      tenant: acme.tenantId,
      token: acmeAdmin,
      variables: { input: { key: "dashboards", enabledByDefault: false } },
    });

    expect(codesOf(res)).toEqual(["FORBIDDEN"]);
  });

  it("answers TENANT_NOT_FOUND for an override of a tenant that does not exist", async () => {
    const res = await asStaff(SET_TENANT, {
      tenantId: "no-such-tenant",
      key: "dashboards",
      enabled: true,
    });

    expect(codesOf(res)).toEqual(["TENANT_NOT_FOUND"]);
  });
});

describe("dashboard modules follow the plan", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let admin: string;
  let staff: string;

  beforeAll(async () => {
    gw = await startTestGateway("plan-modules");
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("mods"));
    admin = await gw.tokenFor(tenant.tenantId, tenant.users.admin);
    staff = await gw.globalAdminToken();
  });
  afterAll(() => gw?.stop());

  const asAdmin = <T = Data>(query: string, variables: Data) =>
    gw.request<T>(query, { tenant: tenant.tenantId, token: admin, variables });
  const setBilling = (billing: Data) =>
    gw.request(
      `mutation ($input: UpdateTenantConfigInput!) { updateTenantConfig(input: $input) { id } }`,
      {
        tenant: tenant.tenantId,
        token: staff,
        variables: { input: { billing } },
      },
    );

  it("lists the plan's modules on the tenant", async () => {
    const res = await gw.request<{ tenant: { modules: string[]; plan: string } }>(
      "{ tenant { plan modules } }",
      { tenant: tenant.tenantId, token: admin },
    );

    expect(res.body.data?.tenant).toEqual({
      plan: "starter",
      modules: ["overview", "leaderboard", "activity", "submissions"],
    });
  });

  it("refuses a dashboard with a module the plan lacks, naming modules, and creates nothing", async () => {
    const res = await asAdmin(CREATE_DASHBOARD, {
      input: { title: "Analytics", modules: ["overview", "analytics"] },
    });

    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.extensions?.field).toBe("modules");
    expect(res.body.errors?.[0]?.message).toContain("analytics");
    const count = await gw.gateway.database
      .forTenant(tenant.tenantId)
      .dashboard.count({ where: { tenantId: tenant.tenantId, title: "Analytics" } });
    expect(count).toBe(0);
  });

  it("refuses an update that adds a module the plan lacks, and keeps the dashboard as it was", async () => {
    const created = await asAdmin<{ createDashboard: { id: string } }>(CREATE_DASHBOARD, {
      input: { title: "Mine", modules: ["overview"] },
    });
    const id = created.body.data?.createDashboard.id;

    const res = await asAdmin(UPDATE_DASHBOARD, {
      id,
      input: { modules: ["overview", "reports"] },
    });

    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    const read = await asAdmin<{ dashboard: Data }>(
      "query ($id: ID!) { dashboard(id: $id) { title modules } }",
      { id },
    );
    expect(read.body.data?.dashboard).toEqual({ title: "Mine", modules: ["overview"] });
  });

  it("hides modules a downgrade took away, and shows them again after an upgrade", async () => {
    await setBilling({ plan: "enterprise" });
    const created = await asAdmin<{ createDashboard: { id: string } }>(CREATE_DASHBOARD, {
      input: { title: "Rich", modules: ["overview", "ai-insights", "audit-trail"] },
    });
    const id = created.body.data?.createDashboard.id;
    const read = () =>
      asAdmin<{ dashboard: { modules: string[] } }>(
        "query ($id: ID!) { dashboard(id: $id) { modules } }",
        { id },
      );

    await setBilling({ plan: "starter" });
    expect((await read()).body.data?.dashboard.modules).toEqual(["overview"]);
    await setBilling({ plan: "enterprise" });
    expect((await read()).body.data?.dashboard.modules).toEqual([
      "overview",
      "ai-insights",
      "audit-trail",
    ]);
    await setBilling({ plan: "starter" });
  });

  it("allows the module once the plan includes it, and once it is sold on top", async () => {
    await setBilling({ plan: "growth" });
    const created = await asAdmin<{ createDashboard: { id: string; modules: string[] } }>(
      CREATE_DASHBOARD,
      { input: { title: "Growth", modules: ["analytics"] } },
    );
    expect(created.body.errors).toBeUndefined();

    await setBilling({ plan: "growth", extraModules: ["ai-insights"] });
    const updated = await asAdmin<{ updateDashboard: Data }>(UPDATE_DASHBOARD, {
      id: created.body.data?.createDashboard.id,
      input: { title: "Growth+", modules: ["analytics", "ai-insights"] },
    });
    expect(updated.body.errors).toBeUndefined();
    expect(updated.body.data?.updateDashboard).toMatchObject({
      title: "Growth+",
      modules: ["analytics", "ai-insights"],
    });
    // And the cached dashboard is the new one.
    const read = await asAdmin<{ dashboard: Data }>(
      "query ($id: ID!) { dashboard(id: $id) { title modules } }",
      { id: created.body.data?.createDashboard.id },
    );
    expect(read.body.data?.dashboard).toEqual({
      title: "Growth+",
      modules: ["analytics", "ai-insights"],
    });
  });
});
