import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantClient } from "../../src/data/index.js";
import { schemaNameFor } from "../../src/data/placement/tenant-location.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { createTierReader, type TierReader } from "../support/tier-reader.js";

/**
 * Canary tenants: one in the shared tables (`public`), one in a schema of
 * its own. No handle of another tenant may ever see their rows, whatever
 * raw SQL it sends.
 */
let gw: TestGateway;
let read: TierReader;
let publicCanary: TenantFixture;
let schemaCanary: TenantFixture;

beforeAll(async () => {
  gw = await startTestGateway("raw-sql-tiers");
  read = createTierReader(gw.gateway.database);
  publicCanary = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("canary-pub"));
  schemaCanary = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("canary-sch"), {
    isolation: Isolation.SCHEMA,
  });
});
afterAll(() => gw?.stop());

const TIERS = [
  { isolation: Isolation.SHARED, region: undefined },
  { isolation: Isolation.SCHEMA, region: undefined },
  { isolation: Isolation.DATABASE, region: "eu" },
];

type Row = { tenantId: string };

describe.each(TIERS)("raw SQL through the handle of a $isolation tenant", (tier) => {
  let me: TenantFixture;
  let db: TenantClient;
  let canaries: string[];
  const tenantsIn = (rows: Row[]) => [...new Set(rows.map((row) => row.tenantId))];

  beforeAll(async () => {
    me = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("raw"), tier);
    db = gw.gateway.database.forTenant(me.tenantId);
    canaries = [publicCanary.tenantId, schemaCanary.tenantId];
  });

  it("reads only its own users from an unqualified, unfiltered SELECT", async () => {
    const rows = await db.$queryRawUnsafe<Row[]>(`SELECT "tenantId" FROM "User"`);
    const stored = await read<Row>(
      me.tenantId,
      `SELECT "tenantId" FROM "User" WHERE "tenantId" = $1`,
      [me.tenantId],
    );

    expect(rows.length).toBe(stored.length);
    expect(tenantsIn(rows)).toEqual([me.tenantId]);
  });

  it("sees no canary row when it names public or the neighbour schema outright", async () => {
    const neighbour = schemaNameFor(schemaCanary.tenantId);
    // The canaries are there, for anyone who bypasses the policies.
    const planted = await read<Row>(
      null,
      `SELECT "tenantId" FROM public."User" WHERE "tenantId" = $1
       UNION ALL SELECT "tenantId" FROM "${neighbour}"."User" WHERE "tenantId" = $2`,
      [publicCanary.tenantId, schemaCanary.tenantId],
    );
    expect(new Set(tenantsIn(planted))).toEqual(new Set(canaries));

    for (const place of [`public."User"`, `"${neighbour}"."User"`]) {
      const rows = await db
        .$queryRawUnsafe<Row[]>(`SELECT "tenantId" FROM ${place}`)
        .catch((error: unknown) => {
          // Only a database tenant's own database lacks the neighbour schema.
          expect(tier.isolation).toBe(Isolation.DATABASE);
          expect(String(error)).toMatch(/does not exist/);
          return [] as Row[];
        });
      for (const canary of canaries) expect(tenantsIn(rows)).not.toContain(canary);
      // Whatever the handle sees at all is its own.
      for (const tenant of tenantsIn(rows)) expect(tenant).toBe(me.tenantId);
    }
  });

  it("sees no canary row after RESET ROLE and a search path naming both canaries", async () => {
    const neighbour = schemaNameFor(schemaCanary.tenantId);
    const seen = await db.transaction(async (tx) => {
      await tx.$executeRawUnsafe("RESET ROLE");
      await tx.$executeRawUnsafe(`SET LOCAL search_path TO public, "${neighbour}"`);
      return tx.$queryRawUnsafe<Row[]>(`SELECT "tenantId" FROM "User"`);
    });

    for (const canary of canaries) expect(tenantsIn(seen)).not.toContain(canary);
  });

  it("changes only its own rows with an unfiltered UPDATE", async () => {
    const before = await read<{ n: number }>(
      publicCanary.tenantId,
      `SELECT count(*)::int AS n FROM "User" WHERE "tenantId" = $1 AND name LIKE '%!'`,
      [publicCanary.tenantId],
    );
    const changed = await db.$executeRawUnsafe(`UPDATE "User" SET name = name || '!'`);
    const mine = await read<{ n: number }>(
      me.tenantId,
      `SELECT count(*)::int AS n FROM "User" WHERE "tenantId" = $1 AND name LIKE '%!'`,
      [me.tenantId],
    );
    const after = await read<{ n: number }>(
      publicCanary.tenantId,
      `SELECT count(*)::int AS n FROM "User" WHERE "tenantId" = $1 AND name LIKE '%!'`,
      [publicCanary.tenantId],
    );

    expect(changed).toBe(mine[0]?.n);
    expect(changed).toBeGreaterThan(5);
    expect(after[0]?.n).toBe(before[0]?.n);
  });

  it("cannot insert a row for the canary tenant", async () => {
    const attempt = db.$executeRawUnsafe(
      `INSERT INTO "User" ("tenantId", id, email, name) VALUES ($1, 'x-canary', 'x@canary.test', 'x')`,
      publicCanary.tenantId,
    );

    await expect(attempt).rejects.toThrow(/row-level security/);
    const rows = await read(publicCanary.tenantId, `SELECT 1 FROM "User" WHERE id = 'x-canary'`);
    expect(rows).toEqual([]);
  });
});
