import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { createTestDatabase } from "../support/database.js";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.js";
import { codesOf, TEST_JWT_SECRET, uniqueTenantId } from "../support/gateway.js";
import { CHEAP, extensionsOf, rateLimitFields, setRateLimits } from "./rate-limit-support.js";

const PROVISION = `mutation ($input: ProvisionTenantInput!) {
  provisionTenant(input: $input) { tenant { id } adminUser { id } }
}`;

/** The budget the two processes share. */
const BUDGET = 6;

describe("two gateway processes behind one load balancer", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let first: GatewayProcess;
  let second: GatewayProcess;
  let tenantId: string;
  let adminToken: string;

  beforeAll(async () => {
    database = await createTestDatabase("rate-limits-processes");
    // One after the other: the first migrates the fresh database.
    first = await startGatewayProcess({ databaseUrl: database.url });
    second = await startGatewayProcess({ databaseUrl: database.url });

    const staffToken = await issueDevelopmentToken(TEST_JWT_SECRET, {
      sub: "staff-1",
      roles: ["global_admin"],
    });
    tenantId = uniqueTenantId("rl-shared");
    const provisioned = await first.request<{ provisionTenant: { adminUser: { id: string } } }>(
      PROVISION,
      {
        token: staffToken,
        variables: {
          input: {
            id: tenantId,
            name: "Shared budget",
            isolation: "SHARED",
            adminEmail: `admin@${tenantId}.test`,
          },
        },
      },
    );
    expect(provisioned.body.errors).toBeUndefined();
    const adminId = provisioned.body.data?.provisionTenant.adminUser.id as string;
    adminToken = await issueDevelopmentToken(TEST_JWT_SECRET, { sub: adminId, tid: tenantId });
    // Before the second process has ever looked the tenant up.
    await setRateLimits(first, staffToken, tenantId, { requestsPerMinute: BUDGET });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await database?.drop();
  });

  it("run as two operating-system processes", () => {
    expect(first.pid).not.toBe(second.pid);
    expect(first.pid).not.toBe(process.pid);
    expect(first.url).not.toBe(second.url);
  });

  it("share one budget: requests sent to both in turn run out after the budget, not twice it", async () => {
    const answers = [];
    for (let n = 0; n < BUDGET + 2; n += 1) {
      const target = n % 2 === 0 ? first : second;
      answers.push(await target.request(CHEAP, { tenant: tenantId, token: adminToken }));
    }

    expect(answers.map((res) => res.status)).toEqual([...Array(BUDGET).fill(200), 429, 429]);
    // Each process reports what both counted: one sequence, whichever answered.
    expect(answers.map((res) => rateLimitFields(res).remaining)).toEqual([5, 4, 3, 2, 1, 0, 0, 0]);
    for (const res of answers) {
      expect(rateLimitFields(res)).toMatchObject({ limit: BUDGET, policy: `${BUDGET};w=60` });
    }
    for (const refused of answers.slice(BUDGET)) {
      expect(codesOf(refused)).toEqual(["RATE_LIMITED"]);
      expect(extensionsOf(refused)).toMatchObject({ reason: "TENANT_REQUESTS", limit: BUDGET });
      expect(rateLimitFields(refused).retryAfter).toBe(extensionsOf(refused).retryAfterSeconds);
    }
  });
});
