import type { Database } from "../data/index.js";
import { locationOf, type PlacementRow } from "../data/placement/placement-directory.js";
import { describeLocation, SHARED_LOCATION } from "../data/placement/tenant-location.js";
import { GatewayError } from "../errors/index.js";
import { Isolation, TenantStatus } from "../generated/prisma/enums.js";
import { migrateLocation, versionOf } from "./locations.js";

/**
 * Upgrades: brings the control plane, then every tenant's tables, to the
 * latest migration. Gateway start-up migrates only the control plane, so a
 * slow or broken tenant never holds a start back; this is the other half,
 * run on its own (`npm run migrate`). Tenants therefore run at different
 * versions for a while, and every migration must keep the previous code
 * working (expand first, contract in a later release).
 */

/** Locations migrated at once unless told otherwise. */
export const DEFAULT_UPGRADE_CONCURRENCY = 4;

export interface UpgradeOptions {
  /** Upgrade only this tenant; the control plane still goes first. */
  tenantId?: string;
  /** Upgrade only the tenants of this release channel; the control plane still goes first. */
  channel?: string;
  /** Locations migrated at once (default {@link DEFAULT_UPGRADE_CONCURRENCY}). */
  concurrency?: number;
  /** Migrations to apply (default: the repository's prisma/migrations). */
  migrationsDir?: string;
  /** Receives each tenant's outcome as it finishes, for progress; must not throw. */
  onReport?: (upgrade: TenantUpgrade) => void;
}

/** What happened to one tenant. */
export interface TenantUpgrade {
  tenantId: string;
  isolation: Isolation;
  /** Where its tables live, as {@link describeLocation} names it (no credentials). */
  location: string;
  /** Migrations this run applied there, in order. */
  applied: string[];
  /** The latest migration there now; after a failure, the one recorded before. */
  version: string | null;
  ok: boolean;
  /** Why it failed (set when `ok` is false). */
  error?: string;
}

/** A selected tenant that had nothing to migrate yet. */
export interface SkippedTenant {
  tenantId: string;
  reason: string;
}

export interface UpgradeReport {
  controlPlane: { applied: string[]; version: string | null };
  /** The selected tenants, by id. */
  tenants: TenantUpgrade[];
  skipped: SkippedTenant[];
  /** How many of `tenants` failed. */
  failed: number;
  durationMs: number;
}

type TenantRow = PlacementRow & { status: TenantStatus; schemaVersion: string | null };

const TENANT_COLUMNS = {
  id: true,
  status: true,
  isolation: true,
  schemaName: true,
  databaseServer: true,
  databaseName: true,
  databaseSecret: true,
  schemaVersion: true,
} as const;

const NOT_CREATED_YET =
  "still being provisioned, and its location does not exist yet; provisioning migrates it";

/**
 * Migrates the control plane, then the location of each selected tenant,
 * `concurrency` at a time. A tenant that fails is reported and the rest go
 * on; its migration was rolled back and its recorded version is unchanged,
 * so running again retries just what is left. Throws, touching no tenant,
 * when the control plane cannot be migrated, and when `tenantId` names no
 * tenant.
 *
 * No lifecycle lock is taken (its in-process queue would run one tenant at
 * a time). A move or removal racing the upgrade is safe: the migrator locks
 * each database, and the new version is recorded only while the registry
 * still names the location that was migrated; otherwise the tenant is
 * reported as failed, and the next run upgrades wherever it went.
 */
export async function upgradeTenants(
  database: Database,
  options: UpgradeOptions = {},
): Promise<UpgradeReport> {
  const concurrency = options.concurrency ?? DEFAULT_UPGRADE_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a whole number from 1 up, got ${concurrency}.`);
  }
  if (options.tenantId !== undefined && options.channel !== undefined) {
    throw new TypeError("Name a tenant or a release channel to upgrade, not both.");
  }
  const started = Date.now();

  // 1. The control plane first: the registry read below and SHARED tenants' tables live there.
  const control = await migrateLocation(database, SHARED_LOCATION, options.migrationsDir);
  const controlVersion = versionOf(control);
  await recordSharedVersion(database, controlVersion);

  // 2. The selected tenants, less those whose location provisioning has yet to make.
  const rows = await selectTenants(database, options);
  const ready = rows.filter((row) => hasLocation(row));
  const skipped = rows
    .filter((row) => !hasLocation(row))
    .map((row) => ({ tenantId: row.id, reason: NOT_CREATED_YET }));

  // 3. Each location, one worker per database at a time.
  const tenants: TenantUpgrade[] = [];
  await drainLanes(lanesOf(ready), concurrency, async (row) => {
    const upgrade = await upgradeTenant(database, row, controlVersion, options.migrationsDir);
    tenants.push(upgrade);
    options.onReport?.(upgrade);
  });
  tenants.sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));

  return {
    controlPlane: { applied: control.applied, version: controlVersion },
    tenants,
    skipped,
    failed: tenants.filter((t) => !t.ok).length,
    durationMs: Date.now() - started,
  };
}

/**
 * Every SHARED tenant's tables are the control plane's, so its recorded
 * version follows the control plane whatever the filter: a run for one
 * tenant cannot hold the shared tables back. Never lowered (see {@link later}).
 */
async function recordSharedVersion(database: Database, version: string | null): Promise<void> {
  if (version === null) return;

  await database.control.tenant.updateMany({
    where: {
      isolation: Isolation.SHARED,
      // Names start with a 14-digit timestamp, so text order is time order.
      OR: [{ schemaVersion: null }, { schemaVersion: { lt: version } }],
    },
    data: { schemaVersion: version },
  });
}

async function selectTenants(database: Database, options: UpgradeOptions): Promise<TenantRow[]> {
  const rows = await database.control.tenant.findMany({
    where: {
      ...(options.tenantId === undefined ? {} : { id: options.tenantId }),
      ...(options.channel === undefined ? {} : { releaseChannel: options.channel }),
    },
    select: TENANT_COLUMNS,
    orderBy: { id: "asc" },
  });
  if (options.tenantId !== undefined && rows.length === 0) {
    throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${options.tenantId}".`);
  }

  return rows;
}

