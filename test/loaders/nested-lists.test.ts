import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

type Page = { challenges: { edges: { node: { submissions: { id: string }[] } }[] } };

describe("nested lists never come back unbounded", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let token: string;

  beforeAll(async () => {
    gw = await startTestGateway("nested-lists");
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("nested"), {
      challenges: 2,
      submissionsPerChallenge: 150,
    });
    token = await gw.tokenFor(tenant.tenantId, tenant.users.member);
  });
  afterAll(() => gw?.stop());

  const submissions = async (args: string) => {
    const res = await gw.request<Page>(
      `{ challenges(first: 10) { edges { node { submissions${args} { id } } } } }`,
      { tenant: tenant.tenantId, token },
    );
    return { res, sizes: res.body.data?.challenges.edges.map((e) => e.node.submissions.length) };
  };

  it("gives 20 submissions per challenge by default", async () => {
    expect((await submissions("")).sizes).toEqual([20, 20]);
  });

  it("gives at most 100, the oldest first, however many exist", async () => {
    const { res, sizes } = await submissions("(first: 100)");
    expect(sizes).toEqual([100, 100]);
    const ids = res.body.data?.challenges.edges[0]?.node.submissions.map((s) => s.id) ?? [];
    expect(ids).toEqual([...ids].sort());
    const expected = new Set(tenant.submissionIds);
    expect(ids.every((id) => expected.has(id))).toBe(true);
  });

  it("refuses first past 100 with BAD_USER_INPUT", async () => {
    expect(codesOf((await submissions("(first: 101)")).res)).toContain("BAD_USER_INPUT");
    expect(codesOf((await submissions("(first: -1)")).res)).toContain("BAD_USER_INPUT");
  });
});
