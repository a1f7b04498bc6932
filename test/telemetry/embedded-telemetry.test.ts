import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { loadConfig } from "../../src/config/index.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import { createLogger } from "../../src/logging/index.js";
import { createGateway, type Gateway } from "../../src/server/gateway.js";
import { uniqueTenantId } from "../support/gateway.js";

const SECRET = "embedded-telemetry-secret-long-enough-for-hs256";

/** `npm start` with no servers: telemetry writes through the embedded PGlite's one connection. */
describe("usage, errors and health on the embedded database", () => {
  let gateway: Gateway;
  let url: string;
  let files: string;
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
    files = await mkdtemp(join(tmpdir(), "ogc-embedded-telemetry-"));
    const config = loadConfig({
      NODE_ENV: "test",
      DATA_DIR: "memory://",
      JWT_SECRET: SECRET,
      STORAGE_DIR: join(files, "storage"),
      EXPORT_DIR: join(files, "exports"),
      PORT: "0",
      TELEMETRY_FLUSH_MS: "600000",
      HEALTH_PROBE_MS: "3600000",
    });
    gateway = await createGateway({
      config,
      logger: createLogger({ level: "silent" }),
      registryTtlMs: 0,
    });
    url = await gateway.listen(0);
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
  afterAll(async () => {
    await gateway?.stop();
    await rm(files, { recursive: true, force: true });
  });

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
