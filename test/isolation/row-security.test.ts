import "reflect-metadata";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantClient } from "../../src/data/index.js";
import { newId } from "../../src/modules/common/ids.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

/** Every table that holds tenant rows and carries the tenant_isolation policy. */
const TENANT_TABLES = [
  "User",
  "Role",
  "RoleAssignment",
  "Organization",
  "Membership",
  "Dashboard",
  "Challenge",
  "Submission",
  "AuditLog",
] as const;

interface TenantRow {
  tenantId: string;
}

describe("row-level security under a tenant-bound handle", () => {
  let gw: TestGateway;
  let a: TenantFixture;
  let b: TenantFixture;
  let db: TenantClient;
  // A superuser connection: it skips the policies and sees every tenant.
  let admin: pg.Client;

  async function rowsOf(table: string, tenantId: string): Promise<number> {
    const result = await admin.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${table}" WHERE "tenantId" = $1`,
      [tenantId],
    );

    return Number(result.rows[0]?.n);
  }

  /** Who a fresh checkout of the control pool is, and which tenant it carries. */
  async function controlSession() {
    const [row] = await gw.gateway.database.control.$queryRaw<
      { tenant: string | null; role: string }[]
    >`SELECT current_setting('app.tenant_id', true) AS tenant, current_user::text AS role`;

    return row;
  }

  beforeAll(async () => {
    // One connection in the pool: the control query after a tenant query
    // is then certain to run on the very connection the tenant query used.
    gw = await startTestGateway("row-security", {
      redis: false,
      env: { DATABASE_POOL_MAX: "1" },
    });
    a = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("rls-a"));
    b = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("rls-b"));
    db = gw.gateway.database.forTenant(a.tenantId);
    admin = new pg.Client({ connectionString: gw.databaseUrl });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    await gw?.stop();
  });

  describe("raw reads without a tenant filter", () => {
    it("return only tenant A's users from an unfiltered $queryRaw", async () => {
      const rows = await db.$queryRaw<
        { tenantId: string; id: string }[]
      >`SELECT "tenantId", id FROM "User"`;

      expect(rows.length).toBe(await rowsOf("User", a.tenantId));
      expect(new Set(rows.map((row) => row.tenantId))).toEqual(new Set([a.tenantId]));
      expect(rows.map((row) => row.id)).toContain(a.users.admin);
      expect(rows.map((row) => row.id)).not.toContain(b.users.admin);
    });

    it.each(TENANT_TABLES)("return only tenant A's rows of %s", async (table) => {
      const rows = await db.$queryRawUnsafe<TenantRow[]>(`SELECT "tenantId" FROM "${table}"`);

      expect(await rowsOf(table, b.tenantId)).toBeGreaterThan(0);
      expect(rows.length).toBe(await rowsOf(table, a.tenantId));
      expect(rows.every((row) => row.tenantId === a.tenantId)).toBe(true);
    });
  });

  describe("model queries without a tenant filter", () => {
    it("findMany({}) returns only tenant A's rows", async () => {
      const users = await db.user.findMany({});
      const submissions = await db.submission.findMany({});

      expect(users.map((u) => u.id).sort()).toEqual(Object.values(a.users).sort());
      expect(submissions.map((s) => s.id).sort()).toEqual([...a.submissionIds].sort());
    });

    it("count() counts only tenant A's rows", async () => {
      expect(await db.challenge.count()).toBe(a.challengeIds.length);
    });

    it("a lookup of tenant B's id by primary key finds nothing", async () => {
      const found = await db.dashboard.findUnique({
        where: { tenantId_id: { tenantId: b.tenantId, id: b.dashboardId } },
      });

      expect(found).toBeNull();
    });

    it("deleteMany on tenant B's id deletes nothing", async () => {
      const { count } = await db.submission.deleteMany({
        where: { id: b.submissionIds[0] as string },
      });

      expect(count).toBe(0);
      expect(await rowsOf("Submission", b.tenantId)).toBe(b.submissionIds.length);
    });
  });

  describe("writes", () => {
    it("an $executeRaw UPDATE without WHERE touches only tenant A's rows", async () => {
      const changed = await db.$executeRaw`UPDATE "Challenge" SET "title" = 'rewritten by A'`;

      expect(changed).toBe(a.challengeIds.length);
      const titles = await admin.query<{ tenantId: string; title: string }>(
        `SELECT "tenantId", title FROM "Challenge" WHERE "tenantId" IN ($1, $2)`,
        [a.tenantId, b.tenantId],
      );
      for (const row of titles.rows) {
        if (row.tenantId === a.tenantId) expect(row.title).toBe("rewritten by A");
        else expect(row.title).toMatch(/^Challenge \d+$/);
      }
    });

    it("a model create with tenant B's tenantId is refused by the WITH CHECK policy", async () => {
      const id = newId();

      await expect(
        db.challenge.create({ data: { tenantId: b.tenantId, id, title: "smuggled" } }),
      ).rejects.toThrow(/row-level security/);
      const smuggled = await admin.query(`SELECT 1 FROM "Challenge" WHERE id = $1`, [id]);
      expect(smuggled.rowCount).toBe(0);
    });

    it("a raw INSERT with tenant B's tenantId is refused too", async () => {
      const id = newId();

      await expect(
        db.$executeRaw`INSERT INTO "Organization" ("tenantId", id, name) VALUES (${b.tenantId}, ${id}, 'smuggled')`,
      ).rejects.toThrow(/row-level security/);
      expect(await rowsOf("Organization", b.tenantId)).toBe(2);
    });

    it("an UPDATE that would move tenant A's row into tenant B is refused", async () => {
      const id = a.challengeIds[0] as string;

      await expect(
        db.$executeRaw`UPDATE "Challenge" SET "tenantId" = ${b.tenantId} WHERE id = ${id}`,
      ).rejects.toThrow(/row-level security/);
      const row = await admin.query(`SELECT "tenantId" FROM "Challenge" WHERE id = $1`, [id]);
      expect(row.rows).toEqual([{ tenantId: a.tenantId }]);
    });
  });

  describe("transaction(fn)", () => {
    it("binds every statement of the unit of work to tenant A as the tenant role", async () => {
      const seen = await db.transaction(async (tx) => {
        const [session] = await tx.$queryRaw<
          { tenant: string; role: string }[]
        >`SELECT current_setting('app.tenant_id', true) AS tenant, current_user::text AS role`;
        const users = await tx.$queryRaw<TenantRow[]>`SELECT "tenantId" FROM "User"`;
        const dashboards = await tx.dashboard.findMany({});

        return { session, users, dashboards };
      });

      expect(seen.session).toEqual({ tenant: a.tenantId, role: "ogc_tenant" });
      expect(seen.users.length).toBe(await rowsOf("User", a.tenantId));
      expect(seen.users.every((row) => row.tenantId === a.tenantId)).toBe(true);
      expect(seen.dashboards.map((d) => d.id)).toEqual([a.dashboardId]);
    });

    it("refuses a write of tenant B's row inside the unit of work and rolls it all back", async () => {
      const ownId = newId();

      await expect(
        db.transaction(async (tx) => {
          await tx.challenge.create({ data: { tenantId: a.tenantId, id: ownId, title: "own" } });
          await tx.challenge.create({
            data: { tenantId: b.tenantId, id: newId(), title: "smuggled" },
          });
        }),
      ).rejects.toThrow(/row-level security/);
      const own = await admin.query(`SELECT 1 FROM "Challenge" WHERE id = $1`, [ownId]);
      expect(own.rowCount).toBe(0);
    });
  });

  describe("a unit of work that tries to shed the tenant role", () => {
    it("still sees only tenant A's rows after RESET ROLE, or is refused", async () => {
      const outcome = await db
        .transaction(async (tx) => {
          await tx.$executeRawUnsafe("RESET ROLE");
          return tx.$queryRaw<TenantRow[]>`SELECT DISTINCT "tenantId" FROM "User"`;
        })
        .catch((error: unknown) => error);

      // Refusing the statement is as good as staying bound; escaping is not.
      if (!(outcome instanceof Error)) expect(outcome).toEqual([{ tenantId: a.tenantId }]);
    });
  });

  describe("the pooled connection afterwards", () => {
    it("is back to the pool's own role with no tenant after a model query", async () => {
      await db.user.findMany({});

      const session = await controlSession();
      expect(session?.role).toBe("postgres");
      expect(session?.tenant ?? "").toBe("");
    });

    it("is back to the pool's own role with no tenant after a raw query", async () => {
      await db.$queryRaw`SELECT 1`;

      const session = await controlSession();
      expect(session?.role).toBe("postgres");
      expect(session?.tenant ?? "").toBe("");
    });

    it("is back to the pool's own role with no tenant after a refused write", async () => {
      await db.challenge
        .create({ data: { tenantId: b.tenantId, id: newId(), title: "smuggled" } })
        .catch(() => undefined);

      const session = await controlSession();
      expect(session?.role).toBe("postgres");
      expect(session?.tenant ?? "").toBe("");
    });

    it("is back to the pool's own role with no tenant after transaction(fn)", async () => {
      await db.transaction((tx) => tx.user.count());

      const session = await controlSession();
      expect(session?.role).toBe("postgres");
      expect(session?.tenant ?? "").toBe("");
    });
  });

  describe("the tenant role with no tenant set", () => {
    it.each(TENANT_TABLES)("sees no row of %s", async (table) => {
      const client = new pg.Client({ connectionString: gw.databaseUrl });
      await client.connect();
      try {
        await client.query("SET ROLE ogc_tenant");
        const result = await client.query(`SELECT count(*)::int AS n FROM "${table}"`);
        expect(result.rows).toEqual([{ n: 0 }]);
      } finally {
        await client.end();
      }
    });
  });
});
