import { randomBytes } from "node:crypto";
import { DATABASE_SECRET_FIELD } from "../crypto/index.js";
import type { Database } from "../data/index.js";
import { migrate, type MigrationResult, type SqlSession } from "../data/migrator.js";
import { urlForDatabase } from "../data/placement/database-servers.js";
import {
  loginRoleFor,
  quoteIdentifier,
  type PlannedLocation,
  type TenantLocation,
} from "../data/placement/tenant-location.js";

// Planning lives with the location types; lifecycle code imports it from here.
export { planLocation, type PlannedLocation } from "../data/placement/tenant-location.js";
import { deleteRows } from "../data/placement/table-copy.js";
import { TENANT_TABLES } from "../data/placement/tenant-tables.js";
import { GatewayError } from "../errors/index.js";
import type { LifecycleServices } from "./lifecycle-services.js";
import { Isolation } from "../generated/prisma/enums.js";

/**
 * Creating, upgrading and removing the places tenants live in. Every step
 * can run again after a failure part-way and then finishes the job.
 */

/** The registry columns that record a location (null for the tiers that lack them). */
export interface PlacementColumns {
  isolation: Isolation;
  schemaName: string | null;
  databaseServer: string | null;
  databaseName: string | null;
  databaseSecret: string | null;
  schemaVersion: string | null;
}

/** A location that exists, migrated, with the registry columns that name it. */
export interface ReadyLocation {
  readonly location: TenantLocation;
  readonly columns: PlacementColumns;
}

/** The latest migration in a result: the version a location is at. */
export function versionOf(result: MigrationResult): string | null {
  const all = [...result.alreadyApplied, ...result.applied].sort();

  return all.at(-1) ?? null;
}

/** Brings a location's tables to the latest migration. */
export function migrateLocation(
  database: Database,
  location: TenantLocation,
  migrationsDir?: string,
): Promise<MigrationResult> {
  return database.admin.atLocation(location, (session) => migrate(session, { migrationsDir }));
}

/**
 * Makes `planned` exist and migrates it: a schema in the control database,
 * or a database with a login of its own on its server. Idempotent. For a
 * database, a retry sets a fresh password, so the sealed connection string
 * it returns is always the one that works. The tenant's row must exist:
 * the connection string is sealed with its data key.
 */
