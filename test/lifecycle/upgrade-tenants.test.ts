import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listMigrations } from "../../src/data/migrator.js";
import { Isolation, TenantStatus } from "../../src/generated/prisma/enums.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import { upgradeTenants, type TenantUpgrade } from "../../src/lifecycle/upgrade-tenants.js";
import { main, parseArgs } from "../../src/scripts/migrate.js";
import { UsageError } from "../../src/scripts/script-io.js";
import { TEST_SECOND_DATABASE_URL } from "../support/env.js";
import { seedTenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));
const NEW_VERSION = "20991231000000_add_column";
/** The new migration: the column first, so a failure at the table shows it rolled back. */
const NEW_MIGRATION_SQL = `
ALTER TABLE "Challenge" ADD COLUMN "extra" TEXT;
CREATE TABLE "ChallengeNote" ("id" TEXT PRIMARY KEY);
`;
const OLD_VERSION = (await listMigrations()).at(-1)?.name;

let scratchDir: string;
/** The repository's migrations plus {@link NEW_VERSION}. */
let migrationsDir: string;

beforeAll(async () => {
  scratchDir = await mkdtemp(join(tmpdir(), "ogc-upgrade-"));
  migrationsDir = join(scratchDir, "migrations");
  await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
  await mkdir(join(migrationsDir, NEW_VERSION));
  await writeFile(join(migrationsDir, NEW_VERSION, "migration.sql"), NEW_MIGRATION_SQL);
});
afterAll(() => rm(scratchDir, { recursive: true, force: true }));

async function queryAt<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[]) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** The database and schema a tenant's tables are in, read from the registry. */
async function tablesOf(gw: TestGateway, tenantId: string) {
  const row = await gw.gateway.database.control.tenant.findUniqueOrThrow({
    where: { id: tenantId },
  });
  switch (row.isolation) {
    case Isolation.SHARED:
      return { url: gw.databaseUrl, schema: "public" };
    case Isolation.SCHEMA:
      return { url: gw.databaseUrl, schema: row.schemaName ?? "" };
    case Isolation.DATABASE: {
      const url = new URL(
        row.databaseServer === "second" ? TEST_SECOND_DATABASE_URL : gw.databaseUrl,
      );
      url.pathname = `/${row.databaseName ?? ""}`;
      return { url: url.toString(), schema: "public" };
    }
  }
}

async function hasExtraColumn(gw: TestGateway, tenantId: string): Promise<boolean> {
  const { url, schema } = await tablesOf(gw, tenantId);
  const rows = await queryAt(
    url,
    `SELECT 1 FROM information_schema.columns
      WHERE table_schema = $1 AND table_name = 'Challenge' AND column_name = 'extra'`,
    [schema],
  );

  return rows.length === 1;
}

