import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

describe("requests a client got wrong", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let admin: string;

  beforeAll(async () => {
    gw = await startTestGateway("request-errors", { production: true });
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("reqerr"));
    admin = await gw.tokenFor(tenant.tenantId, tenant.users.admin);
  });
  afterAll(() => gw?.stop());

  it("answers a variable of the wrong type with BAD_USER_INPUT, not a server error", async () => {
    const create = "mutation($t: String!) { createChallenge(input: { title: $t }) { id } }";
    for (const variables of [{ t: 123 }, { t: ["x"] }, {}]) {
      const res = await gw.request(create, { tenant: tenant.tenantId, token: admin, variables });
      expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
      expect(res.body.errors?.[0]?.extensions?.field).toBe("t");
    }
    const page = "query($f: Int) { challenges(first: $f) { edges { cursor } } }";
    for (const f of ["abc", 2147483648]) {
      const res = await gw.request(page, {
        tenant: tenant.tenantId,
        token: admin,
        variables: { f },
      });
      expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
      expect(res.body.errors?.[0]?.extensions?.field).toBe("f");
    }
    const after = await gw.request<{ challenges: { edges: unknown[] } }>(
      "{ challenges(first: 100) { edges { cursor } } }",
      { tenant: tenant.tenantId, token: admin },
    );
    expect(after.body.data?.challenges.edges).toHaveLength(tenant.challengeIds.length);
  });

  it("refuses JSON config holding a NUL or a broken surrogate, and keeps the old one", async () => {
    const update = "mutation($b: JSON) { updateTenantConfig(input: { branding: $b }) { id } }";
    for (const bad of [
      { displayName: "x\u0000y" },
      { displayName: "\ud800" },
      { ["k\u0000"]: 1 },
    ]) {
      const res = await gw.request(update, {
        tenant: tenant.tenantId,
        token: admin,
        variables: { b: bad },
      });
      expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
      expect(res.body.errors?.[0]?.extensions?.field).toBe("branding");
    }
    const literal = await gw.request(update, {
      tenant: tenant.tenantId,
      token: admin,
      variables: { b: { loginMessage: "a backslash then u0000: \\u0000", displayName: "😀" } },
    });
    expect(codesOf(literal)).toEqual([]);
    const read = await gw.request<{ tenant: { branding: Record<string, string> } }>(
      "{ tenant { branding } }",
      { tenant: tenant.tenantId, token: admin },
    );
    expect(read.body.data?.tenant.branding).toEqual({
      loginMessage: "a backslash then u0000: \\u0000",
      displayName: "😀",
    });
  });

  it("does not offer automatic persisted queries", async () => {
    const res = await gw.request("{ tenant { id } }", {
      tenant: tenant.tenantId,
      headers: {},
    });
    expect(codesOf(res)).toEqual([]);
    const response = await fetch(`${gw.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tenant-id": tenant.tenantId },
      body: JSON.stringify({
        query: "{ tenant { id } }",
        extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } },
      }),
    });
    const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });

  it("answers an operationName the document lacks with Apollo's message, in production too", async () => {
    const response = await fetch(`${gw.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tenant-id": tenant.tenantId },
      body: JSON.stringify({ query: "{ tenant { id } }", operationName: "Nope" }),
    });
    const body = (await response.json()) as {
      errors?: { message: string; extensions?: { code?: string } }[];
    };
    expect(response.status).toBe(400);
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect(body.errors?.[0]?.message).toBe('Unknown operation named "Nope".');
  });
});
