/**
 * The gateway's own migrator: applies the SQL under prisma/migrations in
 * Prisma's layout and keeps Prisma's `_prisma_migrations` history, so that a
 * later `prisma migrate deploy` on the same database sees the same past.
 *
 * It runs wherever Prisma's schema engine cannot (no engine download here, and
 * embedded PGlite), and on any schema: every migration is unqualified SQL, so
 * the connection's search_path decides where tables and history land.
 */
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import type { ClientBase } from "pg";

/** One connection the migrator runs SQL on (pg.Client or PGlite both fit via small adapters). */
export interface SqlSession {
  /** Runs one or more statements with no parameters (simple query protocol). */
  exec(sql: string): Promise<void>;
  /** Runs one statement with `$1`-style parameters and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** What one run did, by migration directory name, in name order. */
export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export interface MigrateOptions {
  /**
   * Directory holding `<name>/migration.sql` folders. Default: the repository's
   * prisma/migrations, found two levels above this file, which holds both for
   * src/data under vitest and for dist/data after tsc.
   */
  migrationsDir?: string;
  /** Receives one line per applied migration (default: silent). */
  logger?: { info(obj: object, msg?: string): void };
}

/** One migration as found on disk. */
export interface MigrationFile {
  name: string;
  sql: string;
  /** Lower-case hex SHA-256 of the file's bytes, as Prisma records it. */
  checksum: string;
}

/**
 * The advisory lock key Prisma's schema engine takes for `migrate deploy`.
 * Sharing it makes this migrator and Prisma's exclude each other too. Advisory
 * locks are per database: runs on different schemas of one database queue.
 */
const MIGRATION_LOCK_KEY = 72707369;

const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

/** Prisma's own history table for PostgreSQL, column for column. */
const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"            VARCHAR(64) NOT NULL,
    "finished_at"         TIMESTAMPTZ,
    "migration_name"      VARCHAR(255) NOT NULL,
    "logs"                TEXT,
    "rolled_back_at"      TIMESTAMPTZ,
    "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface HistoryRow {
  migration_name: string;
  checksum: string;
  started_at: Date | string;
  finished_at: Date | string | null;
}

/**
 * Brings the database (the first schema on the session's search_path) up to
 * date. Each pending migration runs in its own transaction together with its
 * history row, so a failing one leaves neither behind. Migrations must
 * therefore be transaction-safe (no `CREATE INDEX CONCURRENTLY`).
 *
 * Throws, applying nothing, when an applied migration's file was edited since,
 * or when an earlier run (for example Prisma's own) left a failed migration.
 * Migrations the database has but the directory lacks are left alone.
 */
export async function migrate(
  session: SqlSession,
  options: MigrateOptions = {},
): Promise<MigrationResult> {
  const migrations = await listMigrations(options.migrationsDir);

  // Held for the whole run: a second process waits here, then finds nothing to do.
  await session.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
  try {
    await session.exec(CREATE_HISTORY_TABLE);
    const history = await readHistory(session);
    const pending = checkHistory(migrations, history);
    for (const migration of pending) {
      await applyMigration(session, migration);
      options.logger?.info({ migration: migration.name }, "applied migration");
    }

    return {
      applied: pending.map((m) => m.name),
      alreadyApplied: migrations.filter((m) => history.has(m.name)).map((m) => m.name),
    };
  } finally {
    // A broken connection already dropped the lock; its error must not hide the first one.
    await session.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
  }
}

/** Reads every `<dir>/<name>/migration.sql`, in name order as Prisma sorts them. */
export async function listMigrations(dir = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  return Promise.all(
    names.map(async (name) => {
      const path = join(dir, name, "migration.sql");
      const bytes = await readFile(path).catch((error: unknown) => {
        throw new Error(`Migration folder ${name} has no readable migration.sql (${path})`, {
          cause: error,
        });
      });

      return { name, sql: bytes.toString("utf8"), checksum: sha256(bytes) };
    }),
  );
}

/** Wraps a pg client (not a pool: the lock and transactions need one connection). */
export function pgSession(client: ClientBase): SqlSession {
  return {
    async exec(sql) {
      await client.query(sql);
    },
    async query<T>(sql: string, params?: unknown[]) {
      const result = await client.query(sql, params);
      return result.rows as T[];
    },
  };
}

/** Wraps an embedded PGlite database. */
export function pgliteSession(db: PGlite): SqlSession {
  return {
    async exec(sql) {
      await db.exec(sql);
    },
    async query<T>(sql: string, params?: unknown[]) {
      const result = await db.query<T>(sql, params);
      return result.rows;
    },
  };
}

/** The live history, one row per migration name; rows marked rolled back do not count. */
async function readHistory(session: SqlSession): Promise<Map<string, HistoryRow>> {
  const rows = await session.query<HistoryRow>(
    `SELECT migration_name, checksum, started_at, finished_at
       FROM "_prisma_migrations"
      WHERE rolled_back_at IS NULL
      ORDER BY started_at`,
  );

  return new Map(rows.map((row) => [row.migration_name, row]));
}

/** Refuses a history this run must not build on; returns the migrations still to apply. */
function checkHistory(
  migrations: MigrationFile[],
  history: Map<string, HistoryRow>,
): MigrationFile[] {
  for (const row of history.values()) {
    if (row.finished_at === null) {
      throw new Error(
        `Migration ${row.migration_name} started at ${String(row.started_at)} and never ` +
          `finished, so the database may be half-migrated. Repair it by hand, then mark it ` +
          `with \`prisma migrate resolve --applied\` or \`--rolled-back\` before migrating again.`,
      );
    }
  }
  for (const migration of migrations) {
    const row = history.get(migration.name);
    if (row && !matchesChecksum(migration, row.checksum)) {
      throw new Error(
        `Migration ${migration.name} was edited after it was applied: the database recorded ` +
          `checksum ${row.checksum}, the file now hashes to ${migration.checksum}. Restore the ` +
          `file and put the change in a new migration.`,
      );
    }
  }

  return migrations.filter((migration) => !history.has(migration.name));
}

async function applyMigration(session: SqlSession, migration: MigrationFile): Promise<void> {
  const id = randomUUID();
  await session.exec("BEGIN");
  try {
    await session.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at)
       VALUES ($1, $2, $3, clock_timestamp())`,
      [id, migration.checksum, migration.name],
    );
    await session.exec(migration.sql);
    // Prisma counts a whole script as one step.
    await session.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1
        WHERE id = $1`,
      [id],
    );
    await session.exec("COMMIT");
  } catch (error) {
    // If ROLLBACK fails too the connection is gone, and the server rolls back on its own.
    await session.exec("ROLLBACK").catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${migration.name} failed and was rolled back: ${reason}`, {
      cause: error,
    });
  }
}

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Prisma accepts a file whose line endings git changed since it was applied
 * (CRLF and LF both match), and so do we, so both tools agree on "edited".
 */
function matchesChecksum(migration: MigrationFile, recorded: string): boolean {
  if (migration.checksum === recorded) return true;
  const { sql } = migration;

  return [sql.replaceAll("\r\n", "\n"), sql.replaceAll("\n", "\r\n")].some(
    (variant) => sha256(variant) === recorded,
  );
}
