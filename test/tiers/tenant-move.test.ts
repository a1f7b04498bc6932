import { createClient } from "@keyv/redis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMasterKeys } from "../../src/crypto/index.js";
import { openDatabase, type Database } from "../../src/data/index.js";
import { digestTable, type TableDigest } from "../../src/data/placement/table-copy.js";
import { schemaOf, type TenantLocation } from "../../src/data/placement/tenant-location.js";
import { TENANT_TABLES } from "../../src/data/placement/tenant-tables.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { moveTenant, type MoveRequest } from "../../src/lifecycle/move-tenant.js";
import { createLogger } from "../../src/logging/index.js";
import { newId } from "../../src/modules/common/ids.js";
import { TEST_REDIS_URL, TEST_SECOND_DATABASE_URL } from "../support/env.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

/** Everything a dashboard shows, as one answer to compare across moves. */
const EVERYTHING = `{
  tenant { id name }
  users(first: 100) { edges { node { id email name roles permissions organizations { id } } } }
  organizations { id name members { role user { id } } }
  dashboards { id title modules owner { id } }
  challenges(first: 100) { edges { node { id title submissions { id score author { id } } } } }
}`;

const CREATE_CHALLENGE = `mutation ($title: String!) { createChallenge(input: { title: $title }) { id title } }`;

