import { rm, type FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { Logger } from "../logging/index.js";
import type { TenantLimits } from "../tenant-config/plans.js";
import {
  bytesInUse,
  findCollision,
  findFile,
  recordFile,
  withStorageLock,
  type FileRecord,
} from "./file-ledger.js";
import { placeFile, type Placement } from "./file-placement.js";
import { checkQuota } from "./quota.js";
import { receiveBody } from "./receive-body.js";
import { StoragePathConflictError } from "./storage-errors.js";
import type { StorageArea, StorageLayout } from "./storage-layout.js";
import type { StoragePath } from "./storage-path.js";
import { incomingFile, locateFile, openForReading } from "./tenant-files.js";
import type { Reservation, UploadsInFlight } from "./uploads-in-flight.js";

/** What a transfer needs of the storage service. */
export interface TransferDependencies {
  readonly layout: StorageLayout;
  readonly control: PrismaClient;
  readonly logger: Logger;
  /** Uploads this process is receiving, counted against quotas before their bodies. */
  readonly uploads: UploadsInFlight;
}

/** One file of one tenant, as a checked link names it. */
export interface FileTarget {
  readonly tenantId: string;
  readonly bucket: string;
  readonly area: StorageArea;
  readonly path: StoragePath;
}

/** An upload as its signed link allows it. */
export interface UploadTarget extends FileTarget {
  readonly size: number;
  readonly contentType: string;
  readonly limits: TenantLimits;
}

export interface StoredUpload {
  readonly file: Omit<FileRecord, "createdAt" | "updatedAt">;
  /** True when a file of the same path was replaced. */
  readonly replaced: boolean;
}

/**
 * Stores an upload that admitUpload let in:
 *
 * 1. the body streams into a new file in the tenant's incoming directory,
 *    counted and hashed, and must have exactly the signed size;
 * 2. under the tenant's storage lock the quota is checked again (another
 *    upload may have taken the room since the link was made), the file is
 *    renamed into place and recorded, and its bytes stop counting as in
 *    flight;
 * 3. the lock's transaction commits, or the rename is undone.
 *
 * Whatever fails, no received file, record or usage is left behind. The
 * caller releases `reservation` once this ends, whichever way.
 */
export async function storeUpload(
  deps: TransferDependencies,
  target: UploadTarget,
  body: Readable,
  reservation: Reservation,
): Promise<StoredUpload> {
  const { tenantId, area, path } = target;
  const location = locateFile(deps.layout, target.bucket, tenantId, area, path);
  const received = await incomingFile(location.tenantDirectory, "part");
  // Set inside the lock's callback; read after it (a holder keeps TS's
  // narrowing from deciding it is still unset).
  const pending: { placement?: Placement } = {};
  let committed = false;

  try {
    // 1. The body, before any lock: a slow client holds nothing.
    const { sha256 } = await receiveBody(body, received, target.size);
    const file = { tenantId, area, path: path.text, bytes: target.size, sha256 };

    // 2. Checked and placed under the lock.
    const replaced = await withStorageLock(deps.control, tenantId, async (tx) => {
      const existing = await findFile(tx, tenantId, area, path.text);
      const inUse = await bytesInUse(tx, tenantId);
      checkQuota(target.limits, { inUse, replacing: existing?.bytes ?? 0, adding: target.size });
      const collision = await findCollision(tx, tenantId, area, path.segments);
      if (collision) throw new StoragePathConflictError(`${collision} is in the way`);

      const placement = await placeFile(received, location);
      try {
        await recordFile(tx, { ...file, contentType: target.contentType });
      } catch (error) {
        // Undone while the lock is held, so no other upload's file is touched.
        await placement.undo();
        throw error;
      }
      // The record counts these bytes from the commit on. Released while
      // the lock is held, no admission sees them twice or not at all.
      reservation.release();
      pending.placement = placement;
      return existing !== null;
    });
    committed = true;
    await pending.placement?.settle();

    return { file: { ...file, contentType: target.contentType }, replaced };
  } catch (error) {
    // 3. The commit itself failed after the rename: put the old state back.
    if (!committed && pending.placement) {
      deps.logger
        .child({ tenantId })
        .warn({ err: error, area }, "upload not committed; undoing its rename");
      await pending.placement.undo();
    }
    throw error;
  } finally {
    // Gone already when it was placed; else the partial file goes here.
    await rm(received, { force: true });
  }
}

/** An open download: the handle is the caller's to close. */
export interface OpenDownload {
  readonly handle: FileHandle;
  readonly file: FileRecord;
}

/**
 * Opens the file a download link names, or null when there is no such
 * file, or no longer the one (`size` bytes of SHA-256 `sha256`) the link
 * was made for. The bytes sent are checked against the hash on the way
 * (checkContent).
 */
export async function openDownload(
  deps: TransferDependencies,
  target: FileTarget,
  linked: { readonly size: number; readonly sha256: string },
): Promise<OpenDownload | null> {
  const { tenantId, area, path } = target;
  const { size, sha256 } = linked;
  const file = await findFile(deps.control, tenantId, area, path.text);
  if (!file || file.bytes !== size || file.sha256 !== sha256) return null;

  const location = locateFile(deps.layout, target.bucket, tenantId, area, path);
  const handle = await openForReading(location);
  if (!handle) {
    deps.logger.child({ tenantId }).warn({ area }, "a recorded file is missing on disk");
    return null;
  }
  // Replaced between the record's read and the open: not the linked file.
  const { size: onDisk } = await handle.stat();
  if (onDisk !== size) {
    await handle.close();
    return null;
  }

  return { handle, file };
}
