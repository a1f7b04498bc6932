import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  listMigrations,
  migrate,
  pgliteSession,
  pgSession,
  type SqlSession,
} from "../../src/data/migrator.js";
import { createTestDatabase } from "../support/database.js";

/** The tables the row-security migration puts behind the tenant policy. */
// Row security covers the tenant data and the per-location move fence.
const TENANT_TABLES = [
  "AuditLog",
  "Challenge",
  "Dashboard",
  "Membership",
  "Organization",
  "Role",
  "RoleAssignment",
  "Submission",
  "TenantFence",
  "User",
];

const MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

const migrations = await listMigrations();
const names = migrations.map((m) => m.name);

// One database for this file; scenarios that need an empty start get their own schema,
// which also proves the unqualified SQL lands wherever search_path points.
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let scratchDir: string;
const clients: pg.Client[] = [];

async function connect(schema = "public"): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: database.url,
    options: `-c search_path=${schema}`,
  });
  await client.connect();
  clients.push(client);

  return client;
}

async function emptySchema(schema: string): Promise<void> {
  const admin = await connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
}

/** A private copy of the migrations that a test may edit. */
async function copyMigrations(label: string): Promise<string> {
  const dir = join(scratchDir, label);
  await cp(MIGRATIONS_DIR, dir, { recursive: true });

  return dir;
}

async function historyOf(session: SqlSession) {
  return session.query<{ migration_name: string; finished: boolean; applied_steps_count: number }>(
    `SELECT migration_name, finished_at IS NOT NULL AS finished, applied_steps_count
       FROM "_prisma_migrations" ORDER BY migration_name`,
  );
}

beforeAll(async () => {
  database = await createTestDatabase("migrator");
  scratchDir = await mkdtemp(join(tmpdir(), "ogc-migrator-"));
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.end()));
  await database?.drop();
  if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
});

