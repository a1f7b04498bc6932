import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.js";
import type { Logger } from "../logging/index.js";
import { migrate, pgliteSession, pgSession, type MigrationResult } from "./migrator.js";
import { StatementCounter } from "./statement-counter.js";
import { createTenantClient, type TenantClient } from "./tenant-client.js";

export type DatabaseKind = "postgres" | "pglite";

export interface DatabaseOptions {
  /** PostgreSQL URL; without it the embedded PGlite under `dataDir` is used. */
  url: string | undefined;
  /** PGlite data directory; `memory://` keeps it in memory. */
  dataDir: string;
  /** Connections for tenant traffic; the control pool gets a quarter. */
  poolMax: number;
  /**
   * Login of the tenant role (`ogc_app`); default: the control URL with
   * that user and no password (trust or peer authentication).
   */
  tenantUrl?: string;
  /** Refuse to start when tenant connections cannot log in as `ogc_app`. */
  requireTenantLogin?: boolean;
  logger: Logger;
}

/**
 * The control-plane database and the factory of tenant-bound handles.
 * Shared-tier tenants live in its tables; later tiers plug in behind
 * {@link Database.forTenant} without resolvers noticing.
 */
export interface Database {
  readonly kind: DatabaseKind;
  /** Control-plane client (tenants, config, platform audit). */
  readonly control: PrismaClient;
  /** Statements sent so far (PostgreSQL only; always 0 on PGlite). */
  readonly statements: StatementCounter;
  /** A handle whose every statement is bound to `tenantId`. */
  forTenant(tenantId: string): TenantClient;
  migrate(): Promise<MigrationResult>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Every tenant statement runs in a short transaction, so under load requests
 * queue for a pooled connection. Prisma's default wait for one (2 s) fails
 * requests that a moment's patience would serve; the pool's own connection
 * timeout still bounds a database that does not answer.
 */
const TRANSACTION_OPTIONS = { maxWait: 10_000, timeout: 15_000 } as const;

/**
 * Opens the database named by the options (PostgreSQL or embedded PGlite)
 * and brings its control plane to the latest migration.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openPglite(options);
}

function tenantClientCache(base: PrismaClient) {
  // One extended client per tenant: building one costs a little, and every
  // request of the tenant can share it because it holds no request state.
  const clients = new Map<string, TenantClient>();

  return (tenantId: string): TenantClient => {
    let client = clients.get(tenantId);
    if (!client) {
      client = createTenantClient(base, tenantId);
      clients.set(tenantId, client);
    }

    return client;
  };
}

/** The login role of tenant connections (see the tenant_login_role migration). */
export const TENANT_LOGIN_ROLE = "ogc_app";

function createPool(url: string, max: number, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on("error", (err) => logger.warn({ err }, "idle database connection failed"));

  return pool;
}

/** The control URL with the tenant login role in place of its user. */
function deriveTenantUrl(controlUrl: string): string {
  const url = new URL(controlUrl);
  url.username = TENANT_LOGIN_ROLE;
  url.password = "";

  return url.toString();
}

/**
 * Opens the pool tenant statements run on, logged in as a role that row
 * security always applies to. Answers null when that role cannot log in;
 * the caller decides whether that may be tolerated.
 */
async function openTenantPool(
  url: string,
  options: DatabaseOptions,
  statements: StatementCounter,
): Promise<pg.Pool | null> {
  const pool = createPool(url, options.poolMax, options.logger);
  // Before the first connection, so every connection is counted.
  statements.attach(pool);
  try {
    const { rows } = await pool.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
      "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
    );
    const role = rows[0];
    if (!role || role.rolsuper || role.rolbypassrls) {
      throw new Error("the tenant login role is a superuser or bypasses row-level security");
    }

    return pool;
  } catch (err) {
    await pool.end().catch(() => undefined);
    if (options.requireTenantLogin) {
      throw new Error(
        `Tenant connections cannot log in safely (${(err as Error).message}). Set TENANT_DATABASE_URL to a login of role ${TENANT_LOGIN_ROLE}.`,
      );
    }
    options.logger.warn(
      { err },
      `tenant connections cannot log in as ${TENANT_LOGIN_ROLE}: falling back to SET ROLE on the control pool, which a superuser login can undo. Refused in production.`,
    );
    return null;
  }
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const statements = new StatementCounter();
  // The control pool serves tenant lookups and platform writes; tenant
  // traffic has its own, larger pool.
  const controlPool = createPool(url, Math.max(2, Math.ceil(options.poolMax / 4)), options.logger);
  statements.attach(controlPool);
  const control = new PrismaClient({
    adapter: new PrismaPg(controlPool),
    transactionOptions: TRANSACTION_OPTIONS,
  });
  const migrateControl = async () => {
    const client = await controlPool.connect();
    try {
      return await migrate(pgSession(client), { logger: options.logger });
    } finally {
      client.release();
    }
  };

  // The tenant login role is created by a migration, so migrate first.
  await migrateControl();
  const tenantPool = await openTenantPool(
    options.tenantUrl ?? deriveTenantUrl(url),
    options,
    statements,
  );
  const tenantBase = tenantPool
    ? new PrismaClient({
        adapter: new PrismaPg(tenantPool),
        transactionOptions: TRANSACTION_OPTIONS,
      })
    : control;

  return {
    kind: "postgres",
    control,
    statements,
    forTenant: tenantClientCache(tenantBase),
    migrate: migrateControl,
    ping: async () => {
      await controlPool.query("SELECT 1");
    },
    close: async () => {
      if (tenantBase !== control) await tenantBase.$disconnect();
      await control.$disconnect();
      await Promise.all([controlPool.end(), tenantPool?.end()]);
    },
  };
}

async function openPglite(options: DatabaseOptions): Promise<Database> {
  if (!options.dataDir.startsWith("memory://")) {
    await mkdir(options.dataDir, { recursive: true });
  }
  const pglite = await PGlite.create(options.dataDir);
  const control = new PrismaClient({
    adapter: new PrismaPGlite(pglite),
    transactionOptions: TRANSACTION_OPTIONS,
  });
  const migrateEmbedded = () => migrate(pgliteSession(pglite), { logger: options.logger });
  await migrateEmbedded();

  return {
    kind: "pglite",
    control,
    statements: new StatementCounter(),
    // PGlite has one connection and one (superuser) login, so tenant
    // statements switch role with SET ROLE. It is the embedded development
    // default only; production refuses to start without DATABASE_URL.
    forTenant: tenantClientCache(control),
    migrate: migrateEmbedded,
    ping: async () => {
      await pglite.query("SELECT 1");
    },
    close: async () => {
      await control.$disconnect();
      await pglite.close();
    },
  };
}
