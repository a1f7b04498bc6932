import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deprovisionTenant } from "../../src/lifecycle/deprovision.js";
import { exportTenant } from "../../src/lifecycle/export-tenant.js";
import { main as archiveScript } from "../../src/scripts/tenant-archive.js";
import { TEST_REDIS_URL } from "../support/env.js";
import { eventually } from "../support/eventually.js";
import { seedTenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

const SUSPEND = "mutation ($id: ID!) { suspendTenant(id: $id) { status } }";

describe("a tenant imported with npm run tenant:import", () => {
  let gw: TestGateway;
  const tenantId = uniqueTenantId("announce");
  let archive: string;

  beforeAll(async () => {
    // Tenants are kept ten minutes: only a message can make the gateway look again.
    gw = await startTestGateway("import-announce", { registryTtlMs: 600_000 });
    await seedTenantFixture(gw.gateway.lifecycle, tenantId);
    archive = (await exportTenant(gw.gateway.lifecycle, tenantId, "test")).path;
    const staff = await gw.globalAdminToken();
    await gw.request(SUSPEND, { token: staff, variables: { id: tenantId } });
    await deprovisionTenant(gw.gateway.lifecycle, tenantId, "test");
  });
  afterAll(() => gw?.stop());

  const ask = () => gw.request("{ tenant { id } }", { tenant: tenantId });

  it("is served by a running gateway that remembered it as unknown", async () => {
    // The gateway forgets the removed tenant, then remembers that it is gone.
    gw.gateway.registry.invalidate(tenantId);
    expect(codesOf(await ask())).toEqual(["TENANT_NOT_FOUND"]);

    const out = { stdout: "", stderr: "" };
    const code = await archiveScript(
      ["import", "--file", archive, "--isolation", "shared"],
      {
        NODE_ENV: "test",
        DATABASE_URL: gw.databaseUrl,
        DATABASE_SERVERS: JSON.stringify([{ id: "primary", region: "local", url: gw.databaseUrl }]),
        REDIS_URL: TEST_REDIS_URL,
        ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
        STORAGE_DIR: gw.gateway.lifecycle.storage.root,
        EXPORT_DIR: gw.gateway.lifecycle.exportDir,
      },
      { stdout: (text) => (out.stdout += text), stderr: (text) => (out.stderr += text) },
    );
    expect({ code, stderr: out.stderr }).toEqual({ code: 0, stderr: "" });

    const served = await eventually(ask, (res) => codesOf(res).length === 0);
    expect(served.body.data).toEqual({ tenant: { id: tenantId } });
  });
});