async function historyOf(gw: TestGateway, tenantId: string): Promise<string[]> {
  const { url, schema } = await tablesOf(gw, tenantId);
  const rows = await queryAt<{ name: string }>(
    url,
    `SELECT migration_name AS name FROM "${schema}"."_prisma_migrations"
      WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
    [],
  );

  return rows.map((row) => row.name);
}

async function recordedVersion(gw: TestGateway, tenantId: string): Promise<string | null> {
  const row = await gw.gateway.database.control.tenant.findUniqueOrThrow({
    where: { id: tenantId },
    select: { schemaVersion: true },
  });

  return row.schemaVersion;
}

function provision(gw: TestGateway, id: string, isolation: Isolation, releaseChannel = "stable") {
  return provisionTenant(
    gw.gateway.lifecycle,
    { id, name: `Tenant ${id}`, isolation, releaseChannel, adminEmail: `admin@${id}.test` },
    "test",
  );
}

function upgrade(gw: TestGateway, options: Parameters<typeof upgradeTenants>[1] = {}) {
  return upgradeTenants(gw.gateway.database, { migrationsDir, ...options });
}

describe("upgrading tenants of every tier", () => {
  let gw: TestGateway;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    gw = await startTestGateway("upgrade-tiers");
    const plans: [string, Isolation, string][] = [
      ["shared", Isolation.SHARED, "local"],
      ["schema", Isolation.SCHEMA, "local"],
      ["db-local", Isolation.DATABASE, "local"],
      ["db-eu", Isolation.DATABASE, "eu"],
    ];
    for (const [key, isolation, region] of plans) {
      const id = uniqueTenantId(`up-${key}`);
      await seedTenantFixture(gw.gateway.lifecycle, id, { isolation, region });
      ids[key] = id;
    }
  });
  afterAll(() => gw?.stop());

  it("starts every tenant at the repository's latest migration", async () => {
    for (const id of Object.values(ids)) {
      expect(await recordedVersion(gw, id)).toBe(OLD_VERSION);
      expect(await hasExtraColumn(gw, id)).toBe(false);
    }
  });

  it("brings the control plane and every tier to the new migration, reporting each", async () => {
    const seen: TenantUpgrade[] = [];
    const report = await upgrade(gw, { onReport: (upgrade) => seen.push(upgrade) });
    const byId = new Map(report.tenants.map((t) => [t.tenantId, t]));
    const schema = `tenant_${ids.schema!.replaceAll("-", "_")}`;
    const database = (id: string) => `ogc_tenant_${id.replaceAll("-", "_")}`;

    expect(report.controlPlane).toEqual({ applied: [NEW_VERSION], version: NEW_VERSION });
    expect(report.failed).toBe(0);
    expect(report.skipped).toEqual([]);
    expect(report.tenants.map((t) => t.tenantId)).toEqual(Object.values(ids).sort());
    expect(seen.map((t) => t.tenantId).sort()).toEqual(Object.values(ids).sort());
    expect(byId.get(ids.shared!)).toEqual({
      tenantId: ids.shared,
      isolation: Isolation.SHARED,
      location: "shared",
      applied: [],
      version: NEW_VERSION,
      ok: true,
    });
    expect(byId.get(ids.schema!)).toEqual({
      tenantId: ids.schema,
      isolation: Isolation.SCHEMA,
      location: `schema:${schema}`,
      applied: [NEW_VERSION],
      version: NEW_VERSION,
      ok: true,
    });
    expect(byId.get(ids["db-local"]!)).toMatchObject({
      location: `database:primary/${database(ids["db-local"]!)}`,
      applied: [NEW_VERSION],
      version: NEW_VERSION,
      ok: true,
    });
    expect(byId.get(ids["db-eu"]!)).toMatchObject({
      location: `database:second/${database(ids["db-eu"]!)}`,
      applied: [NEW_VERSION],
      version: NEW_VERSION,
      ok: true,
    });
  });

  it("adds the column in each tenant's own location and records the new version", async () => {
    for (const id of Object.values(ids)) {
      expect(await hasExtraColumn(gw, id)).toBe(true);
      expect((await historyOf(gw, id)).at(-1)).toBe(NEW_VERSION);
      expect(await recordedVersion(gw, id)).toBe(NEW_VERSION);
    }
  });

  it("keeps serving every tenant through the gateway, whose code knows no new column", async () => {
    for (const id of Object.values(ids)) {
      const admin = await gw.gateway.database.forTenant(id).user.findFirstOrThrow({
        where: { tenantId: id, email: `admin@${id}.test` },
      });
      const response = await gw.request<{ challenges: { edges: { node: { title: string } }[] } }>(
        "{ challenges(first: 10) { edges { node { title } } } }",
        { tenant: id, token: await gw.tokenFor(id, admin.id) },
      );
      const titles = response.body.data?.challenges.edges.map((edge) => edge.node.title).sort();

      expect(response.body.errors).toBeUndefined();
      expect(titles).toEqual(["Challenge 1", "Challenge 2", "Challenge 3"]);
    }
  });

  it("applies nothing when run again", async () => {
    const report = await upgrade(gw);

    expect(report.controlPlane).toEqual({ applied: [], version: NEW_VERSION });
    expect(report.tenants).toHaveLength(4);
    for (const tenant of report.tenants) {
      expect(tenant).toMatchObject({ applied: [], version: NEW_VERSION, ok: true });
    }
  });
});

describe("a tenant whose migration fails", () => {
  let gw: TestGateway;
  let broken: string;
  let healthy: string[];

  beforeAll(async () => {
    gw = await startTestGateway("upgrade-failure");
    // Ids sort the broken tenant first, so the tenants after it in its lane must still run.
    broken = uniqueTenantId("up-a-broken");
    healthy = [uniqueTenantId("up-b-schema"), uniqueTenantId("up-c-db")];
    await provision(gw, broken, Isolation.SCHEMA);
    await provision(gw, healthy[0]!, Isolation.SCHEMA);
    await provision(gw, healthy[1]!, Isolation.DATABASE);
    // The new migration's second statement collides with this table.
    const { url, schema } = await tablesOf(gw, broken);
    await queryAt(url, `CREATE TABLE "${schema}"."ChallengeNote" ("note" TEXT)`, []);
  });
  afterAll(() => gw?.stop());

  it("reports the failing tenant with the database's reason and upgrades the others", async () => {
    const report = await upgrade(gw);
    const byId = new Map(report.tenants.map((t) => [t.tenantId, t]));

    expect(report.failed).toBe(1);
    expect(byId.get(broken)).toMatchObject({
      applied: [],
      version: OLD_VERSION,
      ok: false,
      error: expect.stringMatching(
        new RegExp(`^Migration ${NEW_VERSION} failed and was rolled back: .*ChallengeNote`),
      ),
    });
    for (const id of healthy) {
      expect(byId.get(id)).toMatchObject({
        applied: [NEW_VERSION],
        version: NEW_VERSION,
        ok: true,
      });
      expect(await hasExtraColumn(gw, id)).toBe(true);
    }
  });

  it("leaves the failed tenant's version as it was and its migration rolled back", async () => {
    expect(await recordedVersion(gw, broken)).toBe(OLD_VERSION);
    expect(await historyOf(gw, broken)).not.toContain(NEW_VERSION);
    // The column came before the failing statement, and went with the rollback.
    expect(await hasExtraColumn(gw, broken)).toBe(false);
  });

  it("upgrades the failed tenant on the next run once the conflict is gone", async () => {
    const { url, schema } = await tablesOf(gw, broken);
    await queryAt(url, `DROP TABLE "${schema}"."ChallengeNote"`, []);
    const report = await upgrade(gw, { tenantId: broken });

    expect(report.tenants).toEqual([
      expect.objectContaining({ tenantId: broken, applied: [NEW_VERSION], ok: true }),
    ]);
    expect(await recordedVersion(gw, broken)).toBe(NEW_VERSION);
    expect(await hasExtraColumn(gw, broken)).toBe(true);
  });
});

describe("choosing which tenants to upgrade", () => {
  let gw: TestGateway;
  const channel = `beta-${uniqueTenantId("c").slice(2)}`;
  const stable = [uniqueTenantId("up-stable-a"), uniqueTenantId("up-stable-b")];
  const beta = [uniqueTenantId("up-beta-a"), uniqueTenantId("up-beta-b")];
  const shared = uniqueTenantId("up-shared");

  beforeAll(async () => {
    gw = await startTestGateway("upgrade-choice");
    for (const id of stable) await provision(gw, id, Isolation.SCHEMA);
    for (const id of beta) await provision(gw, id, Isolation.SCHEMA, channel);
    await provision(gw, shared, Isolation.SHARED);
  });
  afterAll(() => gw?.stop());

  it("upgrades only the named tenant, leaving the others at the old version", async () => {
    const [target, other] = stable as [string, string];
    const report = await upgrade(gw, { tenantId: target });

    expect(report.controlPlane.applied).toEqual([NEW_VERSION]);
    expect(report.tenants.map((t) => [t.tenantId, t.applied, t.ok])).toEqual([
      [target, [NEW_VERSION], true],
    ]);
    expect(await recordedVersion(gw, target)).toBe(NEW_VERSION);
    for (const id of [other, ...beta]) {
      expect(await recordedVersion(gw, id)).toBe(OLD_VERSION);
      expect(await hasExtraColumn(gw, id)).toBe(false);
    }
  });

  it("records shared tenants at the control plane's version whatever the filter", async () => {
    expect(await hasExtraColumn(gw, shared)).toBe(true);
    expect(await recordedVersion(gw, shared)).toBe(NEW_VERSION);
  });

  it("upgrades only the tenants of the named release channel", async () => {
    const report = await upgrade(gw, { channel });

    expect(report.tenants.map((t) => [t.tenantId, t.applied, t.ok])).toEqual(
      [...beta].sort().map((id) => [id, [NEW_VERSION], true]),
    );
    for (const id of beta) expect(await hasExtraColumn(gw, id)).toBe(true);
    expect(await recordedVersion(gw, stable[1]!)).toBe(OLD_VERSION);
    expect(await hasExtraColumn(gw, stable[1]!)).toBe(false);
  });

  it("reports no tenants for a channel that has none", async () => {
    const report = await upgrade(gw, { channel: "nobody-uses-this" });

    expect(report).toMatchObject({ tenants: [], skipped: [], failed: 0 });
  });

  it("refuses a tenant id that names no tenant", async () => {
    await expect(upgrade(gw, { tenantId: "ghost-tenant" })).rejects.toThrow(
      'There is no tenant "ghost-tenant".',
    );
  });

  it("skips a tenant still being provisioned whose location does not exist yet", async () => {
    const id = uniqueTenantId("up-half");
    const schemaName = `tenant_${id.replaceAll("-", "_")}`;
    await gw.gateway.database.control.tenant.create({
      data: { id, name: "Half made", isolation: Isolation.SCHEMA, schemaName },
    });
    const report = await upgrade(gw, { tenantId: id });
    const schemas = await queryAt(gw.databaseUrl, "SELECT 1 FROM pg_namespace WHERE nspname = $1", [
      schemaName,
    ]);

    expect(report.tenants).toEqual([]);
    expect(report.skipped).toEqual([{ tenantId: id, reason: expect.stringMatching(/provision/) }]);
    expect(schemas).toEqual([]);
  });

  it("upgrades a tenant still being provisioned once its location exists", async () => {
    const id = uniqueTenantId("up-retry");
    await provision(gw, id, Isolation.SCHEMA);
    await gw.gateway.database.control.tenant.update({
      where: { id },
      data: { status: TenantStatus.PROVISIONING },
    });
    const report = await upgrade(gw, { tenantId: id });

    expect(report.tenants).toEqual([
      expect.objectContaining({ tenantId: id, applied: [NEW_VERSION], ok: true }),
    ]);
    expect(await hasExtraColumn(gw, id)).toBe(true);
  });
});

describe("the migrate command", () => {
  let gw: TestGateway;
  let env: Record<string, string>;
  const tenant = uniqueTenantId("up-cli");

  /** Runs the script in this process, collecting what it writes. */
  async function run(argv: string[], overrides: Record<string, string> = {}) {
    const written = { stdout: "", stderr: "" };
    const exitCode = await main(
      argv,
      { ...env, ...overrides },
      {
        stdout: (text) => (written.stdout += text),
        stderr: (text) => (written.stderr += text),
      },
    );

    return { exitCode, ...written };
  }

  beforeAll(async () => {
    gw = await startTestGateway("upgrade-cli");
    await provision(gw, tenant, Isolation.SCHEMA);
    // The test gateway's settings, so the script finds and opens the same tenants.
    env = {
      DATABASE_URL: gw.databaseUrl,
      DATABASE_SERVERS: JSON.stringify([
        { id: "primary", region: "local", url: gw.databaseUrl },
        { id: "second", region: "eu", url: TEST_SECOND_DATABASE_URL },
      ]),
      ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
    };
  });
  afterAll(() => gw?.stop());

  it("prints one line per tenant and a summary, and exits 0 when all are upgraded", async () => {
    const result = await run(["--tenant", tenant]);
    const schema = `tenant_${tenant.replaceAll("-", "_")}`;

    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split("\n")).toEqual([
      `ok    ${tenant} (SCHEMA, schema:${schema}): at ${OLD_VERSION}, nothing to apply`,
      `control plane: nothing to apply; at ${OLD_VERSION}`,
      expect.stringMatching(/^1 tenant: 1 ok, 0 failed, 0 skipped, in \d+\.\d s$/),
      "",
    ]);
  });

  it("prints the whole report as JSON with --json", async () => {
    const result = await run(["--json", "--channel", "stable"]);
    const report = JSON.parse(result.stdout) as { tenants: TenantUpgrade[]; failed: number };

    expect(result.exitCode).toBe(0);
    expect(report.failed).toBe(0);
    expect(report.tenants.map((t) => [t.tenantId, t.version, t.ok])).toEqual([
      [tenant, OLD_VERSION, true],
    ]);
  });

  it("exits 2 naming the tenant when --tenant names none", async () => {
    const result = await run(["--tenant", "ghost-tenant"]);

    expect(result).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: 'There is no tenant "ghost-tenant".\n',
    });
  });

  it("exits 2 with the usage on an unknown flag, before opening any database", async () => {
    const result = await run(["--all"]);

    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^Unknown option '--all'/);
    expect(result.stderr).toContain("Usage: npm run migrate");
  });

  it("exits 2 on a configuration the gateway would refuse", async () => {
    const result = await run([], { ENCRYPTION_KEY: "c2hvcnQ=" });

    expect(result).toEqual({
      exitCode: 2,
      stdout: "",
      stderr: "ENCRYPTION_KEY must be 32 bytes in base64, got 5 bytes.\n",
    });
  });
});

describe("the migrate command's arguments", () => {
  it("reads every flag", () => {
    expect(parseArgs(["--tenant", "acme", "--concurrency", "8", "--json"])).toEqual({
      tenantId: "acme",
      concurrency: 8,
      json: true,
      help: false,
    });
    expect(parseArgs(["--channel", "beta"])).toEqual({
      channel: "beta",
      concurrency: 4,
      json: false,
      help: false,
    });
  });

  it("refuses unknown flags, stray words and missing values with the usage", () => {
    for (const argv of [["--all"], ["acme"], ["--tenant"], ["--json=yes"]]) {
      expect(() => parseArgs(argv)).toThrow(UsageError);
      expect(() => parseArgs(argv)).toThrow(/Usage: npm run migrate/);
    }
  });

  it("refuses a tenant and a channel together, a bad tenant id and a bad concurrency", () => {
    expect(() => parseArgs(["--tenant", "acme", "--channel", "beta"])).toThrow(/not both/);
    expect(() => parseArgs(["--tenant", "Not An Id"])).toThrow(/is not a tenant id/);
    for (const concurrency of ["0", "1.5", "65", "many"]) {
      expect(() => parseArgs(["--concurrency", concurrency])).toThrow(/from 1 to 64/);
    }
  });
});
