import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { erasedMarkerPath, rotatedLogPath, tenantLogPath } from "./tenant-log-path.js";

/**
 * Erasing a tenant's log when several processes write it.
 *
 * Each gateway process holds a tenant's lines in memory for a moment before
 * it appends them (tenant-log-files.ts). Removing the files alone would let
 * another process append what it still held, and the erased lines would
 * come back in a new file. So an erasure first records its time in a marker
 * next to the files, `<tenantId>.erased`, and only then removes them; every
 * writer reads the marker after it has the file open and before it appends,
 * and drops the lines whose `time` is at or before it.
 *
 * The order closes the race: a writer that read no marker (or an older one)
 * opened its file before the marker was written, so before the files were
 * removed, and what it appends goes into the removed file and is gone with
 * it. A writer that opens the file after the removal reads the marker.
 * Times are compared across processes, so those sharing the directory need
 * clocks that agree (they do on one machine).
 *
 * The marker stays: a tenant whose id is used again later writes lines
 * newer than it. Its content is the time in milliseconds since the epoch.
 */

/** When the tenant's log was last erased (ms since the epoch); null when never, or unreadable as a time. */
export async function readErasure(directory: string, tenantId: string): Promise<number | null> {
  const text = await readFile(erasedMarkerPath(directory, tenantId), "utf8").catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return null;
      throw error;
    },
  );
  if (text === null) return null;
  const at = Number(text.trim());

  return Number.isSafeInteger(at) && at >= 0 ? at : null;
}

/**
 * Erases the tenant's log: records the erasure's time in its marker, then
 * removes its file and the rotated one. Answers the bytes removed and the
 * time recorded, which never goes back (an earlier marker with a later time,
 * from a process whose clock is ahead, is kept).
 */
export async function eraseLogFiles(
  directory: string,
  tenantId: string,
): Promise<{ bytes: number; erasedAt: number }> {
  const erasedAt = await markErased(resolve(directory), tenantId);
  const bytes = await removeLogFiles(
    tenantLogPath(directory, tenantId),
    rotatedLogPath(directory, tenantId),
  );

  return { bytes, erasedAt };
}

/** Writes the marker whole (a new file renamed into place), making the directory if need be. */
async function markErased(directory: string, tenantId: string): Promise<number> {
  const path = erasedMarkerPath(directory, tenantId);
  const erasedAt = Math.max(Date.now(), (await readErasure(directory, tenantId)) ?? 0);
  const written = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await writeFile(written, `${erasedAt}\n`, { flag: "wx", mode: 0o600 });
  try {
    await rename(written, path);
  } catch (error) {
    await unlink(written).catch(() => undefined);
    throw error;
  }

  return erasedAt;
}

/**
 * Removes tenant log files, in the order given (the current file before
 * the rotated one, so that a rotation meanwhile cannot leave one behind);
 * answers the bytes they held (0 for a file there was not).
 */
async function removeLogFiles(...paths: string[]): Promise<number> {
  let bytes = 0;
  for (const path of paths) {
    bytes += (await stat(path).catch(() => null))?.size ?? 0;
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
  }

  return bytes;
}

/**
 * The time a line was logged: pino's `time` (ms since the epoch), which
 * every line of the gateway's loggers starts with; `fallback` for a line
 * without one.
 */
export function timeOfLine(line: string, fallback: number): number {
  const found = LINE_TIME.exec(line);

  return found ? Number(found[1]) : fallback;
}

/** pino's `time` field near the start of a line, where pino writes it. */
const LINE_TIME = /^.{0,80}?"time":(\d{1,16})[,}]/;
