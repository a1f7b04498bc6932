import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { buildSchema, isObjectType } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { firstLimits } from "../../src/server/query-cost.js";
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

  it("answers an operationName the document lacks as Apollo does, not with a TypeError", async () => {
    const ask = (query: string, operationName?: string) =>
      fetch(`${gw.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-tenant-id": tenant.tenantId },
        body: JSON.stringify({ query, operationName }),
      }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as {
          data?: unknown;
          errors?: { message: string; extensions?: Record<string, unknown> }[];
        },
      }));

    for (const query of ["{ tenant { id } }", "query Real { tenant { id } }"]) {
      const res = await ask(query, "Nope");
      expect(res.status).toBe(400);
      expect(res.body.errors?.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
      expect(res.body.errors?.[0]?.message).toBe('Unknown operation named "Nope".');
    }
    const several = await ask("query A { tenant { id } } query B { tenant { name } }");
    expect(several.body.errors?.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect(several.body.errors?.[0]?.message).toMatch(/Must provide operation name/);
    // The operation it does name runs.
    const named = await ask("query A { tenant { id } } query B { tenant { name } }", "B");
    expect(named.body.errors).toBeUndefined();
  });

  it("counts a `first` past a list's limit at the limit, so the field answers BAD_USER_INPUT naming it", async () => {
    const staff = await gw.globalAdminToken();
    const admin = await gw.tokenFor(tenant.tenantId, tenant.users.admin);
    const limits = firstLimits();
    const asks = [
      {
        field: "adminErrorClusters",
        query: "{ adminErrorClusters(first: 100000) { fingerprint } }",
      },
      {
        field: "tenantLogs",
        query: `{ tenantLogs(id: "${tenant.tenantId}", first: 100000) { message } }`,
      },
      { field: "jobs", query: "{ jobs(first: 100000) { id } }" },
      { field: "tenantJobs", query: "{ tenantJobs(first: 100000) { id } }", tenant: true },
      {
        field: "tenantConfigVersions",
        query: "{ tenantConfigVersions(first: 100000) { version } }",
        tenant: true,
      },
    ];
    for (const { field, query, tenant: scoped } of asks) {
      const res = await gw.request(
        query,
        scoped ? { tenant: tenant.tenantId, token: admin } : { token: staff },
      );
      expect(codesOf(res), query).toEqual(["BAD_USER_INPUT"]);
      expect(res.body.errors?.[0]?.extensions?.field, query).toBe("first");
      // The resolver's own range, which is the limit the estimate counts.
      expect(res.body.errors?.[0]?.message, query).toMatch(
        new RegExp(`^first must be from 1 to ${limits[`Query.${field}`]}\\b`),
      );
    }
    // A list nested in a list: the inner field refuses, not the cost check.
    const nested = await gw.request(
      "{ challenges(first: 100000) { edges { node { submissions(first: 100000) { score } } } } }",
      { tenant: tenant.tenantId, token },
    );
    expect(codesOf(nested)).toContain("BAD_USER_INPUT");
    expect(nested.body.errors?.[0]?.extensions?.field).toBe("first");
    expect(nested.body.errors?.[0]?.message).not.toMatch(/limit is/);
  });

  it("knows the limit of every field that takes `first`", async () => {
    const schema = buildSchema(
      await readFile(join(import.meta.dirname, "..", "..", "schema.graphql"), "utf8"),
    );
    const paged: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith("__")) continue;
      for (const field of Object.values(type.getFields())) {
        if (field.args.some((arg) => arg.name === "first"))
          paged.push(`${type.name}.${field.name}`);
      }
    }

    expect(paged.length).toBeGreaterThan(5);
    expect(Object.keys(firstLimits()).sort()).toEqual(paged.sort());
  });
});
