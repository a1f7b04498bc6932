import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

describe("staff access to a tenant is on the record", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;

  beforeAll(async () => {
    gw = await startTestGateway("staff-audit");
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("audit"));
  });
  afterAll(() => gw?.stop());

  const accessRows = () =>
    gw.gateway.database.control.platformAuditLog.findMany({
      where: { action: "tenant.access", tenantId: tenant.tenantId },
      orderBy: { id: "asc" },
    });

  it("writes one row per operation a global admin runs in a tenant, naming the fields read through fragments", async () => {
    const before = (await accessRows()).length;
    const res = await gw.request(
      "query Peek { ...F } fragment F on Query { users(first: 5) { edges { cursor } } ... on Query { dashboards { id } } }",
      { tenant: tenant.tenantId, token: await gw.globalAdminToken() },
    );
    expect(res.body.errors).toBeUndefined();

    const rows = await accessRows();
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)?.actorId).toBe("platform:staff-1");
    expect(rows.at(-1)?.detail).toMatchObject({
      operation: "query",
      operationName: "Peek",
      fields: ["dashboards", "users"],
    });
  });

  it("writes no staff row for a tenant's own admin", async () => {
    const before = (await accessRows()).length;
    await gw.request("{ users(first: 5) { edges { cursor } } }", {
      tenant: tenant.tenantId,
      token: await gw.tokenFor(tenant.tenantId, tenant.users.admin),
    });
    expect(await accessRows()).toHaveLength(before);
  });
});

describe("failed platform actions are on the record too", () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway("failed-audit");
  });
  afterAll(() => gw?.stop());

  it("writes a .failed row with the error code for a refused suspend and a bad provision", async () => {
    const token = await gw.globalAdminToken();
    const missing = uniqueTenantId("nosuch");
    const suspend = await gw.request(`mutation { suspendTenant(id: "${missing}") { id } }`, {
      token,
    });
    expect(suspend.body.errors?.[0]?.extensions?.code).toBe("TENANT_NOT_FOUND");
    const provision = await gw.request(
      `mutation { provisionTenant(input: { id: "Bad Id", name: "x", isolation: SHARED, adminEmail: "a@b.io" }) { tenant { id } } }`,
      { token },
    );
    expect(provision.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");

    const rows = await gw.gateway.database.control.platformAuditLog.findMany({
      where: { action: { endsWith: ".failed" } },
      orderBy: { id: "asc" },
    });
    expect(
      rows.map((row) => [row.action, row.actorId, (row.detail as { code?: string }).code]),
    ).toEqual([
      ["tenant.suspend.failed", "platform:staff-1", "TENANT_NOT_FOUND"],
      ["tenant.provision.failed", "platform:staff-1", "BAD_USER_INPUT"],
    ]);
    expect((rows[0]?.detail as { tenantId?: string }).tenantId).toBe(missing);
  });
});
