import { recordPlatformAudit } from "../audit/index.js";
import type { SqlSession } from "../data/migrator.js";
import { locationOf } from "../data/placement/placement-directory.js";
import {
  digestTable,
  readRows,
  deleteRows,
  writeRows,
  type TableDigest,
} from "../data/placement/table-copy.js";
import {
  describeLocation,
  parsePlanned,
  quoteIdentifier,
  schemaOf,
  SHARED_LOCATION,
  type TenantLocation,
  planLocation,
  type PlannedLocation,
} from "../data/placement/tenant-location.js";
import { TENANT_TABLES } from "../data/placement/tenant-tables.js";
import { badInput, GatewayError } from "../errors/index.js";
import { Isolation, TenantStatus } from "../generated/prisma/enums.js";
import { isTenantId } from "../tenancy/index.js";
import { withLifecycleLock, withLifecycleLockIfFree } from "./lifecycle-lock.js";
import type { LifecycleServices } from "./lifecycle-services.js";
import {
  createLocation,
  dropLocation,
  migrateLocation,
  type PlacementColumns,
} from "./locations.js";
import { choosePlacement } from "./server-choice.js";

export interface MoveRequest {
  isolation: Isolation;
  /** DATABASE targets: the region whose server takes the tenant (default: the tenant's). */
  region?: string | null;
  /** DATABASE targets: a server by id, instead of choosing by region. */
  server?: string | null;
}

export interface MoveReport {
  tenantId: string;
  from: string;
  to: string;
  /** Per table, as verified equal at both ends before the switch. */
  tables: TableDigest[];
  durationMs: number;
}

export interface MoveHooks {
  /** Runs after the copy is verified, while writes are held (tests use it). */
  beforeSwitch?: () => Promise<void>;
}

/** The key space writers share-lock in the fence function (see the tenant_placement migration). */
const MOVE_LOCK_SQL = "SELECT pg_advisory_lock(7270, hashtext($1))";
const MOVE_UNLOCK_SQL = "SELECT pg_advisory_unlock(7270, hashtext($1))";

/**
 * Moves a tenant to another tier or server without losing a row:
 *
 * 1. the target location is created and migrated, and the source brought
 *    to the same migration;
 * 2. the tenant's move lock is taken at the source: writes in flight finish,
 *    new ones wait (up to TENANT_WRITE_WAIT_MS, then RATE_LIMITED); reads go on;
 * 3. every table is copied in one transaction at the target, and per-table
 *    row counts and checksums are compared at both ends; any difference
 *    rolls the copy back and leaves the tenant where it was;
 * 4. the source is fenced and the registry switched, so every gateway
 *    process, however stale its view, follows the tenant to the target;
 * 5. the lock is released (waiting writes retry at the target), the cache
 *    cleared, and only then is the old copy removed.
 */
export async function moveTenant(
  services: LifecycleServices,
  tenantId: string,
  request: MoveRequest,
  actorId: string,
  hooks: MoveHooks = {},
): Promise<MoveReport> {
  if (!isTenantId(tenantId)) throw badInput("id", "id is not a tenant id.");
  const { database } = services;

  return withLifecycleLock(database, tenantId, async () => {
    const started = Date.now();
    await settleInterruptedMove(services, tenantId, actorId);
    const tenant = await database.control.tenant.findUnique({ where: { id: tenantId } });
    if (!tenant) throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${tenantId}".`);
    if (tenant.status === TenantStatus.PROVISIONING) {
      throw badInput("id", `Tenant "${tenantId}" is still being provisioned; finish that first.`);
    }

    const source = await locationOf(tenant, database.keyring);
    const { region, server } = await choosePlacement(services, request.isolation, {
      region: request.region,
      server: request.server,
      tier: tenant.tier,
      fallbackRegion: tenant.region,
    });
    const planned = planLocation(tenantId, request.isolation, server);
    if (describeLocation(planned) === describeLocation(source)) {
      throw badInput("isolation", `Tenant "${tenantId}" already lives there.`);
    }

    await database.control.tenant.update({
      where: { id: tenantId },
      data: { movingTo: describeLocation(planned) },
    });
    // This process holds its writes at once; others learn within seconds,
    // and until then the database's move lock holds theirs.
    database.placement.invalidate(tenantId);
    try {
      const report = await copyAndSwitch(services, tenantId, source, planned, region, hooks);
      await recordPlatformAudit(database.control, {
        actorId,
        action: "tenant.move",
        tenantId,
        detail: { from: report.from, to: report.to, tables: report.tables },
      });
      services.logger
        .child({ tenantId })
        .info({ from: report.from, to: report.to }, "tenant moved");

      return { ...report, durationMs: Date.now() - started };
    } catch (error) {
      await database.control.tenant.update({ where: { id: tenantId }, data: { movingTo: null } });
      database.placement.invalidate(tenantId);
      throw error;
    }
  });
}

