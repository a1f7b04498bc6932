import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { planLocation } from "../../src/data/placement/tenant-location.js";
import { createLocation } from "../../src/lifecycle/locations.js";
import { sweepLeftCopies } from "../../src/lifecycle/left-copies.js";
import { moveTenant, settleInterruptedMoves } from "../../src/lifecycle/move-tenant.js";
import { TEST_SECOND_DATABASE_URL } from "../support/env.js";
import { seedTenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

/**
 * A move whose process died leaves `movingTo` set: before the fence, the
 * tenant is whole at the source and a half-made target lies about; after
 * the fence and before the registry switch, every request fails at the fence.
 * These tests stage both states by hand, as a crash would leave them.
 */
describe("moves interrupted by a crash", () => {
  let gw: TestGateway;
  let control: pg.Client;

  const answer = async (tenantId: string, token: string) =>
    gw.request<{ me: { id: string }; challenges: { edges: unknown[] } }>(
      "{ me { id } challenges(first: 50) { edges { node { id } } } }",
      { tenant: tenantId, token },
    );

  async function databaseExists(name: string): Promise<boolean> {
    const client = new pg.Client({ connectionString: TEST_SECOND_DATABASE_URL });
    await client.connect();
    try {
      return (
        (await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1
      );
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    gw = await startTestGateway("interrupted-moves");
    control = new pg.Client({ connectionString: gw.databaseUrl });
    await control.connect();
  });
  afterAll(async () => {
    await control?.end();
    await gw?.stop();
  });

  it("undoes a move that died before the fence: the half-made target goes, the tenant stays", async () => {
    const tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("undone"));
    const token = await gw.tokenFor(tenant.tenantId, tenant.users.admin);
    const before = await answer(tenant.tenantId, token);
    const planned = planLocation(tenant.tenantId, Isolation.DATABASE, "second");
    await createLocation(gw.gateway.database, tenant.tenantId, planned);
    await control.query(`UPDATE "Tenant" SET "movingTo" = $2 WHERE id = $1`, [
      tenant.tenantId,
      `database:second/${planned.isolation === "DATABASE" ? planned.database : ""}`,
    ]);

    await settleInterruptedMoves(gw.gateway.lifecycle);

    const row = await gw.gateway.database.control.tenant.findUnique({
      where: { id: tenant.tenantId },
    });
    expect(row).toMatchObject({ isolation: "SHARED", movingTo: null });
    expect(await databaseExists(`ogc_tenant_${tenant.tenantId.replaceAll("-", "_")}`)).toBe(false);
    expect((await answer(tenant.tenantId, token)).body).toEqual(before.body);
  });

  it("finishes a move that died between the fence and the switch, bringing the tenant back", async () => {
    const tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("finished"), {
      challenges: 3,
    });
    const token = await gw.tokenFor(tenant.tenantId, tenant.users.admin);
    const before = await answer(tenant.tenantId, token);
    const schema = `tenant_${tenant.tenantId.replaceAll("-", "_")}`;
    await control.query(`UPDATE "Tenant" SET "movingTo" = $2 WHERE id = $1`, [
      tenant.tenantId,
      `schema:${schema}`,
    ]);
    await control.query(`INSERT INTO "TenantFence" ("tenantId", "movedTo") VALUES ($1, $2)`, [
      tenant.tenantId,
      `schema:${schema}`,
    ]);
    gw.gateway.database.placement.invalidate(tenant.tenantId);

    const stuck = await answer(tenant.tenantId, token);
    expect(stuck.body.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");

    await settleInterruptedMoves(gw.gateway.lifecycle);

    const row = await gw.gateway.database.control.tenant.findUnique({
      where: { id: tenant.tenantId },
    });
    expect(row).toMatchObject({ isolation: "SCHEMA", schemaName: schema, movingTo: null });
    expect((await answer(tenant.tenantId, token)).body).toEqual(before.body);
    const shared = await control.query(`SELECT 1 FROM "User" WHERE "tenantId" = $1`, [
      tenant.tenantId,
    ]);
    expect(shared.rowCount).toBe(0);
  });

  it("settles an interrupted move before the next move of the tenant", async () => {
    const tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("next"));
    await control.query(`UPDATE "Tenant" SET "movingTo" = $2 WHERE id = $1`, [
      tenant.tenantId,
      `schema:tenant_${tenant.tenantId.replaceAll("-", "_")}`,
    ]);

    const report = await moveTenant(
      gw.gateway.lifecycle,
      tenant.tenantId,
      { isolation: Isolation.DATABASE, region: "eu" },
      "test",
    );

    expect(report.from).toBe("shared");
    expect(report.to).toMatch(/^database:second\//);
  });

  it("sweeps away an old copy a move switched from but never removed, and nothing else", async () => {
    const moved = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("swept"));
    const bystander = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("bystander"), {
      isolation: Isolation.SCHEMA,
    });
    const token = await gw.tokenFor(moved.tenantId, moved.users.admin);
    const before = await answer(moved.tenantId, token);
    // As a crash after the switch leaves it: the tenant lives in the shared
    // tables, and its old database copy, fenced, is still on the server.
    const old = planLocation(moved.tenantId, Isolation.DATABASE, "second");
    await createLocation(gw.gateway.database, moved.tenantId, old);
    const url = new URL(TEST_SECOND_DATABASE_URL);
    url.pathname = `/ogc_tenant_${moved.tenantId.replaceAll("-", "_")}`;
    const copy = new pg.Client({ connectionString: url.toString() });
    await copy.connect();
    try {
      await copy.query(`INSERT INTO "TenantFence" ("tenantId", "movedTo") VALUES ($1, 'shared')`, [
        moved.tenantId,
      ]);
    } finally {
      await copy.end();
    }

    const removed = await sweepLeftCopies(gw.gateway.lifecycle);

    expect(removed).toContain(
      `${moved.tenantId} at database:second/ogc_tenant_${moved.tenantId.replaceAll("-", "_")}`,
    );
    expect(removed.some((line) => line.startsWith(bystander.tenantId))).toBe(false);
    expect(await databaseExists(`ogc_tenant_${moved.tenantId.replaceAll("-", "_")}`)).toBe(false);
    expect((await answer(moved.tenantId, token)).body).toEqual(before.body);
    const bystanderToken = await gw.tokenFor(bystander.tenantId, bystander.users.admin);
    expect((await answer(bystander.tenantId, bystanderToken)).body.errors).toBeUndefined();
  });
});
