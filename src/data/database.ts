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
  poolMax: number;
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

/** Opens the database named by the options (PostgreSQL or embedded PGlite). */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openPglite(options);
}

function tenantClientCache(control: PrismaClient, rowSecurity: boolean) {
  // One extended client per tenant: building one costs a little, and every
  // request of the tenant can share it because it holds no request state.
  const clients = new Map<string, TenantClient>();

  return (tenantId: string): TenantClient => {
    let client = clients.get(tenantId);
    if (!client) {
      client = createTenantClient(control, tenantId, { rowSecurity });
      clients.set(tenantId, client);
    }

    return client;
  };
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on("error", (err) => options.logger.warn({ err }, "idle database connection failed"));
  const statements = new StatementCounter();
  statements.attach(pool);

  const control = new PrismaClient({
    adapter: new PrismaPg(pool),
    transactionOptions: TRANSACTION_OPTIONS,
  });

  return {
    kind: "postgres",
    control,
    statements,
    forTenant: tenantClientCache(control, true),
    migrate: async () => {
      const client = await pool.connect();
      try {
        return await migrate(pgSession(client), { logger: options.logger });
      } finally {
        client.release();
      }
    },
    ping: async () => {
      await pool.query("SELECT 1");
    },
    close: async () => {
      await control.$disconnect();
      await pool.end();
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

  return {
    kind: "pglite",
    control,
    statements: new StatementCounter(),
    forTenant: tenantClientCache(control, true),
    migrate: () => migrate(pgliteSession(pglite), { logger: options.logger }),
    ping: async () => {
      await pglite.query("SELECT 1");
    },
    close: async () => {
      await control.$disconnect();
      await pglite.close();
    },
  };
}
