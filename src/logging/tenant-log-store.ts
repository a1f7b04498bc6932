import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, rename, rm, type FileHandle } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pino } from "pino";
import { linesFromEnd } from "./lines-from-end.js";
import { eraseLogFiles } from "./tenant-log-erasure.js";
import type { TenantLogFiles } from "./tenant-log-files.js";
import { rotatedLogPath, tenantLogPath } from "./tenant-log-path.js";

/** One line of a tenant's log, as the admin views show it. */
export interface TenantLogLine {
  readonly time: Date;
  /** pino's label: `trace`, `debug`, `info`, `warn`, `error` or `fatal`. */
  readonly level: string;
  readonly message: string;
  readonly requestId: string | null;
  /** The whole line, every field as written. */
  readonly line: Record<string, unknown>;
}

/** A copy of a tenant's log (its rotated file, then its current one) in the export directory. */
export interface TenantLogExport {
  /** Its name in the export directory. */
  readonly file: string;
  readonly path: string;
  readonly bytes: number;
  readonly lines: number;
  /** SHA-256 of the copy, lower-case hex. */
  readonly sha256: string;
}

export interface TenantLogStoreOptions {
  /** Where the files are (`TENANT_LOG_DIR`). */
  readonly directory: string;
  /**
   * This process's writer, when it writes tenant files: queued lines are
   * flushed before a read or an export, and an erasure drops them too.
   */
  readonly files?: TenantLogFiles | null;
}

/**
 * Level names a reader may filter by, with pino's numbers, least severe
 * first. A Map: a name such as `constructor` or `toString` is no level.
 */
export const LOG_LEVELS: ReadonlyMap<string, number> = new Map(
  Object.entries(pino.levels.values).sort(([, a], [, b]) => a - b),
);

/** Reads no further back than this for one answer: a filter that matches little stays cheap. */
const MAX_SCANNED_BYTES = 64 * 1024 * 1024;

/**
 * Reading, handing over and erasing one tenant's log: its file and the
 * older file a rotation left (`<tenantId>.log.1`, see tenant-log-files.ts),
 * read as one log. Tenant ids are checked by the caller; the path is
 * checked again (tenant-log-path.ts).
 */
export class TenantLogStore {
  readonly directory: string;
  readonly #files: TenantLogFiles | null;

  constructor(options: TenantLogStoreOptions) {
    this.directory = resolve(options.directory);
    this.#files = options.files ?? null;
  }

  /** Writes the lines this process still holds in memory (a no-op without a writer). */
  async flush(): Promise<void> {
    await this.#files?.flush();
  }

  /**
   * The newest `first` lines of the tenant, newest first, at `minLevel` or
   * above when given. Lines that are not JSON (a write cut short) are
   * skipped. Looks at the newest 64 MiB of the log at most, into the
   * rotated file when the current one holds less.
   */
  async read(
    tenantId: string,
    options: { first: number; minLevel?: number },
  ): Promise<TenantLogLine[]> {
    await this.flush();
    const files = await this.#open(tenantId);

    const found: TenantLogLine[] = [];
    try {
      let budget = MAX_SCANNED_BYTES;
      for (const file of files) {
        if (options.first <= 0 || found.length >= options.first || budget <= 0) break;
        for await (const text of linesFromEnd(file.handle, { maxBytes: budget })) {
          const line = parseLine(text);
          if (!line || (options.minLevel !== undefined && line.levelNumber < options.minLevel)) {
            continue;
          }
          found.push(line.view);
          if (found.length >= options.first) break;
        }
        budget -= (await file.handle.stat()).size;
      }
    } finally {
      await closeAll(files);
    }

    return found;
  }

  /**
   * Copies the tenant's log, as it is at this moment, into `exportDir`
   * under a new name: the rotated file, then the current one, so the
   * lines stay oldest first (an empty file when the tenant has no lines).
   * Lines appended meanwhile are not in the copy; every line in it is whole.
   */
  async export(tenantId: string, exportDir: string): Promise<TenantLogExport> {
    await this.flush();
    const files = await this.#open(tenantId);

    try {
      return await this.#copy(tenantId, files.reverse(), exportDir);
    } finally {
      await closeAll(files);
    }
  }

