import type { Prisma, PrismaClient, StoredFile } from "../generated/prisma/client.js";
import { STORAGE_AREAS, type StorageArea } from "./storage-layout.js";

/**
 * The record of every stored file (`StoredFile`, a control-plane table):
 * what usage and quotas count. Control tables have no row security, so
 * every statement here names its tenant itself.
 */
type Reader = Pick<Prisma.TransactionClient, "storedFile">;

/** A stored file as the ledger holds it, bytes as a number. */
export interface FileRecord {
  readonly tenantId: string;
  readonly area: StorageArea;
  readonly path: string;
  readonly bytes: number;
  readonly contentType: string;
  readonly sha256: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Bytes and files of one area. */
export interface AreaUsage {
  readonly area: StorageArea;
  readonly bytes: number;
  readonly files: number;
}

/**
 * Prisma sends `startsWith` to PostgreSQL as `LIKE 'value%'` without
 * escaping the value, so `_` (allowed in paths) would match any character.
 * Escaped with LIKE's default escape character; the listing tests prove it.
 */
function likePrefix(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}

function toRecord(row: StoredFile): FileRecord {
  return { ...row, area: row.area as StorageArea, bytes: Number(row.bytes) };
}

/**
 * Runs `work` in a control-plane transaction holding the tenant's storage
 * lock, so quota checks and the writes they allow never interleave, in
 * this process or any other on the same database. On the embedded PGlite,
 * with one connection, `work` must use `tx` only: `control` would wait for
 * the transaction that is waiting for it.
 */
export async function withStorageLock<T>(
  control: PrismaClient,
  tenantId: string,
  work: (tx: Prisma.TransactionClient) => Promise<T>,
): Promise<T> {
  return control.$transaction(async (tx) => {
    // Class 7271 is storage's (moves hold 7270); released at commit or rollback.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(7271, hashtext(${tenantId}))`;

    return work(tx);
  });
}

/** Bytes the tenant's files take in all. */
export async function bytesInUse(db: Reader, tenantId: string): Promise<number> {
  const { _sum } = await db.storedFile.aggregate({ where: { tenantId }, _sum: { bytes: true } });

  return Number(_sum.bytes ?? 0n);
}

export async function findFile(
  db: Reader,
  tenantId: string,
  area: StorageArea,
  path: string,
): Promise<FileRecord | null> {
  const row = await db.storedFile.findUnique({
    where: { tenantId_area_path: { tenantId, area, path } },
  });

  return row ? toRecord(row) : null;
}

/**
 * Records that lie in the way of a file at `path`: one whose path is a
 * folder of it (`a` for `a/b`), or one inside it as a folder (`a/b/c`).
 */
export async function findCollision(
  db: Reader,
  tenantId: string,
  area: StorageArea,
  segments: readonly string[],
): Promise<string | null> {
  const folders = segments.slice(0, -1).map((_, n) => segments.slice(0, n + 1).join("/"));
  const row = await db.storedFile.findFirst({
    where: {
      tenantId,
      area,
      OR: [
        { path: { in: folders } },
        { path: { startsWith: likePrefix(`${segments.join("/")}/`) } },
      ],
    },
    select: { path: true },
  });

  return row?.path ?? null;
}

/** One page of an area's files in path order, after `afterPath`. */
export async function listFiles(
  db: Reader,
  tenantId: string,
  area: StorageArea,
  page: { take: number; afterPath?: string; prefix?: string },
): Promise<FileRecord[]> {
  const rows = await db.storedFile.findMany({
    where: {
      tenantId,
      area,
      path: {
        ...(page.afterPath === undefined ? {} : { gt: page.afterPath }),
        ...(page.prefix ? { startsWith: likePrefix(page.prefix) } : {}),
      },
    },
    orderBy: { path: "asc" },
    take: page.take,
  });

  return rows.map(toRecord);
}

/** Bytes and files per area, every area listed, in the contract's order. */
export async function usageByArea(db: Reader, tenantId: string): Promise<AreaUsage[]> {
  const groups = await db.storedFile.groupBy({
    by: ["area"],
    where: { tenantId },
    _sum: { bytes: true },
    _count: { _all: true },
  });
  const found = new Map(groups.map((group) => [group.area, group]));

  return STORAGE_AREAS.map((area) => {
    const group = found.get(area);
    return { area, bytes: Number(group?._sum.bytes ?? 0n), files: group?._count._all ?? 0 };
  });
}

/** Creates or replaces the record of a file. */
export async function recordFile(
  tx: Reader,
  file: Omit<FileRecord, "createdAt" | "updatedAt">,
): Promise<void> {
  const { tenantId, area, path } = file;
  const data = { bytes: BigInt(file.bytes), contentType: file.contentType, sha256: file.sha256 };
  await tx.storedFile.upsert({
    where: { tenantId_area_path: { tenantId, area, path } },
    create: { tenantId, area, path, ...data },
    update: data,
  });
}

/** Removes the record of a file; true when there was one. */
export async function forgetFile(
  tx: Reader,
  tenantId: string,
  area: StorageArea,
  path: string,
): Promise<boolean> {
  const { count } = await tx.storedFile.deleteMany({ where: { tenantId, area, path } });

  return count > 0;
}
