import { lstat, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { StorageLayout } from "./storage-layout.js";
import { incomingDirectory } from "./tenant-files.js";

/**
 * How old a file in a tenant's incoming directory must be before it counts
 * as left behind: longer than any upload or placement can take (24 h).
 */
export const INCOMING_MAX_AGE_MS = 24 * 60 * 60 * 1_000;

/**
 * Removes what a process that died mid-upload left in tenants' incoming
 * directories: partial bodies and files set aside during a replace. They
 * take disk but no quota, since only committed files are recorded.
 * Answers how many files were removed.
 */
export async function sweepIncoming(
  layout: StorageLayout,
  tenants: readonly { id: string; storageBucket: string }[],
  now = Date.now(),
  maxAgeMs = INCOMING_MAX_AGE_MS,
): Promise<number> {
  let removed = 0;
  for (const tenant of tenants) {
    const incoming = incomingDirectory(layout.tenantDirectory(tenant.storageBucket, tenant.id));
    const names = await readdir(incoming).catch(() => [] as string[]);
    for (const name of names) {
      const file = join(incoming, name);
      const stat = await lstat(file).catch(() => null);
      // Only plain files: a link or folder here was not made by an upload.
      if (!stat?.isFile() || now - stat.mtimeMs < maxAgeMs) continue;
      await unlink(file).then(
        () => (removed += 1),
        () => undefined,
      );
    }
  }

  return removed;
}
