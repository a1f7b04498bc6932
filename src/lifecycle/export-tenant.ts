import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, rm } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { recordPlatformAudit } from "../audit/index.js";
import type { Database } from "../data/index.js";
import type { SqlSession } from "../data/migrator.js";
import { createRowDigest, readRows, type TableDigest } from "../data/placement/table-copy.js";
import { quoteIdentifier, schemaOf } from "../data/placement/tenant-location.js";
import { TENANT_TABLES, type TenantTable } from "../data/placement/tenant-tables.js";
import { badInput, GatewayError } from "../errors/index.js";
import { TenantStatus } from "../generated/prisma/enums.js";
import { isTenantId } from "../tenancy/index.js";
import { createFileHash } from "./archive-reader.js";
import { writeArchive, type ArchiveSource } from "./archive-writer.js";
import { withLifecycleLock } from "./lifecycle-lock.js";
import type { LifecycleServices } from "./lifecycle-services.js";
import {
  ARCHIVE_FORMAT,
  ARCHIVE_FORMAT_VERSION,
  CONFIG_FILE,
  describeLimit,
  documentBytes,
  MANIFEST_FILE,
  MAX_ARCHIVE_BYTES,
  MAX_ROW_BYTES,
  tableFile,
  TENANT_FILE,
  type ArchiveConfig,
  type ArchiveFile,
  type ArchiveManifest,
  type ArchiveTable,
  type ArchiveTenant,
} from "./tenant-archive.js";

/** Options of {@link exportTenant}. */
export interface ExportOptions {
  /** Where to write the archive (default: a new file in `services.exportDir`). */
  target?: string;
}

/** What an export wrote. */
export interface TenantExport {
  readonly tenantId: string;
  /** Absolute path of the archive. */
  readonly path: string;
  /** Its name relative to the export directory, or `path` when written elsewhere. */
  readonly file: string;
  readonly bytes: number;
  /** SHA-256 of the archive file itself. */
  readonly sha256: string;
  readonly exportedAt: string;
  readonly schemaVersion: string;
  readonly tables: readonly TableDigest[];
}

/** A table spooled to disk, with everything the manifest says of it. */
interface SpooledTable {
  readonly path: string;
  readonly entry: ArchiveTable;
}

/**
 * Writes a tenant's archive (see tenant-archive.ts). Every table is read in
 * one REPEATABLE READ transaction, so the archive is one consistent moment
 * of the tenant even while it serves requests; the registry fields and
 * config are read from the control plane just before. Runs under the
 * tenant's lifecycle lock, so no move or removal runs meanwhile. Tables are
 * spooled to disk first: a tar header needs each file's size. A tenant with
 * a row or files past the bounds an import enforces (see tenant-archive.ts)
 * is refused with BAD_USER_INPUT rather than written as an archive no
 * gateway would import.
 */
export async function exportTenant(
  services: LifecycleServices,
  tenantId: string,
  actorId: string,
  options: ExportOptions = {},
): Promise<TenantExport> {
  if (!isTenantId(tenantId)) throw badInput("id", "id is not a tenant id.");
  const { database } = services;

  return withLifecycleLock(database, tenantId, async () => {
    const row = await database.control.tenant.findUnique({
      where: { id: tenantId },
      include: { config: true },
    });
    if (!row) throw new GatewayError("TENANT_NOT_FOUND", `There is no tenant "${tenantId}".`);
    if (row.status === TenantStatus.PROVISIONING) {
      throw badInput("id", `Tenant "${tenantId}" is still being provisioned; finish that first.`);
    }
    if (row.movingTo) {
      throw badInput("id", `Tenant "${tenantId}" is being moved; export it when the move ends.`);
    }

    const exportedAt = new Date();
    const exportDir = resolve(services.exportDir);
    const target = resolve(options.target ?? join(exportDir, defaultName(tenantId, exportedAt)));
    await mkdir(exportDir, { recursive: true });
    await mkdir(dirname(target), { recursive: true });
    const spool = await mkdtemp(join(exportDir, `.spool-${tenantId}-`));

    try {
      // 1. The rows, one snapshot of every table.
      const location = await database.placement.refresh(tenantId);
      const { schemaVersion, tables } = await database.admin.atLocation(location, (session) =>
        spoolTables(database, session, schemaOf(location), tenantId, spool),
      );

      // 2. The documents, then the manifest that vouches for every file.
      const tenant: ArchiveTenant = {
        id: row.id,
        name: row.name,
        region: row.region,
        tier: row.tier,
        releaseChannel: row.releaseChannel,
        status: row.status,
      };
      const config: ArchiveConfig = {
        settings: asObject(row.config?.settings),
        branding: asObject(row.config?.branding),
        limits: asObject(row.config?.limits),
        billing: asObject(row.config?.billing),
      };
      const documents = [
        { name: TENANT_FILE, bytes: documentBytes(tenant) },
        { name: CONFIG_FILE, bytes: documentBytes(config) },
      ];
      const manifest: ArchiveManifest = {
        format: ARCHIVE_FORMAT,
        formatVersion: ARCHIVE_FORMAT_VERSION,
        tenantId,
        exportedAt: exportedAt.toISOString(),
        schemaVersion,
        isolation: row.isolation,
        documents: documents.map((d) => describeFile(d.name, d.bytes)),
        tables: tables.map((t) => t.entry),
      };
      const files = [...manifest.documents, ...manifest.tables];
      if (files.reduce((n, f) => n + f.bytes, 0) > MAX_ARCHIVE_BYTES) {
        throw tooLarge(tenantId);
      }

      // 3. The archive, manifest first.
      const sources: ArchiveSource[] = [
        { name: MANIFEST_FILE, bytes: documentBytes(manifest) },
        ...documents,
        ...tables.map((t) => ({ name: t.entry.file, path: t.path, size: t.entry.bytes })),
      ];
      const written = await writeArchive(target, sources, exportedAt);
      const digests = tables.map(({ entry }) => ({
        table: entry.name,
        rows: entry.rows,
        checksum: entry.checksum,
      }));
      const inside = relative(exportDir, target);
      const file = inside.startsWith("..") ? target : inside;
      await recordPlatformAudit(database.control, {
        actorId,
        action: "tenant.export",
        tenantId,
        detail: { file, ...written, schemaVersion, rows: rowCounts(digests) },
      });

      return {
        tenantId,
        path: target,
        file,
        ...written,
        exportedAt: manifest.exportedAt,
        schemaVersion,
        tables: digests,
      };
    } finally {
      await rm(spool, { recursive: true, force: true });
    }
  });
}