describe("moving a tenant between tiers", () => {
  let gw: TestGateway;
  let fixture: TenantFixture;
  let token: string;

  const answer = async (tenantId = fixture.tenantId, as = token) => {
    const response = await gw.request(EVERYTHING, { tenant: tenantId, token: as });
    expect(response.body.errors).toBeUndefined();
    return response.body.data;
  };

  /** Row counts and checksums of every table, read where the tenant lives now. */
  const digestsOf = async (tenantId: string): Promise<TableDigest[]> => {
    const location = await gw.gateway.database.placement.refresh(tenantId);
    return gw.gateway.database.admin.atLocation(location, async (session) => {
      const digests: TableDigest[] = [];
      for (const table of TENANT_TABLES) {
        digests.push(await digestTable(session, schemaOf(location), table, tenantId));
      }
      return digests;
    });
  };

  const move = (tenantId: string, request: MoveRequest) =>
    moveTenant(gw.gateway.lifecycle, tenantId, request, "test:move");

  beforeAll(async () => {
    gw = await startTestGateway("move");
    fixture = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("mover"), {
      challenges: 4,
      submissionsPerChallenge: 3,
    });
    token = await gw.tokenFor(fixture.tenantId, fixture.users.admin);
  });
  afterAll(() => gw?.stop());

  it("goes shared → schema → database → another server → schema → shared with every row intact", async () => {
    const before = await answer();
    const digests = await digestsOf(fixture.tenantId);
    expect(digests.find((d) => d.table === "Submission")?.rows).toBe(12);

    const steps: [MoveRequest, string][] = [
      [{ isolation: Isolation.SCHEMA }, "schema:"],
      [{ isolation: Isolation.DATABASE, region: "local" }, "database:primary/"],
      [{ isolation: Isolation.DATABASE, region: "eu" }, "database:second/"],
      [{ isolation: Isolation.SCHEMA }, "schema:"],
      [{ isolation: Isolation.SHARED }, "shared"],
    ];
    const visited: string[] = [];
    for (const [request, prefix] of steps) {
      const report = await move(fixture.tenantId, request);
      visited.push(report.to);

      expect(report.to.startsWith(prefix)).toBe(true);
      expect(report.tables).toEqual(digests);
      expect(await digestsOf(fixture.tenantId)).toEqual(digests);
      expect(await answer()).toEqual(before);
    }
    expect(visited).toHaveLength(5);
  });

  it("removes the old copy only after the switch, and fences the shared tables it left", async () => {
    const tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("leaver"));
    const control = new pg.Client({ connectionString: gw.databaseUrl });
    await control.connect();
    try {
      const report = await move(tenant.tenantId, { isolation: Isolation.DATABASE, region: "eu" });
      const shared = await control.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM public."User" WHERE "tenantId" = $1`,
        [tenant.tenantId],
      );
      const fence = await control.query<{ movedTo: string }>(
        `SELECT "movedTo" FROM public."TenantFence" WHERE "tenantId" = $1`,
        [tenant.tenantId],
      );

      expect(shared.rows[0]?.n).toBe(0);
      expect(fence.rows).toEqual([{ movedTo: report.to }]);

      // Back from the database: it is dropped, its login with it.
      await move(tenant.tenantId, { isolation: Isolation.SHARED });
      const second = new pg.Client({ connectionString: TEST_SECOND_DATABASE_URL });
      await second.connect();
      try {
        const name = `ogc_tenant_${tenant.tenantId.replaceAll("-", "_")}`;
        const db = await second.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name]);
        const login = await second.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [
          `ogc_login_${tenant.tenantId.replaceAll("-", "_")}`,
        ]);
        expect(db.rowCount).toBe(0);
        expect(login.rowCount).toBe(0);
      } finally {
        await second.end();
      }
      // Back in the shared tables, the fence is lifted.
      const lifted = await control.query(
        `SELECT 1 FROM public."TenantFence" WHERE "tenantId" = $1`,
        [tenant.tenantId],
      );
      expect(lifted.rowCount).toBe(0);
    } finally {
      await control.end();
    }
  });

  it("refuses a move to where the tenant already lives", async () => {
    const tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("stayer"));

    await expect(move(tenant.tenantId, { isolation: Isolation.SHARED })).rejects.toMatchObject({
      extensions: { code: "BAD_USER_INPUT" },
    });
  });

  it("clears the tenant's cache", async () => {
    const tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("cached"));
    const asAdmin = await gw.tokenFor(tenant.tenantId, tenant.users.admin);
    await answer(tenant.tenantId, asAdmin);
    const redis = createClient({ url: TEST_REDIS_URL });
    await redis.connect();
    try {
      const keys = () => redis.keys(`ogc:${tenant.tenantId}:*`);
      expect((await keys()).length).toBeGreaterThan(0);

      await move(tenant.tenantId, { isolation: Isolation.SCHEMA });

      expect(await keys()).toEqual([]);
    } finally {
      await redis.quit();
    }
  });

  it("is one global admin mutation that reports the verified tables", async () => {
    const tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("by-api"));
    const staff = await gw.globalAdminToken();
    const response = await gw.request<{
      moveTenant: {
        from: string;
        to: string;
        tenant: { isolation: string };
        tables: { name: string; rows: number }[];
      };
    }>(
      `mutation ($id: ID!) { moveTenant(id: $id, isolation: DATABASE, region: "eu") {
         from to tenant { isolation region } tables { name rows checksum } } }`,
      { token: staff, variables: { id: tenant.tenantId } },
    );

    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.moveTenant).toMatchObject({
      from: "shared",
      to: `database:second/ogc_tenant_${tenant.tenantId.replaceAll("-", "_")}`,
      tenant: { isolation: "DATABASE", region: "eu" },
    });
    expect(response.body.data?.moveTenant.tables.map((t) => t.name)).toEqual(
      TENANT_TABLES.map((t) => t.name),
    );
  });
});

describe("writes while a tenant is being moved", () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway("move-writes", { env: { TENANT_WRITE_WAIT_MS: "4000" } });
  });
  afterAll(() => gw?.stop());

  /**
   * The database layer as another gateway process on the same control plane
   * has it: its own pools and its own (possibly stale) view of placements.
   */
  const openOtherProcess = (placementTtlMs?: number): Promise<Database> =>
    openDatabase({
      url: gw.databaseUrl,
      dataDir: "",
      poolMax: 4,
      masterKeys: createMasterKeys(Buffer.alloc(32, 1)),
      logger: createLogger({ level: "silent" }),
      placementTtlMs,
    });

  /** Resolves once some session waits for the tenant's move lock. */
  async function waitForBlockedWriter(url: string) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (let i = 0; i < 100; i += 1) {
        const { rows } = await client.query(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = 7270`,
        );
        if (rows.length > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error("no writer ever waited for the move lock");
    } finally {
      await client.end();
    }
  }

  it("holds a write that arrives mid-move in the moving process, using no connection, and applies it at the new location", async () => {
    const tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("held"));
    const token = await gw.tokenFor(tenant.tenantId, tenant.users.admin);
    let pending: ReturnType<typeof gw.request> | undefined;
    let readDuringMove: Awaited<ReturnType<typeof gw.request>> | undefined;

    await moveTenant(
      gw.gateway.lifecycle,
      tenant.tenantId,
      { isolation: Isolation.SCHEMA },
      "test:move",
      {
        beforeSwitch: async () => {
          pending = gw.request(CREATE_CHALLENGE, {
            tenant: tenant.tenantId,
            token,
            variables: { title: "Written mid-move" },
          });
          await new Promise((resolve) => setTimeout(resolve, 400));
          // Reads go on meanwhile, from the old copy.
          readDuringMove = await gw.request("{ me { id } }", { tenant: tenant.tenantId, token });
        },
      },
    );
    const written = await pending!;

    expect(readDuringMove?.body.errors).toBeUndefined();
    expect(written.body.errors).toBeUndefined();
    const rows = await gw.gateway.database
      .forTenant(tenant.tenantId)
      .challenge.findMany({ where: { tenantId: tenant.tenantId, title: "Written mid-move" } });
    expect(rows).toHaveLength(1);
    const location = await gw.gateway.database.placement.refresh(tenant.tenantId);
    expect(location.isolation).toBe(Isolation.SCHEMA);
  });

  it("holds a write of a process with a stale view at the database's move lock, and applies it at the new location", async () => {
    const tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("locked"));
    // It must not learn of the move by itself during the test.
    const other = await openOtherProcess(600_000);
    try {
      const handle = other.forTenant(tenant.tenantId);
      const where = { tenantId: tenant.tenantId };
      await handle.user.count({ where }); // the other process now places it SHARED
      let pending: Promise<unknown> | undefined;

      await moveTenant(
        gw.gateway.lifecycle,
        tenant.tenantId,
        { isolation: Isolation.SCHEMA },
        "test:move",
        {
          beforeSwitch: async () => {
            // Prisma runs a query only once it is awaited or then-ed.
            pending = handle.challenge
              .create({
                data: { tenantId: tenant.tenantId, id: newId(), title: "Held at the lock" },
              })
              .then(() => undefined);
            await waitForBlockedWriter(gw.databaseUrl);
          },
        },
      );
      await pending;

      const rows = await gw.gateway.database
        .forTenant(tenant.tenantId)
        .challenge.count({ where: { ...where, title: "Held at the lock" } });
      expect(rows).toBe(1);
    } finally {
      await other.close();
    }
  });

  it("refuses a write that waits longer than TENANT_WRITE_WAIT_MS with RATE_LIMITED, losing nothing", async () => {
    const impatient = await startTestGateway("move-impatient", {
      env: { TENANT_WRITE_WAIT_MS: "200" },
    });
    try {
      const tenant = await seedTenantFixture(impatient.gateway.lifecycle, uniqueTenantId("wait"));
      const token = await impatient.tokenFor(tenant.tenantId, tenant.users.admin);
      let refused: Awaited<ReturnType<typeof impatient.request>> | undefined;

      await moveTenant(
        impatient.gateway.lifecycle,
        tenant.tenantId,
        { isolation: Isolation.SCHEMA },
        "test:move",
        {
          beforeSwitch: async () => {
            refused = await impatient.request(CREATE_CHALLENGE, {
              tenant: tenant.tenantId,
              token,
              variables: { title: "Too early" },
            });
          },
        },
      );

      expect(codesOf(refused!)).toEqual(["RATE_LIMITED"]);
      expect(refused!.body.errors?.[0]?.extensions).toMatchObject({ reason: "TENANT_MOVING" });
      const rows = await impatient.gateway.database
        .forTenant(tenant.tenantId)
        .challenge.count({ where: { tenantId: tenant.tenantId, title: "Too early" } });
      expect(rows).toBe(0);
    } finally {
      await impatient.stop();
    }
  });

  it("lets a gateway process with a stale view of the tenant follow it to its new place", async () => {
    const tenant = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("stale"));
    const other = await openOtherProcess();
    try {
      const handle = other.forTenant(tenant.tenantId);
      const where = { tenantId: tenant.tenantId };
      const users = await handle.user.count({ where });
      expect((await other.placement.locate(tenant.tenantId)).isolation).toBe(Isolation.SHARED);

      await moveTenant(gw.gateway.lifecycle, tenant.tenantId, { isolation: Isolation.SCHEMA }, "t");

      // The other process still believes the tenant is shared …
      const believed: TenantLocation = await other.placement.locate(tenant.tenantId);
      expect(believed.isolation).toBe(Isolation.SHARED);
      // … yet reads and writes reach the schema, not the emptied shared tables.
      expect(await handle.user.count({ where })).toBe(users);
      await handle.challenge.create({
        data: { tenantId: tenant.tenantId, id: newId(), title: "From a stale process" },
      });
      const schema = `tenant_${tenant.tenantId.replaceAll("-", "_")}`;
      const admin = new pg.Client({ connectionString: gw.databaseUrl });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${schema}"."Challenge" WHERE title = 'From a stale process'`,
        );
        expect(rows[0]?.n).toBe(1);
      } finally {
        await admin.end();
      }
    } finally {
      await other.close();
    }
  });
});
