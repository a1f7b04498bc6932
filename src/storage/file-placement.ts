import { link, rename, rm, rmdir } from "node:fs/promises";
import { incomingFile, inspectFile, makeFolders, type FileLocation } from "./tenant-files.js";

/**
 * A change on disk that its ledger transaction has not committed yet: undo
 * it when the transaction fails, settle it (drop what was kept for the
 * undo) when it commits.
 */
export interface Placement {
  undo(): Promise<void>;
  settle(): Promise<void>;
}

async function removeIfThere(path: string | null): Promise<void> {
  if (path) await rm(path, { force: true });
}

/**
 * Renames the received file into place, atomically replacing a file that
 * was there; readers see the old file or the new one, never neither. The
 * old file keeps a second name until the placement settles.
 */
export async function placeFile(received: string, location: FileLocation): Promise<Placement> {
  await makeFolders(location);
  let previous: string | null = null;
  if ((await inspectFile(location)) === "file") {
    previous = await incomingFile(location.tenantDirectory, "previous");
    await link(location.file, previous);
  }
  try {
    await rename(received, location.file);
  } catch (error) {
    await removeIfThere(previous);
    throw error;
  }

  return {
    undo: () => (previous ? rename(previous, location.file) : rm(location.file, { force: true })),
    settle: () => removeIfThere(previous),
  };
}

/**
 * Removes the folders above a file that are empty now, innermost first,
 * stopping at the first that is not: a folder left behind would keep its
 * name from ever being used for a file. Runs under the tenant's storage
 * lock, like every placement, so no upload is filling a folder meanwhile.
 */
async function removeEmptyFolders(location: FileLocation): Promise<void> {
  for (const folder of [...location.folders].reverse()) {
    const removed = await rmdir(folder).then(
      () => true,
      () => false,
    );
    if (!removed) return;
  }
}

/**
 * Moves a file out of place (to the incoming directory) until the placement
 * settles, and removes the folders it leaves empty; an undo makes them again.
 */
export async function takeFile(location: FileLocation): Promise<Placement> {
  if ((await inspectFile(location)) === "absent") {
    return { undo: async () => undefined, settle: async () => undefined };
  }
  const aside = await incomingFile(location.tenantDirectory, "removed");
  await rename(location.file, aside);
  await removeEmptyFolders(location);

  return {
    undo: async () => {
      await makeFolders(location);
      await rename(aside, location.file);
    },
    settle: () => removeIfThere(aside),
  };
}