/** `acme-20260105T101112345Z-3f9a.tar.gz`: sortable by time, never reused. */
function defaultName(tenantId: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:.]/g, "");

  return `${tenantId}-${stamp}-${randomBytes(2).toString("hex")}.tar.gz`;
}

function tooLarge(tenantId: string): GatewayError {
  const limit = describeLimit(MAX_ARCHIVE_BYTES);

  return badInput(
    "id",
    `Tenant "${tenantId}" holds more than ${limit} of data, the limit for an archive; it cannot be exported.`,
  );
}

function describeFile(file: string, bytes: Buffer): ArchiveFile {
  const hash = createFileHash();
  hash.update(bytes);

  return { file, ...hash.digest() };
}

function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function rowCounts(digests: readonly TableDigest[]): Record<string, number> {
  return Object.fromEntries(digests.map((d) => [d.table, d.rows]));
}

/**
 * Reads every table in one snapshot. PGlite runs each admin unit of work in
 * one transaction of its single connection, which holds requests off and
 * is a snapshot already; its sessions turn a plain BEGIN into a savepoint,
 * where an isolation level cannot be set.
 */
async function spoolTables(
  database: Database,
  session: SqlSession,
  schema: string,
  tenantId: string,
  spool: string,
): Promise<{ schemaVersion: string; tables: SpooledTable[] }> {
  await session.exec(
    database.kind === "postgres" ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN",
  );
  try {
    const [version] = await session.query<{ name: string | null }>(
      `SELECT max(migration_name COLLATE "C") AS name FROM ${quoteIdentifier(schema)}."_prisma_migrations"
        WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    if (!version?.name) throw new Error(`schema ${schema} has no migration history`);
    const tables: SpooledTable[] = [];
    let room = MAX_ARCHIVE_BYTES;
    for (const table of TENANT_TABLES) {
      const spooled = await spoolTable(session, schema, table, tenantId, spool, room);
      tables.push(spooled);
      room -= spooled.entry.bytes;
    }
    await session.exec("COMMIT");

    return { schemaVersion: version.name, tables };
  } catch (error) {
    await session.exec("ROLLBACK").catch(() => {});
    throw error;
  }
}

/**
 * Writes one table's rows to a file, one row text a line, hashing as it
 * goes; refuses a row past {@link MAX_ROW_BYTES} and a file past `room`.
 */
async function spoolTable(
  session: SqlSession,
  schema: string,
  table: TenantTable,
  tenantId: string,
  spool: string,
  room: number,
): Promise<SpooledTable> {
  const path = join(spool, `${table.name}.jsonl`);
  const hash = createFileHash();
  const digest = createRowDigest(table.name);
  let written = 0;
  const handle = await open(path, "wx", 0o600);
  try {
    for await (const rows of readRows(session, schema, table, tenantId)) {
      for (const row of rows) {
        // row_to_json escapes newlines in text; only a json column could keep one.
        if (row.includes("\n")) throw new Error(`a ${table.name} row spans lines`);
        const size = Buffer.byteLength(row, "utf8");
        if (size > MAX_ROW_BYTES) {
          throw badInput(
            "id",
            `Tenant "${tenantId}" has a ${table.name} row of ${size} bytes, past the limit of ${describeLimit(MAX_ROW_BYTES)} for one row; it cannot be exported.`,
          );
        }
        digest.add(row);
      }
      const bytes = Buffer.from(`${rows.join("\n")}\n`, "utf8");
      written += bytes.length;
      if (written > room) throw tooLarge(tenantId);
      hash.update(bytes);
      await handle.write(bytes);
    }
  } finally {
    await handle.close();
  }
  const { rows, checksum } = digest.digest();

  return {
    path,
    entry: { name: table.name, file: tableFile(table.name), ...hash.digest(), rows, checksum },
  };
}
