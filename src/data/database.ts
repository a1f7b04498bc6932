import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { LRUCache } from "lru-cache";
import { createTenantKeyring, type MasterKeys, type TenantKeyring } from "../crypto/index.js";
import { PrismaClient } from "../generated/prisma/client.js";
import type { Logger } from "../logging/index.js";
import { migrate, pgliteSession, pgSession, type MigrationResult } from "./migrator.js";
import {
  pgliteAdminSessions,
  postgresAdminSessions,
  type AdminSessions,
} from "./placement/admin-sessions.js";
import type { DatabaseServer } from "./placement/database-servers.js";
import { LocationClients, type LocationClientStats } from "./placement/location-clients.js";
import { PlacementDirectory } from "./placement/placement-directory.js";
import { routeToBoundSchema } from "./placement/schema-routing.js";
import { describeLocation } from "./placement/tenant-location.js";
import { StatementCounter } from "./statement-counter.js";
import { createTenantClient, type TenantClient, type TenantRouter } from "./tenant-client.js";

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
  /** Servers DATABASE tenants are placed on (PostgreSQL only). */
  servers?: readonly DatabaseServer[];
  /** Master keys of the keyring that seals tenant metadata (connection strings and more). */
  masterKeys: MasterKeys;
  /** Connections all tenant databases may hold together (default 8). */
  databaseConnections?: number;
  /** How long a write waits for a move of its tenant (ms, default 10 s). */
  writeWaitMs?: number;
  /** How long a tenant's location is reused before it is read again (ms, default 5 s). */
  placementTtlMs?: number;
  logger: Logger;
}

/**
 * The control-plane database and the factory of tenant-bound handles. SHARED
 * tenants live in its `public` tables, SCHEMA tenants in schemas of their
 * own beside them, DATABASE tenants on the configured servers; resolvers see
 * one kind of handle, from {@link Database.forTenant}, whatever the tier.
 */
export interface Database {
  readonly kind: DatabaseKind;
  /** Control-plane client (tenants, config, platform audit). */
  readonly control: PrismaClient;
  /** Statements sent so far on the control and tenant pools (0 on PGlite). */
  readonly statements: StatementCounter;
  /** A handle whose every statement is bound to `tenantId`, wherever it lives. */
  forTenant(tenantId: string): TenantClient;
  /** Where tenants live (cached for a few seconds). */
  readonly placement: PlacementDirectory;
  /** Seals and opens tenant metadata with each tenant's data key (table TenantKey). */
  readonly keyring: TenantKeyring;
  /** Location clients: retire one after a move, read stats. */
  readonly locations: LocationClients;
  /** Privileged sessions for provisioning, upgrades and moves. */
  readonly admin: AdminSessions;
  /** Servers DATABASE tenants can be placed on (none on PGlite). */
  readonly servers: readonly DatabaseServer[];
  /** This control plane's id, which marks what it creates on shared servers. */
  readonly deploymentId: string;
  /** What the tenant clients hold now. */
  stats(): LocationClientStats;
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

/** How many tenant handles are kept for reuse; they are cheap and hold no connection. */
const TENANT_HANDLES_KEPT = 2_000;

/**
 * The router every tenant handle uses, and a bounded cache of handles: one
 * extended client per tenant costs a little to build, holds no request state
 * and no connection, so recently used tenants share theirs.
 */
function tenantHandles(
  template: PrismaClient,
  placement: PlacementDirectory,
  locations: LocationClients,
  writeWaitMs: number,
) {
  const router: TenantRouter = {
    writeWaitMs,
    lease: async (tenantId) => locations.acquire(await placement.locate(tenantId)),
    moving: (tenantId, fresh) => placement.isMoving(tenantId, fresh),
    relocate: async (tenantId, stale) => {
      const now = await placement.refresh(tenantId);
      return describeLocation(now) !== describeLocation(stale);
    },
  };
  const handles = new LRUCache<string, TenantClient>({ max: TENANT_HANDLES_KEPT });

  return (tenantId: string): TenantClient => {
    let handle = handles.get(tenantId);
    if (!handle) {
      handle = createTenantClient(template, tenantId, router);
      handles.set(tenantId, handle);
    }

    return handle;
  };
}

/** `application_name` of every pooled connection the gateway opens. */
export const GATEWAY_APPLICATION_NAME = "newfinity-gateway";

/** The login role of tenant connections (see the tenant_login_role migration). */
export const TENANT_LOGIN_ROLE = "ogc_app";

function createPool(url: string, max: number, logger: Logger, idleTimeoutMillis = 30_000): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis,
    // Operators (and the scale benchmark) count the gateway's connections by it.
    application_name: GATEWAY_APPLICATION_NAME,
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
  const sharedPool = tenantPool ?? controlPool;
  const clientOver = (pool: pg.Pool) =>
    new PrismaClient({ adapter: new PrismaPg(pool), transactionOptions: TRANSACTION_OPTIONS });
  const shared = tenantPool ? clientOver(tenantPool) : control;
  const schemas = new PrismaClient({
    adapter: routeToBoundSchema(new PrismaPg(sharedPool)),
    transactionOptions: TRANSACTION_OPTIONS,
  });
  const locations = new LocationClients({
    shared,
    schemas,
    forDatabase: (tenantUrl, max) => {
      // Idle tenant database connections go quickly: the budget is shared.
      const pool = createPool(tenantUrl, max, options.logger, 5_000);
      statements.attach(pool);
      return { pool, client: clientOver(pool) };
    },
    databaseConnections: options.databaseConnections,
    logger: options.logger,
  });
  // The keyring reads its keys through the control client, so it is made here, after it.
  const keyring = createTenantKeyring({ control, masterKeys: options.masterKeys });
  const placement = new PlacementDirectory(control, keyring, options.placementTtlMs);
  const servers = options.servers ?? [];
  const deploymentId = await readDeploymentId(control);

