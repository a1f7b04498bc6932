import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TenantStatus } from "../../src/generated/prisma/enums.js";
import { deprovisionTenant } from "../../src/lifecycle/deprovision.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

/** Flushes that meet a removed tenant or a database error lose nothing and count nothing twice. */
describe("flushing counts", () => {
  let gw: TestGateway;
  let kept: TenantFixture;
  let gone: TenantFixture;

  async function serve(tenant: TenantFixture, times: number) {
    const token = await gw.tokenFor(tenant.tenantId, tenant.users.member);
    for (let i = 0; i < times; i += 1) {
      expect((await gw.request("{ tenant { id } }", { token })).body.errors).toBeUndefined();
    }
  }

  async function counted(tenantId: string) {
    const control = gw.gateway.database.control;
    const usage = await control.tenantUsagePeriod.findMany({ where: { tenantId } });
    const windows = await control.tenantTraffic.findMany({ where: { tenantId } });

    return {
      month: usage.reduce((sum, row) => sum + Number(row.requests), 0),
      windows: windows.reduce((sum, row) => sum + row.requests, 0),
    };
  }

  beforeAll(async () => {
    gw = await startTestGateway("flush-failures", {
      env: { RATE_LIMITS: "false", HEALTH_PROBE_MS: "0", TELEMETRY_FLUSH_MS: "600000" },
    });
    [kept, gone] = await Promise.all([
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("kept")),
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("gone")),
    ]);
  });
  afterAll(() => gw?.stop());

  it("writes the other tenants' counts when one was removed before the flush", async () => {
    await serve(kept, 3);
    await serve(gone, 2);
    await gw.gateway.database.control.tenant.update({
      where: { id: gone.tenantId },
      data: { status: TenantStatus.SUSPENDED },
    });
    await deprovisionTenant(gw.gateway.lifecycle, gone.tenantId, "test");

    await gw.gateway.telemetry.flush();

    expect(await counted(kept.tenantId)).toEqual({ month: 3, windows: 3 });
    expect(await counted(gone.tenantId)).toEqual({ month: 0, windows: 0 });
  });

  it("keeps the counts of a failed flush for the next one, and writes them once", async () => {
    const control = gw.gateway.database.control;
    await serve(kept, 2);
    // The month's table goes missing: the whole flush fails, its window rows included.
    await control.$executeRawUnsafe(`ALTER TABLE "TenantUsagePeriod" RENAME TO "UsageAway"`);
    try {
      await expect(gw.gateway.telemetry.flush()).rejects.toThrow();
      await serve(kept, 1);
    } finally {
      await control.$executeRawUnsafe(`ALTER TABLE "UsageAway" RENAME TO "TenantUsagePeriod"`);
    }

    await gw.gateway.telemetry.flush();

    expect(await counted(kept.tenantId)).toEqual({ month: 6, windows: 6 });
  });
});
