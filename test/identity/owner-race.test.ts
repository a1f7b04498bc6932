import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

const ADD_MEMBER = `mutation($org: ID!, $user: ID!, $role: MembershipRole!) {
  addMember(organizationId: $org, userId: $user, role: $role) { role }
}`;

describe("an organization admin racing an owner's promotion", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;

  beforeAll(async () => {
    gw = await startTestGateway("owner-race");
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("race"));
  });
  afterAll(() => gw?.stop());

  it("sees the promotion that committed first and is refused, leaving the owner an owner", async () => {
    const { tenantId, organizationId, users } = tenant;
    const other = new pg.Client({ connectionString: gw.databaseUrl });
    await other.connect();
    try {
      // Another session holds the member's row while it makes them owner.
      await other.query("BEGIN");
      await other.query(
        `SELECT role FROM "Membership" WHERE "tenantId" = $1 AND "organizationId" = $2 AND "userId" = $3 FOR UPDATE`,
        [tenantId, organizationId, users.orgMember],
      );

      // The admin may turn a plain member into an admin; the request waits.
      const pending = gw.request(ADD_MEMBER, {
        tenant: tenantId,
        token: await gw.tokenFor(tenantId, users.orgAdmin),
        variables: { org: organizationId, user: users.orgMember, role: "ADMIN" },
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await other.query(
        `UPDATE "Membership" SET role = 'OWNER' WHERE "tenantId" = $1 AND "organizationId" = $2 AND "userId" = $3`,
        [tenantId, organizationId, users.orgMember],
      );
      await other.query("COMMIT");

      const res = await pending;
      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
      const { rows } = await other.query(
        `SELECT role::text AS role FROM "Membership" WHERE "tenantId" = $1 AND "organizationId" = $2 AND "userId" = $3`,
        [tenantId, organizationId, users.orgMember],
      );
      expect(rows).toEqual([{ role: "OWNER" }]);
    } finally {
      await other.end();
    }
  });
});
