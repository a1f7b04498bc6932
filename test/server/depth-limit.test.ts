import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

/** `me { organizations { members { user { … } } } }` nested `rounds` times. */
function nested(rounds: number, leaf = "name"): string {
  let inner = leaf;
  for (let i = 0; i < rounds; i += 1) inner = `organizations { members { user { ${inner} } } }`;
  return `{ me { ${inner} } }`;
}

describe("the query depth limit", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let token: string;

  beforeAll(async () => {
    gw = await startTestGateway("depth", {
      // Only depth is under test here; the cost limit and the tenants'
      // per-minute cost budgets (rate limits) have files of their own.
      env: { QUERY_MAX_DEPTH: "8", QUERY_MAX_COST: "100000000", RATE_LIMITS: "false" },
    });
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("depth"));
    token = await gw.tokenFor(tenant.tenantId, tenant.users.orgOwner);
  });
  afterAll(() => gw?.stop());

  it("answers a query at the limit", async () => {
    // me(1) + 2 rounds of 3 levels (7) + name(8)
    const res = await gw.request<{ me: { organizations: unknown[] } }>(nested(2), {
      tenant: tenant.tenantId,
      token,
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.me.organizations).toHaveLength(1);
  });

  it("refuses a query one level deeper with BAD_USER_INPUT and runs nothing", async () => {
    const res = await gw.request(nested(2, "organizations { name }"), {
      tenant: tenant.tenantId,
      token,
    });
    expect(res.status).toBe(400);
    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.message).toMatch(/at most 8 levels/);
    expect(res.body.data).toBeUndefined();
  });

  it("counts the depth through fragments", async () => {
    const query = `
      fragment Deep on User { organizations { members { user { organizations { members { user { organizations { name } } } } } } } }
      { me { ...Deep } }`;
    const res = await gw.request(query, { tenant: tenant.tenantId, token });
    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
  });

  it("refuses fragments that spread each other instead of looping", async () => {
    const query = `
      fragment A on User { organizations { members { user { ...B } } } }
      fragment B on User { organizations { members { user { ...A } } } }
      { me { ...A } }`;
    const res = await gw.request(query, { tenant: tenant.tenantId, token });
    expect(res.status).toBe(400);
    expect(new Set(codesOf(res))).toEqual(new Set(["BAD_USER_INPUT"]));
  });
});