/**
 * Provisioning records a tenant, PROVISIONING, before making its schema or
 * database, and sets its version once that location is made and migrated.
 * Until then there is nothing to upgrade, and creating the location here
 * would race the provisioning retry that owns it; that retry migrates it to
 * the latest anyway. The shared tables always exist.
 */
function hasLocation(row: TenantRow): boolean {
  return (
    row.isolation === Isolation.SHARED ||
    row.status !== TenantStatus.PROVISIONING ||
    row.schemaVersion !== null
  );
}

async function upgradeTenant(
  database: Database,
  row: TenantRow,
  controlVersion: string | null,
  migrationsDir: string | undefined,
): Promise<TenantUpgrade> {
  const outcome = { tenantId: row.id, isolation: row.isolation, location: describeRow(row) };
  // Migrated and recorded with the control plane already.
  if (row.isolation === Isolation.SHARED) {
    return { ...outcome, applied: [], version: later(controlVersion, row.schemaVersion), ok: true };
  }

  let applied: string[] = [];
  try {
    const location = await locationOf(row, database.keyring);
    const result = await migrateLocation(database, location, migrationsDir);
    applied = result.applied;
    const version = later(versionOf(result), row.schemaVersion);
    await recordVersion(database, row, version);

    return { ...outcome, applied, version, ok: true };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...outcome, applied, version: row.schemaVersion, ok: false, error: message };
  } finally {
    database.placement.invalidate(row.id);
  }
}

/** Records `version` only while the registry still names the location that was migrated. */
async function recordVersion(
  database: Database,
  row: TenantRow,
  version: string | null,
): Promise<void> {
  if (version === row.schemaVersion) return;

  const { count } = await database.control.tenant.updateMany({
    where: {
      id: row.id,
      isolation: row.isolation,
      schemaName: row.schemaName,
      databaseServer: row.databaseServer,
      databaseName: row.databaseName,
    },
    data: { schemaVersion: version },
  });
  if (count === 0) {
    throw new Error(
      `Tenant ${row.id} was moved or removed during the upgrade; run the upgrade again.`,
    );
  }
}

/**
 * The later of two versions. A location may be ahead of the migrations this
 * code knows (older code run after a newer release migrated it); the
 * migrator leaves such migrations alone and {@link versionOf} does not see
 * them, so the recorded version is kept rather than lowered.
 */
function later(a: string | null, b: string | null): string | null {
  if (a === null || b === null) return a ?? b;

  return a > b ? a : b;
}

/** The row's location, named without opening its sealed connection string. */
function describeRow(row: TenantRow): string {
  switch (row.isolation) {
    case Isolation.SHARED:
      return describeLocation(SHARED_LOCATION);
    case Isolation.SCHEMA:
      return describeLocation({ isolation: row.isolation, schema: row.schemaName ?? "?" });
    case Isolation.DATABASE:
      return describeLocation({
        isolation: row.isolation,
        server: row.databaseServer ?? "?",
        database: row.databaseName ?? "?",
      });
    default: {
      const unknown: never = row.isolation;
      throw new Error(`unhandled isolation ${String(unknown)}`);
    }
  }
}

/**
 * Tenants grouped by the database their tables are in, longest group first.
 * The migrator holds a lock per database, so SCHEMA tenants (all in the
 * control database) migrate one after another however many workers there
 * are. One worker takes them all while the others take tenant databases,
 * instead of every worker queuing on that one lock.
 */
function lanesOf(rows: TenantRow[]): TenantRow[][] {
  const lanes = new Map<string, TenantRow[]>();
  for (const row of rows) {
    const key =
      row.isolation === Isolation.DATABASE
        ? `${row.databaseServer ?? ""}/${row.databaseName ?? ""}`
        : "control";
    const lane = lanes.get(key);
    if (lane) lane.push(row);
    else lanes.set(key, [row]);
  }

  return [...lanes.values()].sort((a, b) => b.length - a.length);
}

/** Runs `work` on every item, lane by lane, with at most `workers` lanes at once. */
async function drainLanes<T>(
  lanes: T[][],
  workers: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let lane = lanes[next++]; lane; lane = lanes[next++]) {
      for (const item of lane) await work(item);
    }
  };

  await Promise.all(Array.from({ length: Math.min(workers, lanes.length) }, worker));
}