export async function createLocation(
  database: Database,
  tenantId: string,
  planned: PlannedLocation,
  migrationsDir?: string,
): Promise<ReadyLocation> {
  switch (planned.isolation) {
    case Isolation.SHARED: {
      const location: TenantLocation = planned;
      return ready(location, versionOf(await migrateLocation(database, location, migrationsDir)));
    }
    case Isolation.SCHEMA: {
      const location: TenantLocation = planned;
      await database.admin.atLocation({ isolation: Isolation.SHARED }, (session) =>
        session.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(planned.schema)}`),
      );
      return ready(location, versionOf(await migrateLocation(database, location, migrationsDir)));
    }
    case Isolation.DATABASE:
      return createDatabaseLocation(database, tenantId, planned, migrationsDir);
    default: {
      const unknown: never = planned;
      throw new Error(`unhandled location ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * {@link createLocation} for a tenant whose row records `planned` already:
 * the sealed connection string and the schema version go into the row, and
 * the tenant's handles look its location up again.
 */
export async function createRecordedLocation(
  services: LifecycleServices,
  tenantId: string,
  planned: PlannedLocation,
): Promise<ReadyLocation> {
  const { database } = services;
  const ready = await createLocation(database, tenantId, planned, services.migrationsDir);
  await database.control.tenant.update({
    where: { id: tenantId },
    data: {
      databaseSecret: ready.columns.databaseSecret,
      schemaVersion: ready.columns.schemaVersion,
    },
  });
  database.placement.invalidate(tenantId);

  return ready;
}

function ready(location: TenantLocation, schemaVersion: string | null): ReadyLocation {
  return {
    location,
    columns: {
      isolation: location.isolation,
      schemaName: location.isolation === Isolation.SCHEMA ? location.schema : null,
      databaseServer: location.isolation === Isolation.DATABASE ? location.server : null,
      databaseName: location.isolation === Isolation.DATABASE ? location.database : null,
      databaseSecret: null,
      schemaVersion,
    },
  };
}

async function createDatabaseLocation(
  database: Database,
  tenantId: string,
  planned: PlannedLocation & { isolation: "DATABASE" },
  migrationsDir?: string,
): Promise<ReadyLocation> {
  const server = database.admin.server(planned.server);
  const login = loginRoleFor(tenantId);
  // base64url has no quote or backslash, so it is safe inside a literal.
  const password = randomBytes(24).toString("base64url");
  const db = quoteIdentifier(planned.database);
  const role = quoteIdentifier(login);

  const mark = ownershipMark(database.deploymentId, tenantId);

  await database.admin.atServer(planned.server, async (session) => {
    // Nothing is touched before both names are known to be free or ours.
    const owners = await ownersOn(session, planned.database, login);
    checkOwnership(owners, mark, planned);
    // The login is made and marked in one transaction, before the database:
    // a database left unmarked by a crash is ours only if the login is.
    if (owners.role === undefined) {
      await session.exec("BEGIN");
      await session.exec(`CREATE ROLE ${role} NOLOGIN`);
      await session.exec(`COMMENT ON ROLE ${role} IS '${mark}'`);
      await session.exec("COMMIT");
    }
    await session.exec(
      `ALTER ROLE ${role} LOGIN PASSWORD '${password}' NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE INHERIT`,
    );
    // CREATE DATABASE cannot run in a transaction or take IF NOT EXISTS.
    if (owners.database === undefined) await session.exec(`CREATE DATABASE ${db}`);
    await session.exec(`COMMENT ON DATABASE ${db} IS '${mark}'`);
    await session.exec(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    await session.exec(`GRANT CONNECT ON DATABASE ${db} TO ${role}`);
  });

  const url = new URL(urlForDatabase(server.adminUrl, planned.database));
  url.username = login;
  url.password = password;
  const location: TenantLocation = { ...planned, url: url.toString() };
  const version = versionOf(await migrateLocation(database, location, migrationsDir));
  // The migration made the tenant role; the login reaches its grants through it.
  await database.admin.atServer(planned.server, (session) =>
    session.exec(`GRANT ogc_tenant TO ${role}`),
  );
  const result = ready(location, version);

  return {
    location,
    columns: {
      ...result.columns,
      databaseSecret: await database.keyring.seal(tenantId, DATABASE_SECRET_FIELD, location.url),
    },
  };
}

/**
 * The comment marking a tenant database and login as this deployment's, for
 * this tenant. Deployment ids are UUIDs and tenant ids `[a-z0-9-]`, so the
 * text needs no quoting inside a literal.
 */
function ownershipMark(deploymentId: string, tenantId: string): string {
  if (!/^[0-9a-f-]{36}$/.test(deploymentId)) throw new Error("malformed deployment id");

  return `newfinity-gateway deployment=${deploymentId} tenant=${tenantId}`;
}

/** The marks on a tenant's database and login; `undefined` where it does not exist. */
interface Owners {
  database: string | null | undefined;
  role: string | null | undefined;
}

async function ownersOn(session: SqlSession, databaseName: string, login: string): Promise<Owners> {
  const [db] = await session.query<{ mark: string | null }>(
    `SELECT shobj_description(oid, 'pg_database') AS mark FROM pg_database WHERE datname = $1`,
    [databaseName],
  );
  const [role] = await session.query<{ mark: string | null }>(
    `SELECT shobj_description(oid, 'pg_authid') AS mark FROM pg_roles WHERE rolname = $1`,
    [login],
  );

  return { database: db ? db.mark : undefined, role: role ? role.mark : undefined };
}

/**
 * Refuses a database or login that another deployment (or another tenant)
 * made: several gateways may share a server, and taking one over would hand
 * a stranger's data to this tenant, or drop it.
 */
function checkOwnership(
  owners: Owners,
  mark: string,
  planned: { server: string; database: string },
) {
  const roleOurs = owners.role === undefined || owners.role === mark;
  // Unmarked only when a crash came between CREATE DATABASE and its comment,
  // and then the login, made and marked first, is ours.
  const databaseOurs =
    owners.database === undefined ||
    owners.database === mark ||
    (owners.database === null && owners.role === mark);
  if (!roleOurs || !databaseOurs) {
    throw new GatewayError(
      "BAD_USER_INPUT",
      `Database ${planned.database} or its login on server "${planned.server}" belongs to another gateway deployment or tenant; refusing to take it over or drop it.`,
      { field: "id" },
    );
  }
}

/**
 * Removes a tenant's data from a location: its rows from the shared tables,
 * its schema, or its database and login. Idempotent; a location already gone
 * is not an error.
 */
export async function dropLocation(
  database: Database,
  tenantId: string,
  planned: PlannedLocation,
): Promise<void> {
  switch (planned.isolation) {
    case Isolation.SHARED:
      await database.admin.atLocation(planned, async (session) => {
        await session.exec("BEGIN");
        try {
          // Children first, though the foreign keys would cascade anyway.
          for (const table of [...TENANT_TABLES].reverse()) {
            await deleteRows(session, "public", table, tenantId);
          }
          await session.exec("COMMIT");
        } catch (error) {
          await session.exec("ROLLBACK").catch(() => {});
          throw error;
        }
      });
      return;
    case Isolation.SCHEMA:
      await database.locations.retire(planned);
      await database.admin.atLocation({ isolation: Isolation.SHARED }, (session) =>
        session.exec(`DROP SCHEMA IF EXISTS ${quoteIdentifier(planned.schema)} CASCADE`),
      );
      return;
    case Isolation.DATABASE: {
      await database.locations.retire(planned);
      const login = quoteIdentifier(loginRoleFor(tenantId));
      const mark = ownershipMark(database.deploymentId, tenantId);
      await database.admin.atServer(planned.server, async (session) => {
        checkOwnership(
          await ownersOn(session, planned.database, loginRoleFor(tenantId)),
          mark,
          planned,
        );
        // FORCE ends other gateway processes' connections to it as well.
        await session.exec(
          `DROP DATABASE IF EXISTS ${quoteIdentifier(planned.database)} WITH (FORCE)`,
        );
        await session.exec(`DROP ROLE IF EXISTS ${login}`);
      });
      return;
    }
    default: {
      const unknown: never = planned;
      throw new Error(`unhandled location ${JSON.stringify(unknown)}`);
    }
  }
}