  return {
    kind: "postgres",
    deploymentId,
    control,
    statements,
    placement,
    keyring,
    locations,
    servers,
    admin: postgresAdminSessions(url, servers),
    forTenant: tenantHandles(control, placement, locations, options.writeWaitMs ?? 10_000),
    stats: () => locations.stats(),
    migrate: migrateControl,
    ping: async () => {
      await controlPool.query("SELECT 1");
    },
    close: async () => {
      await locations.close();
      await schemas.$disconnect();
      if (shared !== control) await shared.$disconnect();
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
  const schemas = new PrismaClient({
    adapter: routeToBoundSchema(new PrismaPGlite(pglite)),
    transactionOptions: TRANSACTION_OPTIONS,
  });
  const locations = new LocationClients({
    shared: control,
    schemas,
    forDatabase: null,
    logger: options.logger,
  });
  // The keyring reads its keys through the control client, so it is made here, after it.
  const keyring = createTenantKeyring({ control, masterKeys: options.masterKeys });
  const placement = new PlacementDirectory(control, keyring, options.placementTtlMs);

  return {
    kind: "pglite",
    deploymentId: await readDeploymentId(control),
    control,
    statements: new StatementCounter(),
    placement,
    keyring,
    locations,
    servers: [],
    admin: pgliteAdminSessions(pglite),
    // PGlite has one connection and one (superuser) login, so tenant
    // statements switch role with SET ROLE. It is the embedded development
    // default only; production refuses to start without DATABASE_URL.
    forTenant: tenantHandles(control, placement, locations, options.writeWaitMs ?? 10_000),
    stats: () => locations.stats(),
    migrate: migrateEmbedded,
    ping: async () => {
      await pglite.query("SELECT 1");
    },
    close: async () => {
      await locations.close();
      await schemas.$disconnect();
      await control.$disconnect();
      await pglite.close();
    },
  };
}

/** The id the control_plane_identity migration gave this control plane. */
async function readDeploymentId(control: PrismaClient): Promise<string> {
  const row = await control.controlPlane.findFirst({ orderBy: { createdAt: "asc" } });
  if (!row) throw new Error("The control plane has no identity row; was it migrated?");

  return row.id;
}
