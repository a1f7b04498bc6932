import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import type { Gateway } from "../../src/server/gateway.js";
import { startEmbeddedGateway, type EmbeddedGateway } from "../support/embedded-gateway.js";
import { TEST_JWT_SECRET as SECRET, uniqueTenantId } from "../support/gateway.js";

/** `npm start` with no servers: telemetry writes through the embedded PGlite's one connection. */
describe("usage, errors and health on the embedded database", () => {
  let embedded: EmbeddedGateway;
  let gateway: Gateway;
  let url: string;
  const shared = uniqueTenantId("emb-tel-a");
  const schema = uniqueTenantId("emb-tel-b");

  async function ask(query: string, token: string, tenant?: string) {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
        ...(tenant ? { "x-tenant-id": tenant } : {}),
      },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as {
      data?: Record<string, unknown>;
      errors?: { extensions?: { code?: string } }[];
    };
  }

  beforeAll(async () => {
    embedded = await startEmbeddedGateway("embedded-telemetry", {
      TELEMETRY_FLUSH_MS: "600000",
      HEALTH_PROBE_MS: "3600000",
    });
    ({ gateway, url } = embedded);
    for (const [id, isolation] of [
      [shared, Isolation.SHARED],
      [schema, Isolation.SCHEMA],
    ] as const) {
      await provisionTenant(
        gateway.lifecycle,
        { id, name: id, isolation, adminEmail: `root@${id}.test` },
        "test",
      );
    }
  });
  afterAll(() => embedded?.stop());

  it("counts, clusters and probes, and answers the admin views", async () => {
    const staff = await issueDevelopmentToken(SECRET, { sub: "staff", roles: ["global_admin"] });
    for (const tenant of [shared, schema]) {
      expect((await ask("query Ok { tenant { id } }", staff, tenant)).errors).toBeUndefined();
      const failed = await ask("query Tenant { tenant { nope } }", staff, tenant);
      expect(failed.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    }
    await gateway.telemetry.probe();
    await gateway.telemetry.flush();

    const res = await ask(
      `{
        adminTenants {
          id
          healthReport {
            databaseReachable requestsLastHour errorsLastHour failuresLastHour uptime24h
          }
          usageReport { requests errors databaseBytes }
          billingState { overage }
        }
        adminErrorClusters { operation count tenantCount }
        adminTraffic { tenantId points { requests errors } }
      }`,
      staff,
    );

    expect(res.errors).toBeUndefined();
    const data = res.data as {
      adminTenants: {
        id: string;
        healthReport: Record<string, unknown>;
        usageReport: { requests: number; errors: number; databaseBytes: number | null };
        billingState: { overage: boolean };
      }[];
      adminErrorClusters: { operation: string; count: number; tenantCount: number }[];
      adminTraffic: { tenantId: string; points: { requests: number; errors: number }[] }[];
    };
    for (const tenant of data.adminTenants) {
      expect(tenant.healthReport).toEqual({
        databaseReachable: true,
        requestsLastHour: 2,
        errorsLastHour: 1,
        failuresLastHour: 0,
        uptime24h: 1,
      });
      // Staff's requests in a tenant are traffic, not billable usage.
      expect(tenant.usageReport).toMatchObject({ requests: 0, errors: 0 });
      expect(tenant.usageReport.databaseBytes).toBeGreaterThan(0);
      expect(tenant.billingState.overage).toBe(false);
    }
    expect(data.adminErrorClusters).toEqual([{ operation: "Tenant", count: 2, tenantCount: 2 }]);
    expect(data.adminTraffic.map((series) => series.tenantId)).toEqual([shared, schema].sort());
  });
});
