import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

const DASHBOARD = `query Dashboard($first: Int) {
  challenges(first: $first) {
    edges { node { title submissions { score author { name organizations { name } } } } }
  }
}`;

/** Users → organizations → members → user, `rounds` times: grows ×100 a round. */
function cyclic(rounds: number): string {
  let inner = "id";
  for (let i = 0; i < rounds; i += 1) inner = `organizations { members { user { ${inner} } } }`;
  return `{ users(first: 100) { edges { node { ${inner} } } } }`;
}

describe("limits on what one operation may cost", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let token: string;

  beforeAll(async () => {
    gw = await startTestGateway("limits");
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("limits"));
    token = await gw.tokenFor(tenant.tenantId, tenant.users.member);
  });
  afterAll(() => gw?.stop());

  it("serves the dashboard query for 50 challenges", async () => {
    const res = await gw.request<{ challenges: { edges: unknown[] } }>(DASHBOARD, {
      tenant: tenant.tenantId,
      token,
      variables: { first: 50 },
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.challenges.edges).toHaveLength(3);
  });

  it("refuses a query whose nested lists multiply past the limit, before any SQL runs", async () => {
    const statements = gw.gateway.database.statements;
    const before = statements.count;
    const res = await gw.request(cyclic(2), { tenant: tenant.tenantId, token });

    expect(res.status).toBe(400);
    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.message).toMatch(/limit is 50000/);
    expect(res.body.errors?.[0]?.extensions?.cost).toBeGreaterThan(50_000);
    expect(res.body.data).toBeUndefined();
    // Only the context's own lookups (tenant, caller) ran; no resolver did.
    const contextOnly = statements.count - before;
    const small = await gw.request(cyclic(0), { tenant: tenant.tenantId, token });
    expect(small.body.errors).toBeUndefined();
    expect(contextOnly).toBeLessThan(statements.count - before - contextOnly);
  });

  it("prices a paged field by the `first` its variables ask for", async () => {
    const limited = await startTestGateway("limits-cost", { env: { QUERY_MAX_COST: "1000" } });
    try {
      const other = await seedTenantFixture(limited.gateway.lifecycle, uniqueTenantId("limits-c"));
      const memberToken = await limited.tokenFor(other.tenantId, other.users.member);
      const ask = (first: number) =>
        limited.request(DASHBOARD, {
          tenant: other.tenantId,
          token: memberToken,
          variables: { first },
        });

      // One challenge edge costs 1 + (1 + 20 × (1 + 1 + 20 × 1)) = 442 by the
      // estimate (submissions and organizations default to 20), plus 1 for
      // the page: 885 for two, 1327 for three.
      expect(codesOf(await ask(2))).toEqual([]);
      expect(codesOf(await ask(3))).toEqual(["BAD_USER_INPUT"]);
    } finally {
      await limited.stop();
    }
  });

  it("stops a huge document at the parser, even from an anonymous caller", async () => {
    const query = `{ ${Array.from({ length: 5_000 }, (_, i) => `t${i}: tenant { id name branding }`).join(" ")} }`;
    const started = Date.now();
    const res = await gw.request(query, { tenant: tenant.tenantId });
    const elapsed = Date.now() - started;

    expect(res.status).toBe(400);
    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.message).toMatch(/5000 tokens/);
    // A bound that shows the document was never validated (that took seconds).
    expect(elapsed).toBeLessThan(2_000);
  });
});
