import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AddMemberDocument,
  AssignRoleDocument,
  CreateUserDocument,
  type MembershipRole,
} from "../generated/graphql.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  codesOf,
  execute,
  startTestGateway,
  uniqueTenantId,
  type TestGateway,
} from "../support/gateway.js";

const TWENTY = Array.from({ length: 20 }, (_, n) => n);

describe("concurrent identical writes", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let asAdmin: { tenant: string; token: string };

  beforeAll(async () => {
    gw = await startTestGateway("concurrent-writes");
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("race"));
    asAdmin = {
      tenant: tenant.tenantId,
      token: await gw.tokenFor(tenant.tenantId, tenant.users.admin),
    };
  });
  afterAll(() => gw?.stop());

  it("answers 20 concurrent assignRole calls for one new assignment with success", async () => {
    const userId = tenant.users.nobody;

    const results = await Promise.all(
      TWENTY.map(() =>
        execute(gw, AssignRoleDocument, { ...asAdmin, variables: { userId, role: "analyst" } }),
      ),
    );

    expect(results.map(codesOf)).toEqual(TWENTY.map(() => []));
    for (const res of results) expect(res.body.data?.assignRole.roles).toEqual(["analyst"]);
    const rows = await gw.gateway.database.forTenant(tenant.tenantId).roleAssignment.findMany({
      where: { tenantId: tenant.tenantId, userId },
      select: { roleName: true },
    });
    expect(rows).toEqual([{ roleName: "analyst" }]);
  });

  it("answers 20 concurrent addMember calls for one new member with success", async () => {
    const userId = tenant.users.analyst;
    const variables = {
      organizationId: tenant.organizationId,
      userId,
      role: "MEMBER" as MembershipRole,
    };

    const results = await Promise.all(
      TWENTY.map(() => execute(gw, AddMemberDocument, { ...asAdmin, variables })),
    );

    expect(results.map(codesOf)).toEqual(TWENTY.map(() => []));
    for (const res of results) {
      expect(res.body.data?.addMember).toMatchObject({ role: "MEMBER", user: { id: userId } });
    }
    const rows = await gw.gateway.database.forTenant(tenant.tenantId).membership.findMany({
      where: { tenantId: tenant.tenantId, organizationId: tenant.organizationId, userId },
      select: { role: true },
    });
    expect(rows).toEqual([{ role: "MEMBER" }]);
  });

  it("lets concurrent addMember calls with different roles all succeed, one role kept", async () => {
    const userId = tenant.users.participant;
    const roles: MembershipRole[] = ["MEMBER", "ADMIN"];

    const results = await Promise.all(
      TWENTY.map((n) =>
        execute(gw, AddMemberDocument, {
          ...asAdmin,
          variables: { organizationId: tenant.organizationId, userId, role: roles[n % 2]! },
        }),
      ),
    );

    expect(results.map(codesOf)).toEqual(TWENTY.map(() => []));
    const rows = await gw.gateway.database.forTenant(tenant.tenantId).membership.findMany({
      where: { tenantId: tenant.tenantId, organizationId: tenant.organizationId, userId },
      select: { role: true },
    });
    expect(rows).toHaveLength(1);
    expect(roles).toContain(rows[0]?.role);
  });
});

describe("role names the tenant does not have", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let asAdmin: { tenant: string; token: string };

  beforeAll(async () => {
    gw = await startTestGateway("unknown-roles");
    tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("roles"));
    asAdmin = {
      tenant: tenant.tenantId,
      token: await gw.tokenFor(tenant.tenantId, tenant.users.admin),
    };
  });
  afterAll(() => gw?.stop());

  it("answers createUser with an unknown role with BAD_USER_INPUT on roles", async () => {
    const email = `ghost@${tenant.tenantId}.test`;
    const res = await execute(gw, CreateUserDocument, {
      ...asAdmin,
      variables: { input: { email, name: "Ghost", roles: ["member", "no_such_role"] } },
    });

    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.extensions?.field).toBe("roles");
    expect(res.body.errors?.[0]?.message).toBe('There is no role "no_such_role" in this tenant.');
    const created = await gw.gateway.database.forTenant(tenant.tenantId).user.findUnique({
      where: { tenantId_email: { tenantId: tenant.tenantId, email } },
    });
    expect(created).toBeNull();
  });

  it("answers assignRole with an unknown role with BAD_USER_INPUT on role", async () => {
    const res = await execute(gw, AssignRoleDocument, {
      ...asAdmin,
      variables: { userId: tenant.users.member, role: "no_such_role" },
    });

    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.extensions?.field).toBe("role");
    expect(res.body.errors?.[0]?.message).toBe('There is no role "no_such_role" in this tenant.');
  });

  it("answers assignRole with a malformed role name with BAD_USER_INPUT on role", async () => {
    const res = await execute(gw, AssignRoleDocument, {
      ...asAdmin,
      variables: { userId: tenant.users.member, role: "Not A Role!" },
    });

    expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.extensions?.field).toBe("role");
    expect(res.body.errors?.[0]?.message).toBe('There is no role "Not A Role!" in this tenant.');
  });

  it("still answers assignRole for an unknown user with NOT_FOUND", async () => {
    const res = await execute(gw, AssignRoleDocument, {
      ...asAdmin,
      variables: { userId: "no-such-user", role: "member" },
    });

    expect(codesOf(res)).toEqual(["NOT_FOUND"]);
  });
});