async function copyAndSwitch(
  services: LifecycleServices,
  tenantId: string,
  source: TenantLocation,
  planned: PlannedLocation,
  region: string,
  hooks: MoveHooks,
): Promise<Omit<MoveReport, "durationMs">> {
  const { database } = services;

  // 1. Both ends at the latest migration, so rows fit column for column.
  await migrateLocation(database, source, services.migrationsDir);
  const target = await createLocation(database, tenantId, planned, services.migrationsDir);

  let switched = false;
  try {
    const tables = await database.admin.atLocation(source, async (from) => {
      // 2. Hold writers off at the source for the copy and the switch.
      await from.query(MOVE_LOCK_SQL, [tenantId]);
      try {
        const digests = await database.admin.atLocation(target.location, (to) =>
          copyVerified(from, source, to, target.location, tenantId),
        );
        await hooks.beforeSwitch?.();

        // 4. Fence the source first: from here no process reads or writes it.
        await fence(from, source, tenantId, describeLocation(target.location));
        try {
          await database.admin.atLocation(SHARED_LOCATION, (control) =>
            switchRegistry(control, tenantId, target.columns, region),
          );
        } catch (error) {
          await unfence(from, source, tenantId);
          throw error;
        }
        switched = true;
        database.placement.invalidate(tenantId);

        return digests;
      } finally {
        await from.query(MOVE_UNLOCK_SQL, [tenantId]).catch(() => undefined);
      }
    });

    // 5. The switch is done: nothing below may turn the move into a failure.
    // Cached entries hold the same rows wherever they live; clearing them is
    // hygiene, and a store that does not answer only delays it to their TTL.
    await services.cache
      .clearTenant(tenantId)
      .catch((err: unknown) =>
        services.logger
          .child({ tenantId })
          .warn({ err }, "moved tenant's cache entries were not cleared"),
      );
    const sourcePlan = planLocation(
      tenantId,
      source.isolation,
      source.isolation === Isolation.DATABASE ? source.server : null,
    );
    // The old copy is fenced; one that cannot go now goes with the next sweep.
    await dropLocation(database, tenantId, sourcePlan).catch((err: unknown) =>
      services.logger
        .child({ tenantId })
        .warn({ err }, "old copy of a moved tenant left for the sweep"),
    );

    return {
      tenantId,
      from: describeLocation(source),
      to: describeLocation(target.location),
      tables,
    };
  } catch (error) {
    // Nothing switched: the half-made target goes, the tenant stays put.
    if (!switched && planned.isolation !== Isolation.SHARED) {
      await dropLocation(database, tenantId, planned).catch((err: unknown) =>
        services.logger
          .child({ tenantId })
          .warn({ err }, "could not remove a failed move's target"),
      );
    }
    throw error;
  }
}

/**
 * 3. Copies every table in one target transaction and compares per-table
 * row counts and checksums at both ends before committing.
 */