  async #copy(
    tenantId: string,
    files: readonly LogFile[],
    exportDir: string,
  ): Promise<TenantLogExport> {
    const directory = resolve(exportDir);
    await mkdir(directory, { recursive: true });
    const file = exportName(tenantId, new Date());
    const path = join(directory, file);
    const partial = `${path}.partial`;
    // Only the bytes there now: every whole-line write ends before them or after.
    const parts = await Promise.all(
      files.map(async ({ handle }) => ({ handle, size: (await handle.stat()).size })),
    );
    const size = parts.reduce((sum, part) => sum + part.size, 0);
    const digest = createHash("sha256");
    let lines = 0;

    try {
      const count = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          digest.update(chunk);
          for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a, at + 1)) lines += 1;
          done(null, chunk);
        },
      });
      const target = createWriteStream(partial, { flags: "wx", mode: 0o600 });
      await pipeline(bytesOf(parts), count, target);
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }

    return { file, path, bytes: size, lines, sha256: digest.digest("hex") };
  }

  /**
   * Removes the tenant's file and its rotated one (and this process's
   * queued lines); answers the bytes removed. The erasure's time is
   * recorded next to them (`<tenantId>.erased`), so no gateway process
   * sharing the directory writes a line of the tenant logged before it,
   * even one that writes while this one does not. Other tenants' files are
   * not touched.
   */
  async erase(tenantId: string): Promise<number> {
    if (this.#files) return this.#files.erase(tenantId);

    return (await eraseLogFiles(this.directory, tenantId)).bytes;
  }

  /**
   * The tenant's files there are, newest first, open: a rotation meanwhile
   * moves names, not open files. The current file is opened first; when a
   * rotation came between the two opens, both hold the same file, kept once.
   */
  async #open(tenantId: string): Promise<LogFile[]> {
    const current = await openIfThere(tenantLogPath(this.directory, tenantId));
    const rotated = await openIfThere(rotatedLogPath(this.directory, tenantId));
    if (current && rotated) {
      const [newer, older] = await Promise.all([
        current.stat({ bigint: true }),
        rotated.stat({ bigint: true }),
      ]);
      if (newer.ino === older.ino && newer.dev === older.dev) {
        await rotated.close();

        return [{ handle: current }];
      }
    }

    return [current, rotated].filter((handle) => handle !== null).map((handle) => ({ handle }));
  }
}

/** One open file of a tenant's log. */
interface LogFile {
  readonly handle: FileHandle;
}

async function openIfThere(path: string): Promise<FileHandle | null> {
  return open(path, "r").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
}

async function closeAll(files: readonly LogFile[]): Promise<void> {
  await Promise.all(files.map(({ handle }) => handle.close().catch(() => undefined)));
}

/** The first `size` bytes of each file, one after the other. */
async function* bytesOf(
  parts: readonly { handle: FileHandle; size: number }[],
): AsyncGenerator<Buffer> {
  for (const { handle, size } of parts) {
    if (size === 0) continue;
    yield* handle.createReadStream({ start: 0, end: size - 1, autoClose: false });
  }
}

/** `logs-<tenant>-<UTC time>-<random>.jsonl`: sorts by time, never reuses a name. */
function exportName(tenantId: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:.]/g, "");

  return `logs-${tenantId}-${stamp}-${randomBytes(3).toString("hex")}.jsonl`;
}

function parseLine(text: string): { view: TenantLogLine; levelNumber: number } | null {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof line !== "object" || line === null || Array.isArray(line)) return null;

  const fields = line as Record<string, unknown>;
  const levelNumber = typeof fields.level === "number" ? fields.level : 0;
  const time = new Date(typeof fields.time === "number" ? fields.time : Number.NaN);

  return {
    levelNumber,
    view: {
      time: Number.isNaN(time.getTime()) ? new Date(0) : time,
      level: pino.levels.labels[levelNumber] ?? String(levelNumber),
      message: typeof fields.msg === "string" ? fields.msg : "",
      requestId: typeof fields.requestId === "string" ? fields.requestId : null,
      line: fields,
    },
  };
}
