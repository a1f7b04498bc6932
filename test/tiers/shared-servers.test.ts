import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import { TEST_SECOND_DATABASE_URL } from "../support/env.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

/**
 * Two gateway deployments (two control planes) placing DATABASE tenants on
 * the same server: neither may take over or drop what the other made.
 */
describe("two deployments sharing a database server", () => {
  let ours: TestGateway;
  let theirs: TestGateway;
  let tenantId: string;
  let adminToken: string;
  let adminId: string;
  const database = () => `ogc_tenant_${tenantId.replaceAll("-", "_")}`;

  const me = async () =>
    (
      await ours.request<{ me: { id: string } }>("{ me { id } }", {
        tenant: tenantId,
        token: adminToken,
      })
    ).body.data?.me.id;

  async function databaseExists(): Promise<boolean> {
    const client = new pg.Client({ connectionString: TEST_SECOND_DATABASE_URL });
    await client.connect();
    try {
      const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [
        database(),
      ]);
      return rowCount === 1;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    [ours, theirs] = await Promise.all([
      startTestGateway("servers-a"),
      startTestGateway("servers-b"),
    ]);
    tenantId = uniqueTenantId("contested");
    const { adminUser } = await provisionTenant(
      ours.gateway.lifecycle,
      {
        id: tenantId,
        name: "Ours",
        isolation: Isolation.DATABASE,
        region: "eu",
        adminEmail: `a@${tenantId}.test`,
      },
      "test",
    );
    adminId = adminUser.id;
    adminToken = await ours.tokenFor(tenantId, adminId);
  });
  afterAll(async () => {
    await theirs?.stop();
    await ours?.stop();
  });

  it("refuses to provision a tenant whose database another deployment made, leaving it untouched", async () => {
    const staff = await theirs.globalAdminToken();
    const attempt = await theirs.request(
      `mutation ($input: ProvisionTenantInput!) { provisionTenant(input: $input) { tenant { id } } }`,
      {
        token: staff,
        variables: {
          input: {
            id: tenantId,
            name: "Theirs",
            isolation: "DATABASE",
            region: "eu",
            adminEmail: "x@evil.test",
          },
        },
      },
    );

    expect(codesOf(attempt)).toEqual(["BAD_USER_INPUT"]);
    expect(attempt.body.errors?.[0]?.message).toMatch(/belongs to another gateway deployment/);
    // Our login still works: its password was not reset.
    expect(await me()).toBe(adminId);
  });

  it("does not drop the other deployment's database when removing its own failed attempt", async () => {
    const staff = await theirs.globalAdminToken();
    const remove = (force: boolean) =>
      theirs.request(
        "mutation ($id: ID!, $force: Boolean) { deprovisionTenant(id: $id, force: $force) }",
        {
          token: staff,
          variables: { id: tenantId, force },
        },
      );

    expect(codesOf(await remove(false))).toEqual(["BAD_USER_INPUT"]);
    expect((await remove(true)).body).toEqual({ data: { deprovisionTenant: true } });
    expect(await databaseExists()).toBe(true);
    expect(await me()).toBe(adminId);
  });
});
