import { recordPlatformAudit } from "../audit/index.js";
import { listMigrations, type SqlSession } from "../data/migrator.js";
import {
  deleteRows,
  digestTable,
  writeRows,
  type TableDigest,
} from "../data/placement/table-copy.js";
import {
  describeLocation,
  plannedColumns,
  quoteIdentifier,
  schemaOf,
  planLocation,
} from "../data/placement/tenant-location.js";
import { TENANT_TABLES } from "../data/placement/tenant-tables.js";
import { badInput, GatewayError } from "../errors/index.js";
import { Isolation, TenantStatus } from "../generated/prisma/enums.js";
import { configColumns, readConfig } from "../tenant-config/stored-config.js";
import { createFileHash, forEachEntry, lineBatches } from "./archive-reader.js";
import { withLifecycleLock } from "./lifecycle-lock.js";
import { checkIsolation, LABEL_PATTERN } from "./request-checks.js";
import type { LifecycleServices } from "./lifecycle-services.js";
import { createRecordedLocation } from "./locations.js";
import { choosePlacement } from "./server-choice.js";
import { archiveError, tableFile, type ArchiveManifest } from "./tenant-archive.js";
import { verifyArchive, type VerifiedArchive } from "./verify-archive.js";

/** What to import, and where to. */
export interface ImportRequest {
  /** The archive; callers decide where it may come from (see resolveArchivePath). */
  readonly path: string;
  /** How messages name the archive (default: the path). */
  readonly name?: string;
  /** The tier to import into (default SHARED). */
  readonly isolation?: Isolation | null;
  /** DATABASE only: the region whose server takes the tenant (default: the archive's). SHARED and SCHEMA tenants live in the control plane's region. */
  readonly region?: string | null;
}

/** What an import made. */
export interface ImportOutcome {
  readonly tenantId: string;
  /** Where the tenant lives now, e.g. `schema:tenant_acme`. */
  readonly location: string;
  readonly status: TenantStatus;
  /** Per table, as the receiving database computed it: equal to the manifest. */
  readonly tables: readonly TableDigest[];
}

const ROWS_PER_BATCH = 1_000;

/** The platform audit action that marks a tenant row as made by an import. */
export const IMPORT_STARTED = "tenant.import.started";

/**
 * Creates a tenant from an archive (see tenant-archive.ts) in the tier and
 * region asked for:
 *
 * 1. the whole archive is read and checked against its manifest, and its
 *    migration against this gateway's, before anything is written;
 * 2. the tenant is recorded PROVISIONING (requests see it as not found)
 *    with its config and the location it is to have, which is then made;
 * 3. the rows are written parents first in one transaction there, and per
 *    table the receiving database's own row count and checksum must equal
 *    the manifest's before it commits;
 * 4. storage is made, and the tenant goes live: SUSPENDED when it was
 *    exported suspended, else ACTIVE.
 *
 * A tenant id this gateway knows is refused, whatever its state. A failure
 * after step 2 leaves the tenant PROVISIONING, to be removed with
 * `deprovisionTenant` before importing again.
 */
export async function importTenant(
  services: LifecycleServices,
  request: ImportRequest,
  actorId: string,
): Promise<ImportOutcome> {
  const shown = JSON.stringify(request.name ?? request.path);
  const isolation = checkIsolation(request.isolation ?? Isolation.SHARED);
  const region = request.region?.trim() || null;
  if (region !== null && !LABEL_PATTERN.test(region)) {
    throw badInput("region", 'region must be a short lowercase label like "eu".');
  }

  const archive = await verifyArchive(request.path, shown);
  await checkSchemaVersion(services, archive.manifest, shown);

  return withLifecycleLock(services.database, archive.tenant.id, () =>
    importLocked(services, request.path, shown, archive, { isolation, region, actorId }),
  );
}

/**
 * Rows fit a location column for column only at the migration they were
 * read at. Known shortcoming: an archive from an older migration is refused
 * too, since nothing here brings its rows forward; until something does, a
 * tenant crosses gateways only between gateways at the same migration.
 */
async function checkSchemaVersion(
  services: LifecycleServices,
  manifest: ArchiveManifest,
  shown: string,
): Promise<void> {
  const migrations = await listMigrations(services.migrationsDir);
  const latest = migrations.at(-1)?.name ?? "";
  const version = manifest.schemaVersion;
  if (version === latest) return;

  throw badInput(
    "file",
    version > latest
      ? `The archive ${shown} was exported at migration ${version}, newer than this gateway's latest (${latest}); upgrade this gateway first.`
      : `The archive ${shown} was exported at migration ${version}, but this gateway is at ${latest}: upgrade the tenant at its source (npm run migrate -- --tenant ${manifest.tenantId}) and export it again.`,
  );
}

interface Placement {
  isolation: Isolation;
  /** The region asked for, if any; see choosePlacement for the default. */
  region: string | null;
  actorId: string;
}

