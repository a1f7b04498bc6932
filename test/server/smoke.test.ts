import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

describe("a dashboard query over HTTP", () => {
  let gw: TestGateway;
  let acme: TenantFixture;

  beforeAll(async () => {
    gw = await startTestGateway("smoke");
    acme = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("acme"));
  });
  afterAll(() => gw?.stop());

  it("returns the tenant's challenges with submissions and authors", async () => {
    const token = await gw.tokenFor(acme.tenantId, acme.users.member);
    const res = await gw.request<{
      challenges: {
        edges: { node: { title: string; submissions: { author: { name: string } }[] } }[];
      };
    }>(
      "{ challenges(first: 50) { edges { node { title submissions { score author { name organizations { name } } } } } } }",
      { tenant: acme.tenantId, token },
    );
    expect(res.body.errors).toBeUndefined();
    const titles = res.body.data?.challenges.edges.map((e) => e.node.title);
    expect(titles).toEqual(["Challenge 1", "Challenge 2", "Challenge 3"]);
    expect(res.body.data?.challenges.edges[0]?.node.submissions).toHaveLength(2);
  });
});