async function copyVerified(
  from: SqlSession,
  source: TenantLocation,
  to: SqlSession,
  target: TenantLocation,
  tenantId: string,
): Promise<TableDigest[]> {
  const sourceSchema = schemaOf(source);
  const targetSchema = schemaOf(target);
  await to.exec("BEGIN");
  try {
    // Leftovers of an earlier stay here, or of a failed move, go first.
    for (const table of [...TENANT_TABLES].reverse()) {
      await deleteRows(to, targetSchema, table, tenantId);
    }
    await to.query(
      `DELETE FROM ${quoteIdentifier(targetSchema)}."TenantFence" WHERE "tenantId" = $1`,
      [tenantId],
    );

    await from.exec("BEGIN");
    const digests: TableDigest[] = [];
    try {
      for (const table of TENANT_TABLES) {
        for await (const rows of readRows(from, sourceSchema, table, tenantId)) {
          await writeRows(to, targetSchema, table, rows);
        }
        const expected = await digestTable(from, sourceSchema, table, tenantId);
        const arrived = await digestTable(to, targetSchema, table, tenantId);
        if (expected.rows !== arrived.rows || expected.checksum !== arrived.checksum) {
          throw new Error(
            `Move of ${tenantId} stopped: table ${table.name} has ${arrived.rows} rows ` +
              `(checksum ${arrived.checksum}) at the target but ${expected.rows} ` +
              `(checksum ${expected.checksum}) at the source. Nothing was switched.`,
          );
        }
        digests.push(expected);
      }
    } finally {
      await from.exec("COMMIT").catch(() => undefined);
    }
    await to.exec("COMMIT");

    return digests;
  } catch (error) {
    await to.exec("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/**
 * Finishes or undoes a move whose process died: run it holding the tenant's
 * lifecycle lock, which the dead process's session no longer holds, so a
 * `movingTo` still set means nobody is moving the tenant now.
 *
 * - Source fenced: the copy was verified and committed, then the process
 *   died before the registry switch, and every request now fails at the
 *   fence. The move is run again to the same target (the source still holds
 *   every row), which switches the registry and removes the old copy.
 * - Source not fenced: the tenant still lives at the source, whole. The
 *   half-made target is removed and `movingTo` cleared.
 */
export async function settleInterruptedMove(
  services: LifecycleServices,
  tenantId: string,
  actorId: string,
): Promise<"none" | "completed" | "undone"> {
  const { database } = services;
  const tenant = await database.control.tenant.findUnique({ where: { id: tenantId } });
  if (!tenant?.movingTo) return "none";

  const source = await locationOf(tenant, database.keyring);
  const planned = parsePlanned(tenantId, tenant.movingTo);
  const fenced = await database.admin.atLocation(source, (session) =>
    session.query(
      `SELECT 1 FROM ${quoteIdentifier(schemaOf(source))}."TenantFence" WHERE "tenantId" = $1`,
      [tenantId],
    ),
  );
  let outcome: "completed" | "undone";
  // A completed move's tables go on the record, as a move's own row has them.
  let tables: TableDigest[] | undefined;
  if (fenced.length > 0) {
    const region =
      planned.isolation === Isolation.DATABASE
        ? (database.servers.find((s) => s.id === planned.server)?.region ?? tenant.region)
        : services.region;
    ({ tables } = await copyAndSwitch(services, tenantId, source, planned, region, {}));
    outcome = "completed";
  } else {
    await dropLocation(database, tenantId, planned);
    await database.control.tenant.update({ where: { id: tenantId }, data: { movingTo: null } });
    outcome = "undone";
  }
  database.placement.invalidate(tenantId);
  await recordPlatformAudit(database.control, {
    actorId,
    action: `tenant.move.${outcome}`,
    tenantId,
    detail: { from: describeLocation(source), to: tenant.movingTo, ...(tables ? { tables } : {}) },
  });
  services.logger
    .child({ tenantId })
    .warn({ outcome, to: tenant.movingTo }, "settled an interrupted move");

  return outcome;
}

/**
 * Settles every move left interrupted (see {@link settleInterruptedMove}),
 * one tenant at a time; the gateway's upkeep runs it. A tenant whose lock is
 * held (a move running here or in another process) is skipped, not waited for.
 */
export async function settleInterruptedMoves(services: LifecycleServices): Promise<void> {
  const { database } = services;
  const stuck = await database.control.tenant.findMany({
    where: { movingTo: { not: null } },
    select: { id: true },
  });
  for (const { id } of stuck) {
    await withLifecycleLockIfFree(database, id, () =>
      settleInterruptedMove(services, id, "system:recovery"),
    ).catch((err: unknown) =>
      services.logger
        .child({ tenantId: id })
        .error({ err }, "could not settle an interrupted move"),
    );
  }
}

/**
 * Points the registry at the new location, in SQL on an admin session: on
 * the embedded database that session joins the move's own transaction (a
 * Prisma call would wait for PGlite's one connection forever), and there the
 * fence and the switch then commit together.
 */
async function switchRegistry(
  control: SqlSession,
  tenantId: string,
  columns: PlacementColumns,
  region: string,
): Promise<void> {
  const updated = await control.query(
    `UPDATE "public"."Tenant"
        SET "isolation" = $2::text::"public"."Isolation", "schemaName" = $3, "databaseServer" = $4,
            "databaseName" = $5, "databaseSecret" = $6, "schemaVersion" = $7, "region" = $8,
            "movingTo" = NULL, "updatedAt" = CURRENT_TIMESTAMP
      WHERE "id" = $1
  RETURNING "id"`,
    [
      tenantId,
      columns.isolation,
      columns.schemaName,
      columns.databaseServer,
      columns.databaseName,
      columns.databaseSecret,
      columns.schemaVersion,
      region,
    ],
  );
  if (updated.length !== 1) throw new Error(`tenant ${tenantId} vanished during its move`);
}

async function fence(
  session: SqlSession,
  location: TenantLocation,
  tenantId: string,
  movedTo: string,
): Promise<void> {
  await session.query(
    `INSERT INTO ${quoteIdentifier(schemaOf(location))}."TenantFence" ("tenantId", "movedTo")
     VALUES ($1, $2)
     ON CONFLICT ("tenantId") DO UPDATE SET "movedTo" = EXCLUDED."movedTo", "movedAt" = CURRENT_TIMESTAMP`,
    [tenantId, movedTo],
  );
}

async function unfence(session: SqlSession, location: TenantLocation, tenantId: string) {
  await session.query(
    `DELETE FROM ${quoteIdentifier(schemaOf(location))}."TenantFence" WHERE "tenantId" = $1`,
    [tenantId],
  );
}
