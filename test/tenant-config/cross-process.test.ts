import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { createTestDatabase } from "../support/database.js";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.js";
import {
  codesOf,
  TEST_JWT_SECRET,
  uniqueTenantId,
  type GraphQLResponse,
} from "../support/gateway.js";
import { eventually } from "../support/eventually.js";

const PROVISION = `mutation ($input: ProvisionTenantInput!) {
  provisionTenant(input: $input) { tenant { id } adminUser { id } }
}`;
const UPDATE = `mutation ($input: UpdateTenantConfigInput!) {
  updateTenantConfig(input: $input) { id branding }
}`;
const SET_TENANT_FEATURE = `mutation ($tenantId: ID!, $key: String!, $enabled: Boolean) {
  setTenantFeature(tenantId: $tenantId, key: $key, enabled: $enabled) { key }
}`;

/**
 * Long enough that only a message can explain a change seen within a test:
 * without the invalidation bus, the other process would keep its copy for
 * ten minutes.
 */
const TEN_MINUTES_MS = "600000";

describe("a configuration change made through one gateway process", () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let writer: GatewayProcess;
  let reader: GatewayProcess;
  let tenantId: string;
  let staffToken: string;
  let adminToken: string;

  beforeAll(async () => {
    database = await createTestDatabase("config-processes");
    const env = { CONFIG_CACHE_TTL_MS: TEN_MINUTES_MS };
    writer = await startGatewayProcess({ databaseUrl: database.url, env });
    reader = await startGatewayProcess({ databaseUrl: database.url, env });

    staffToken = await issueDevelopmentToken(TEST_JWT_SECRET, {
      sub: "staff-1",
      roles: ["global_admin"],
    });
    tenantId = uniqueTenantId("cfg-proc");
    const provisioned = await writer.request<{ provisionTenant: { adminUser: { id: string } } }>(
      PROVISION,
      {
        token: staffToken,
        variables: {
          input: {
            id: tenantId,
            name: "Two",
            isolation: "SHARED",
            adminEmail: `a@${tenantId}.test`,
          },
        },
      },
    );
    expect(provisioned.body.errors).toBeUndefined();
    const adminId = provisioned.body.data?.provisionTenant.adminUser.id as string;
    adminToken = await issueDevelopmentToken(TEST_JWT_SECRET, { sub: adminId, tid: tenantId });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([writer?.stop(), reader?.stop()]);
    await database?.drop();
  });

  const readTenant = () =>
    reader.request<{ tenant: { branding: Record<string, unknown>; features: string[] } }>(
      "{ tenant { branding features } }",
      { tenant: tenantId, token: adminToken },
    );

  it("is seen by the other process at once, though it keeps tenants for ten minutes", async () => {
    // The reader now holds the tenant in its cache.
    const before = await readTenant();
    expect(before.body.data?.tenant.branding).toEqual({
      displayName: "Two",
      primaryColor: "#3b5bdb",
    });

    const updated = await writer.request(UPDATE, {
      tenant: tenantId,
      token: adminToken,
      variables: { input: { branding: { displayName: "Seen everywhere" } } },
    });
    expect(updated.body.errors).toBeUndefined();
    const answered = performance.now();

    const after = await eventually(
      readTenant,
      (res) => res.body.data?.tenant.branding.displayName === "Seen everywhere",
    );
    process.stdout.write(
      `config change seen by the other process ${(performance.now() - answered).toFixed(1)} ms after the writer answered\n`,
    );
    expect(after.body.data?.tenant.branding).toEqual({ displayName: "Seen everywhere" });
  });

  it("switches a feature off in the other process too", async () => {
    const dashboards = () =>
      reader.request("{ dashboards { id } }", { tenant: tenantId, token: adminToken });
    expect((await dashboards()).body.errors).toBeUndefined();

    const off = await writer.request(SET_TENANT_FEATURE, {
      token: staffToken,
      variables: { tenantId, key: "dashboards", enabled: false },
    });
    expect(off.body.errors).toBeUndefined();

    const refused = await eventually(dashboards, (res: GraphQLResponse) => codesOf(res).length > 0);
    expect(codesOf(refused)).toEqual(["FEATURE_DISABLED"]);
    const features = await readTenant();
    expect(features.body.data?.tenant.features).not.toContain("dashboards");
  });

  it("suspends the tenant in the other process too", async () => {
    const suspended = await writer.request(
      "mutation ($id: ID!) { suspendTenant(id: $id) { status } }",
      {
        token: staffToken,
        variables: { id: tenantId },
      },
    );
    expect(suspended.body.errors).toBeUndefined();

    const refused = await eventually(readTenant, (res) => codesOf(res).length > 0);
    expect(codesOf(refused)).toEqual(["TENANT_SUSPENDED"]);
  });
});
