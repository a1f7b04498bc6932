import type { Database } from "../../data/index.js";
import {
  loginRoleFor,
  parsePlanned,
  type PlannedLocation,
} from "../../data/placement/tenant-location.js";
import { TENANT_TABLES } from "../../data/placement/tenant-tables.js";
import { Isolation } from "../../generated/prisma/enums.js";
import type { Logger } from "../../logging/index.js";
import type { TenantRecord } from "../../tenancy/tenant-registry.js";
import { forEachLimited } from "../../async/for-each-limited.js";

/** What a tenant takes on its database server; null where the server did not answer. */
export interface Footprint {
  readonly databaseBytes: number | null;
  readonly connections: number | null;
}

const UNKNOWN: Footprint = { databaseBytes: null, connections: null };

/** SHARED tenants whose rows are measured at the same time (one transaction each). */
const ROW_SIZES_AT_ONCE = 4;

/**
 * The size of a SHARED tenant's rows in every tenant table, read through its
 * own bound handle: row security limits the sum to its rows, and the
 * explicit filter says so too.
 */
const ROW_BYTES = `SELECT (${TENANT_TABLES.map(
  ({ name }) =>
    `(SELECT COALESCE(sum(pg_column_size(t.*)), 0) FROM "${name}" t WHERE t."tenantId" = $1)`,
).join(" + ")})::float8 AS bytes`;

interface Located {
  readonly tenant: TenantRecord;
  readonly planned: PlannedLocation;
}

async function sharedRowBytes(database: Database, tenants: readonly Located[]) {
  const sizes = new Map<string, number | null>();
  await forEachLimited(tenants, ROW_SIZES_AT_ONCE, async ({ tenant }) => {
    const rows = await database
      .forTenant(tenant.id)
      .$queryRawUnsafe<{ bytes: number }[]>(ROW_BYTES, tenant.id)
      .catch(() => null);
    sizes.set(tenant.id, rows?.[0]?.bytes ?? null);
  });

  return sizes;
}

/** Sizes of SCHEMA tenants' schemas (tables with their indexes and TOAST), in one query. */
async function schemaBytes(database: Database, schemas: readonly string[]) {
  if (schemas.length === 0) return new Map<string, number>();
  const rows = await database.control.$queryRawUnsafe<{ schema: string; bytes: number }[]>(
    `SELECT n.nspname AS schema, sum(pg_total_relation_size(c.oid))::float8 AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm') AND n.nspname = ANY($1::text[])
      GROUP BY n.nspname`,
    schemas,
  );

  return new Map(rows.map((row) => [row.schema, row.bytes]));
}

/** Connections open to the control database by the tenant login, which every SHARED and SCHEMA tenant uses. */
async function controlConnections(database: Database, login: string): Promise<number | null> {
  const rows = await database.control
    .$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND usename = $1`,
      login,
    )
    .catch(() => null);

  return rows?.[0]?.n ?? null;
}

/**
 * Sizes of a server's tenant databases and the connections their own
 * logins hold, in one admin session on that server.
 */
async function serverFigures(database: Database, serverId: string, tenants: readonly Located[]) {
  const names = tenants.map(({ planned }) =>
    planned.isolation === Isolation.DATABASE ? planned.database : "",
  );

  return database.admin.atServer(serverId, async (session) => {
    const sizes = await session.query<{ datname: string; bytes: number }>(
      `SELECT datname, pg_database_size(datname)::float8 AS bytes
         FROM pg_database WHERE datname = ANY($1::text[])`,
      [names],
    );
    const connections = await session.query<{ datname: string; usename: string; n: number }>(
      `SELECT datname, usename, count(*)::int AS n FROM pg_stat_activity
        WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()
        GROUP BY datname, usename`,
      [names],
    );
    const figures = new Map<string, Footprint>();
    for (const [index, { tenant }] of tenants.entries()) {
      const name = names[index];
      const size = sizes.find((row) => row.datname === name);
      const login = loginRoleFor(tenant.id);
      figures.set(tenant.id, {
        databaseBytes: size?.bytes ?? null,
        connections: size
          ? (connections.find((row) => row.datname === name && row.usename === login)?.n ?? 0)
          : null,
      });
    }

    return figures;
  });
}

export interface FootprintOptions {
  readonly database: Database;
  /** The login SHARED and SCHEMA tenants' statements run on. */
  readonly tenantLogin: string;
  readonly logger: Logger;
}

/**
 * Database size and connections of each tenant, batched by where tenants
 * live: one statement per SHARED tenant (its rows are mixed with others'),
 * one query for every SCHEMA tenant's schema, one admin session per
 * database server for DATABASE tenants. What cannot be read is null.
 */
export async function readFootprints(
  options: FootprintOptions,
  tenants: readonly TenantRecord[],
): Promise<Map<string, Footprint>> {
  const { database, logger } = options;
  const located: Located[] = [];
  for (const tenant of tenants) {
    try {
      located.push({ tenant, planned: parsePlanned(tenant.id, tenant.location) });
    } catch (err) {
      logger
        .child({ tenantId: tenant.id })
        .warn({ err }, "tenant location unreadable for its footprint");
    }
  }
  const inTier = (isolation: Isolation) =>
    located.filter(({ planned }) => planned.isolation === isolation);
  const shared = inTier(Isolation.SHARED);
  const schemas = inTier(Isolation.SCHEMA);
  const databases = inTier(Isolation.DATABASE);
  const byServer = new Map<string, Located[]>();
  for (const entry of databases) {
    if (entry.planned.isolation !== Isolation.DATABASE) continue;
    byServer.set(entry.planned.server, [...(byServer.get(entry.planned.server) ?? []), entry]);
  }
  const schemaOf = (planned: PlannedLocation) =>
    planned.isolation === Isolation.SCHEMA ? planned.schema : "";

  const [rowBytes, schemaSizes, connections, serverResults] = await Promise.all([
    sharedRowBytes(database, shared),
    schemaBytes(
      database,
      schemas.map(({ planned }) => schemaOf(planned)),
    ).catch((err) => {
      logger.warn({ err }, "schema sizes unreadable");
      return new Map<string, number>();
    }),
    shared.length + schemas.length > 0
      ? controlConnections(database, options.tenantLogin)
      : Promise.resolve(null),
    Promise.all(
      [...byServer].map(([serverId, onServer]) =>
        serverFigures(database, serverId, onServer).catch((err: unknown) => {
          logger.warn(
            { err, server: serverId },
            "database server unreadable for tenant footprints",
          );
          return new Map<string, Footprint>();
        }),
      ),
    ),
  ]);

  const footprints = new Map<string, Footprint>();
  for (const { tenant } of shared) {
    footprints.set(tenant.id, { databaseBytes: rowBytes.get(tenant.id) ?? null, connections });
  }
  for (const { tenant, planned } of schemas) {
    const bytes = schemaSizes.get(schemaOf(planned));
    footprints.set(tenant.id, {
      databaseBytes: bytes ?? null,
      connections: bytes === undefined ? null : connections,
    });
  }
  for (const figures of serverResults) {
    for (const [tenantId, footprint] of figures) footprints.set(tenantId, footprint);
  }
  for (const tenant of tenants) if (!footprints.has(tenant.id)) footprints.set(tenant.id, UNKNOWN);

  return footprints;
}