describe("migrate on PostgreSQL", () => {
  it("applies every migration to an empty database and records it as Prisma does", async () => {
    const session = pgSession(await connect());
    const lines: object[] = [];

    const result = await migrate(session, { logger: { info: (obj) => lines.push(obj) } });

    expect(result).toEqual({ applied: names, alreadyApplied: [] });
    expect(lines).toEqual(names.map((migration) => ({ migration })));
    const rows = await session.query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows).toEqual(migrations.map((m) => ({ migration_name: m.name, checksum: m.checksum })));
  });

  it("applies nothing on a second run", async () => {
    const session = pgSession(await connect());

    const result = await migrate(session);

    expect(result).toEqual({ applied: [], alreadyApplied: names });
    expect(await historyOf(session)).toHaveLength(names.length);
  });

  it("applies each migration once when two connections migrate at the same time", async () => {
    await emptySchema("racing");
    const [first, second] = await Promise.all([connect("racing"), connect("racing")]);

    const results = await Promise.all([migrate(pgSession(first)), migrate(pgSession(second))]);

    const applied = results.map((r) => r.applied).sort((a, b) => b.length - a.length);
    expect(applied).toEqual([names, []]);
    expect(await historyOf(pgSession(first))).toEqual(
      names.map((name) => ({ migration_name: name, finished: true, applied_steps_count: 1 })),
    );
    const tables = await first.query(
      `SELECT 1 FROM information_schema.tables WHERE table_schema = 'racing'`,
    );
    expect(tables.rowCount).toBe(27);
  });

  it("refuses a migration edited after it was applied", async () => {
    await emptySchema("edited");
    const session = pgSession(await connect("edited"));
    const dir = await copyMigrations("edited");
    await migrate(session, { migrationsDir: dir });
    const file = join(dir, names[0]!, "migration.sql");
    await writeFile(file, `${await readFile(file, "utf8")}\n-- edited later\n`);

    await expect(migrate(session, { migrationsDir: dir })).rejects.toThrow(
      `Migration ${names[0]} was edited after it was applied`,
    );
  });

  it("accepts a migration whose line endings git changed", async () => {
    await emptySchema("crlf");
    const session = pgSession(await connect("crlf"));
    const dir = await copyMigrations("crlf");
    await migrate(session, { migrationsDir: dir });
    const file = join(dir, names[0]!, "migration.sql");
    await writeFile(file, (await readFile(file, "utf8")).replaceAll("\n", "\r\n"));

    await expect(migrate(session, { migrationsDir: dir })).resolves.toEqual({
      applied: [],
      alreadyApplied: names,
    });
  });

  it("refuses to run after a migration that started and never finished", async () => {
    await emptySchema("failed");
    const session = pgSession(await connect("failed"));
    await migrate(session);
    await session.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, $2, $3)`,
      ["00000000-0000-4000-8000-000000000000", "0".repeat(64), "20990101000000_half_done"],
    );

    await expect(migrate(session)).rejects.toThrow(/20990101000000_half_done .* never finished/);
  });

  it("rolls a failing migration back whole, leaving no history row", async () => {
    await emptySchema("broken");
    const session = pgSession(await connect("broken"));
    const dir = await copyMigrations("broken");
    await mkdir(join(dir, "20990101000000_broken"));
    await writeFile(
      join(dir, "20990101000000_broken", "migration.sql"),
      `CREATE TABLE "Half" ("id" TEXT);\nSELECT * FROM "NoSuchTable";\n`,
    );

    await expect(migrate(session, { migrationsDir: dir })).rejects.toThrow(
      /20990101000000_broken failed and was rolled back: .*NoSuchTable/,
    );
    const half = await session.query(`SELECT to_regclass('"Half"') AS half`);
    expect(half).toEqual([{ half: null }]);
    expect((await historyOf(session)).map((row) => row.migration_name)).toEqual(names);
  });
});

describe("tenant row security on PostgreSQL", () => {
  beforeAll(async () => {
    const owner = await connect();
    await migrate(pgSession(owner));
    await owner.query(`
      INSERT INTO "User" ("tenantId", id, email, name) VALUES
        ('a', 'u1', 'one@a.test', 'One'), ('a', 'u2', 'two@a.test', 'Two'),
        ('b', 'u3', 'three@b.test', 'Three')`);
  });

  it("shows only the rows of the tenant set in app.tenant_id", async () => {
    const rows = await asTenant(pgSession(await connect()), "a", (s) =>
      s.query(`SELECT * FROM "User" ORDER BY id`),
    );

    expect(rows.map((row) => [row.tenantId, row.id])).toEqual([
      ["a", "u1"],
      ["a", "u2"],
    ]);
  });

  it("shows no rows when no tenant is set", async () => {
    const session = pgSession(await connect());

    const rows = await asTenant(session, undefined, (s) => s.query(`SELECT * FROM "User"`));

    expect(rows).toEqual([]);
  });

  it("refuses to write a row for another tenant", async () => {
    const session = pgSession(await connect());

    const write = asTenant(session, "a", (s) =>
      s.query(`INSERT INTO "User" ("tenantId", id, email, name) VALUES ('b', 'x', 'x@b', 'X')`),
    );

    await expect(write).rejects.toThrow(/row-level security/);
  });

  it("grants the tenant role nothing on the control plane", async () => {
    const session = pgSession(await connect());

    const read = asTenant(session, "a", (s) => s.query(`SELECT * FROM "Tenant"`));

    await expect(read).rejects.toThrow(/permission denied/);
  });
});

describe("migrate on embedded PGlite", () => {
  let db: PGlite;

  beforeAll(async () => {
    db = new PGlite();
    await db.waitReady;
  });

  afterAll(async () => {
    await db?.close();
  });

  it("applies every migration, then nothing on a second run", async () => {
    const session = pgliteSession(db);

    expect(await migrate(session)).toEqual({ applied: names, alreadyApplied: [] });
    expect(await migrate(session)).toEqual({ applied: [], alreadyApplied: names });
  });

  it("creates the tenant role without superuser, login or bypass rights", async () => {
    const roles = await db.query(
      `SELECT rolsuper, rolcanlogin, rolbypassrls FROM pg_roles WHERE rolname = 'ogc_tenant'`,
    );

    expect(roles.rows).toEqual([{ rolsuper: false, rolcanlogin: false, rolbypassrls: false }]);
  });

  it("enables, forces and scopes row security on every tenant table", async () => {
    const tables = await db.query<{ relname: string }>(
      `SELECT c.relname FROM pg_class c
         JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = 'tenant_isolation'
        WHERE c.relrowsecurity AND c.relforcerowsecurity ORDER BY c.relname`,
    );

    expect(tables.rows.map((row) => row.relname)).toEqual(TENANT_TABLES);
  });

  it("filters rows by tenant there too", async () => {
    const session = pgliteSession(db);
    await db.exec(`
      INSERT INTO "Challenge" ("tenantId", id, title) VALUES ('a', 'c1', 'A'), ('b', 'c2', 'B')`);

    const seenByA = await asTenant(session, "a", (s) => s.query(`SELECT id FROM "Challenge"`));
    const seenByNone = await asTenant(session, undefined, (s) =>
      s.query(`SELECT id FROM "Challenge"`),
    );

    expect(seenByA).toEqual([{ id: "c1" }]);
    expect(seenByNone).toEqual([]);
  });
});

/**
 * Runs `work` the way tenant queries run: in a transaction, as ogc_tenant, with
 * app.tenant_id set for that transaction alone (or not at all).
 */
async function asTenant<T>(
  session: SqlSession,
  tenantId: string | undefined,
  work: (session: SqlSession) => Promise<T>,
): Promise<T> {
  await session.exec("BEGIN");
  try {
    await session.exec("SET LOCAL ROLE ogc_tenant");
    if (tenantId !== undefined) {
      await session.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
    }

    return await work(session);
  } finally {
    await session.exec("ROLLBACK");
  }
}