async function importLocked(
  services: LifecycleServices,
  path: string,
  shown: string,
  archive: VerifiedArchive,
  placement: Placement,
): Promise<ImportOutcome> {
  const { database, storage } = services;
  const { tenant, config } = archive;
  const control = database.control;

  const existing = await control.tenant.findUnique({
    where: { id: tenant.id },
    select: { status: true },
  });
  if (existing) {
    throw badInput(
      "file",
      `Tenant "${tenant.id}" already exists on this gateway (${existing.status}); remove it before importing it again.`,
    );
  }
  // A DATABASE tenant goes back to the archive's region unless told otherwise;
  // SHARED and SCHEMA tenants live in this control plane's region.
  const { region, server } = await choosePlacement(services, placement.isolation, {
    region: placement.region,
    tier: tenant.tier,
    fallbackRegion: tenant.region,
  });
  const planned = planLocation(tenant.id, placement.isolation, server);
  const storageBucket = storage.bucketFor(tenant.id, placement.isolation);

  // 1. Record the tenant, not yet live, with its config and planned location.
  // What an older archive holds that today's schemas refuse is left out.
  const documents = configColumns(readConfig(config));
  await control.tenant.create({
    data: {
      id: tenant.id,
      name: tenant.name,
      ...plannedColumns(planned),
      region,
      tier: tenant.tier,
      releaseChannel: tenant.releaseChannel,
      status: TenantStatus.PROVISIONING,
      storageBucket,
      config: { create: documents },
      configVersions: {
        create: { version: 1, ...documents, actorId: placement.actorId, action: "import" },
      },
    },
  });
  // Names the tenant as an import's: provisionTenant will not finish it.
  await recordPlatformAudit(control, {
    actorId: placement.actorId,
    action: IMPORT_STARTED,
    tenantId: tenant.id,
    detail: { file: shown },
  });

  try {
    // 2. The location, migrated.
    const ready = await createRecordedLocation(services, tenant.id, planned);

    // 3. The rows, proven equal to the manifest before they commit.
    const tables = await database.admin.atLocation(ready.location, (session) =>
      writeTables(session, schemaOf(ready.location), path, shown, archive),
    );

    // 4. Storage, then live.
    await storage.ensureTenant(storageBucket, tenant.id);
    await services.cache.clearTenant(tenant.id);
    const status =
      tenant.status === TenantStatus.SUSPENDED ? TenantStatus.SUSPENDED : TenantStatus.ACTIVE;
    await control.tenant.update({ where: { id: tenant.id }, data: { status } });
    database.placement.invalidate(tenant.id);
    const location = describeLocation(ready.location);
    await recordPlatformAudit(control, {
      actorId: placement.actorId,
      action: "tenant.import",
      tenantId: tenant.id,
      detail: {
        file: shown,
        location,
        region,
        exportedAt: archive.manifest.exportedAt,
        rows: Object.fromEntries(tables.map((t) => [t.table, t.rows])),
      },
    });

    return { tenantId: tenant.id, location, status, tables };
  } catch (error) {
    services.logger
      .child({ tenantId: tenant.id })
      .warn(
        { err: error },
        "import stopped part-way; the tenant stays PROVISIONING until it is deprovisioned",
      );
    if (!(error instanceof GatewayError)) throw error;
    throw new GatewayError(
      error.code,
      `${error.message} Tenant "${tenant.id}" is left PROVISIONING: remove it with deprovisionTenant before importing again.`,
      { field: error.extensions.field },
    );
  }
}

/**
 * Writes every table in one transaction and compares what the database then
 * holds with the manifest, table by table, before committing. Leftovers of
 * an earlier life of the id here, and a fence that would hide the tenant,
 * go first: the registry does not know the id, so nothing of it is live.
 */
async function writeTables(
  session: SqlSession,
  schema: string,
  path: string,
  shown: string,
  archive: VerifiedArchive,
): Promise<TableDigest[]> {
  const tenantId = archive.tenant.id;
  const expected = new Map(archive.manifest.tables.map((t) => [t.file, t]));

  await session.exec("BEGIN");
  try {
    for (const table of [...TENANT_TABLES].reverse()) {
      await deleteRows(session, schema, table, tenantId);
    }
    await session.query(
      `DELETE FROM ${quoteIdentifier(schema)}."TenantFence" WHERE "tenantId" = $1`,
      [tenantId],
    );

    // The archive again, in its order (parents first), checked as it goes.
    await forEachEntry(path, shown, async (entry) => {
      const table = TENANT_TABLES.find((t) => tableFile(t.name) === entry.name);
      const manifested = expected.get(entry.name);
      if (!table || !manifested) return;
      const hash = createFileHash();
      for await (const rows of lineBatches(entry, hash, ROWS_PER_BATCH)) {
        await writeRows(session, schema, table, rows);
      }
      const found = hash.digest();
      if (found.sha256 !== manifested.sha256 || found.bytes !== manifested.bytes) {
        throw archiveError(entry.name, "changed while it was being imported.");
      }
    });

    const digests: TableDigest[] = [];
    for (const table of TENANT_TABLES) {
      const stored = await digestTable(session, schema, table, tenantId);
      const manifested = expected.get(tableFile(table.name));
      if (stored.rows !== manifested?.rows || stored.checksum !== manifested.checksum) {
        throw archiveError(
          tableFile(table.name),
          `reads back from the database as ${stored.rows} rows (checksum ${stored.checksum}), not as the manifest's ${manifested?.rows} (${manifested?.checksum}): its rows were not written by an export at this migration. Nothing was committed.`,
        );
      }
      digests.push(stored);
    }
    await session.exec("COMMIT");

    return digests;
  } catch (error) {
    await session.exec("ROLLBACK").catch(() => {});
    throw error;
  }
}
