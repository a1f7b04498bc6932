import { mkdir, open, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { resolve } from "node:path";
import { outsideLogContext } from "./log-context.js";
import { eraseLogFiles, readErasure, timeOfLine } from "./tenant-log-erasure.js";
import { rotatedLogPath, tenantLogPath } from "./tenant-log-path.js";
import type { TenantLineSink } from "./tenant-line-router.js";

export interface TenantLogFilesOptions {
  /** Directory of the files, `<tenantId>.log` each; made on the first write. */
  readonly directory: string;
  /** Most files held open at once; the least recently written is closed first (default 64). */
  readonly maxOpenFiles?: number;
  /** How long a line may wait in memory before it is written (ms, default 250). */
  readonly flushIntervalMs?: number;
  /**
   * Most bytes waiting across tenants (default 8 MiB). When they are
   * reached, the tenant holding the most gives way: its newest lines are
   * dropped for the newcomer's, unless the newcomer would then hold as
   * much, whose line is dropped instead.
   */
  readonly maxBufferedBytes?: number;
  /** Most bytes one tenant may have waiting; its lines past it are dropped (default 1 MiB). */
  readonly maxBufferedBytesPerTenant?: number;
  /**
   * Size a tenant's file may reach (`TENANT_LOG_MAX_BYTES`, default
   * 256 MiB). A write that would take it past is preceded by a rotation:
   * the file becomes `<tenantId>.log.1`, replacing the older one, and a new
   * file starts.
   */
  readonly maxFileBytes?: number;
  /**
   * Told when a file cannot be written or lines were dropped. Called outside
   * any request's log context, so a line it writes does not name a request.
   */
  readonly onProblem?: (problem: TenantLogProblem) => void;
}

/** Something the files could not do; the lines concerned are lost. */
export type TenantLogProblem =
  | { readonly kind: "write-failed"; readonly tenantId: string; readonly error: unknown }
  | { readonly kind: "lines-dropped"; readonly tenantId: string; readonly lines: number };

/** Pending bytes past which a flush starts at once instead of at the interval. */
const FLUSH_AT_BYTES = 256 * 1024;

/** Largest single write: whole lines up to this size each. */
const MAX_WRITE_BYTES = 1024 * 1024;

/** Defaults of the bounds (see the options). */
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_BUFFERED_BYTES_PER_TENANT = 1024 * 1024;
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

/** A rotation lock older than this was left by a process that died while rotating. */
const STALE_LOCK_MS = 30_000;

/** One tenant's lines waiting in memory. */
interface Queue {
  readonly lines: string[];
  /** When each line was logged (its `time`), to compare with an erasure. */
  readonly times: number[];
  bytes: number;
}

/**
 * Every tenant's log lines, appended to a file of its own.
 *
 * A line is only queued in memory on the request path; a timer writes the
 * queue, each tenant's lines in whole-line writes to a file opened with
 * O_APPEND, so several gateway processes can share the directory and their
 * lines never split one another. Handles stay open between writes, at most
 * `maxOpenFiles` of them. Before each write the handle is checked against
 * the file at the tenant's path: when another process has erased or
 * rotated it, the file there now is opened. Lines logged before the
 * tenant's log was last erased, by any process, are not written (see
 * tenant-log-erasure.ts). Writes, erasures and the final flush run one at
 * a time.
 *
 * Memory and disk are bounded per tenant, so one tenant's flood costs only
 * that tenant lines: each tenant's queue has a bound of its own, a full
 * queue overall takes room from the largest tenant queue, and each file
 * rotates once at `maxFileBytes` (a tenant holds at most about twice that).
 */
export class TenantLogFiles implements TenantLineSink {
  readonly directory: string;
  readonly #maxOpenFiles: number;
  readonly #flushIntervalMs: number;
  readonly #maxBufferedBytes: number;
  readonly #maxBufferedBytesPerTenant: number;
  readonly #maxFileBytes: number;
  readonly #onProblem: (problem: TenantLogProblem) => void;

  #pending = new Map<string, Queue>();
  #pendingBytes = 0;
  /** Lines dropped since the last flush, by tenant. */
  #dropped = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  /** Open handles by tenant, least recently written first. */
  readonly #handles = new Map<string, FileHandle>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /**
   * The erasure time this process last recorded, by tenant. While it is the
   * latest, every line queued here came after it (the erasure dropped the
   * queue), even one logged within the same millisecond.
   */
  readonly #erasedHere = new Map<string, number>();

  constructor(options: TenantLogFilesOptions) {
    this.directory = resolve(options.directory);
    this.#maxOpenFiles = Math.max(1, options.maxOpenFiles ?? 64);
    this.#flushIntervalMs = options.flushIntervalMs ?? 250;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#maxBufferedBytesPerTenant = Math.min(
      this.#maxBufferedBytes,
      options.maxBufferedBytesPerTenant ?? DEFAULT_MAX_BUFFERED_BYTES_PER_TENANT,
    );
    this.#maxFileBytes = Math.max(1, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
    this.#onProblem = options.onProblem ?? (() => undefined);
  }

  /** Queues one line of `tenantId`; never blocks. Lines after `close()` are ignored. */
  append(tenantId: string, line: string): void {
    if (this.#closed) return;
    const held = this.#pending.get(tenantId)?.bytes ?? 0;
    if (
      held + line.length > this.#maxBufferedBytesPerTenant ||
      !this.#makeRoom(tenantId, held, line.length)
    ) {
      this.#countDropped(tenantId, 1);
      return;
    }

    const time = timeOfLine(line, Date.now());
    const queue = this.#pending.get(tenantId);
    if (queue) {
      queue.lines.push(line);
      queue.times.push(time);
      queue.bytes += line.length;
    } else {
      this.#pending.set(tenantId, { lines: [line], times: [time], bytes: line.length });
    }
    this.#pendingBytes += line.length;
    this.#schedule(this.#pendingBytes >= FLUSH_AT_BYTES ? 0 : this.#flushIntervalMs);
  }

  /** Writes every queued line; resolves when they are in their files. */
  flush(): Promise<void> {
    return this.#serially(() => this.#writePending());
  }

  /**
   * Removes the tenant's file and its rotated one, and the lines of it
   * still queued here; answers the bytes the files held. The erasure's
   * time is recorded next to the files first, so that no process sharing
   * the directory writes a line of the tenant logged before it. Lines
   * logged afterwards start a new file. Other tenants' files are not touched.
   */
  erase(tenantId: string): Promise<number> {
    // A malformed id throws here, before anything is dropped.
    tenantLogPath(this.directory, tenantId);

    return this.#serially(async () => {
      this.#pendingBytes -= this.#pending.get(tenantId)?.bytes ?? 0;
      this.#pending.delete(tenantId);
      this.#dropped.delete(tenantId);
      await this.#closeHandle(tenantId);

      const { bytes, erasedAt } = await eraseLogFiles(this.directory, tenantId);
      this.#erasedHere.set(tenantId, erasedAt);

      return bytes;
    });
  }

  /** Writes what is queued, closes every file; later lines are ignored. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.flush();
    await this.#serially(async () => {
      for (const tenantId of [...this.#handles.keys()]) await this.#closeHandle(tenantId);
    });
  }

  /**
   * Room for `bytes` more of `tenantId`, which holds `held`, within the
   * overall bound: taken from the newest lines of whichever tenant holds
   * the most, as long as that one would still hold more than `tenantId`.
   * False when there is none to take: the newcomer's line is dropped.
   */
  #makeRoom(tenantId: string, held: number, bytes: number): boolean {
    while (this.#pendingBytes + bytes > this.#maxBufferedBytes) {
      let largest: [string, Queue] | null = null;
      for (const entry of this.#pending) {
        if (entry[0] !== tenantId && (!largest || entry[1].bytes > largest[1].bytes)) {
          largest = entry;
        }
      }
      if (!largest || largest[1].bytes <= held + bytes) return false;

      const [victim, queue] = largest;
      const line = queue.lines.pop() ?? "";
      queue.times.pop();
      queue.bytes -= line.length;
      this.#pendingBytes -= line.length;
      if (queue.lines.length === 0) this.#pending.delete(victim);
      this.#countDropped(victim, 1);
    }

    return true;
  }

  #countDropped(tenantId: string, lines: number): void {
    this.#dropped.set(tenantId, (this.#dropped.get(tenantId) ?? 0) + lines);
  }

  #schedule(delayMs: number): void {
    if (this.#timer && delayMs > 0) return;
    if (this.#timer) clearTimeout(this.#timer);
    // Outside the request that wrote the line: the flush is nobody's request.
    this.#timer = outsideLogContext(() =>
      setTimeout(() => {
        this.#timer = null;
        void this.flush();
      }, delayMs),
    );
    this.#timer.unref();
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => outsideLogContext(work));
    this.#queue = run.catch(() => undefined);

    return run;
  }

  async #writePending(): Promise<void> {
    const batch = this.#pending;
    const dropped = this.#dropped;
    this.#pending = new Map();
    this.#pendingBytes = 0;
    this.#dropped = new Map();
    // Reported first: a line the report writes for the tenant waits for the next flush.
    for (const [tenantId, lines] of dropped) {
      this.#onProblem({ kind: "lines-dropped", tenantId, lines });
    }

    for (const [tenantId, queue] of batch) {
      try {
        await this.#write(tenantId, queue);
      } catch (error) {
        await this.#closeHandle(tenantId);
        this.#onProblem({ kind: "write-failed", tenantId, error });
      }
    }
  }

  /**
   * Appends the lines to the tenant's file in whole-line writes of at most
   * {@link MAX_WRITE_BYTES}. A line that would take the file past its bound
   * is preceded by a rotation; when that makes no room (another process
   * holds the rotation lock), the rest goes where it is.
   *
   * Lines logged at or before the tenant's last erasure are left out. The
   * erasure is read once the file is open (and again after a rotation
   * opens another): see tenant-log-erasure.ts for why that order is safe.
   * It is also read before, so that lines which are all older than an
   * erasure do not make a new file.
   */
  async #write(tenantId: string, { lines, times }: Queue): Promise<void> {
    let erasedAt = await this.#erasedAt(tenantId);
    if (!times.some((time) => time > erasedAt)) return;
    let { handle, size } = await this.#current(tenantId);
    erasedAt = await this.#erasedAt(tenantId);
    let parts: string[] = [];
    let pending = 0;
    let stuck = false;
    const writeParts = async () => {
      if (parts.length === 0) return;
      await writeAll(handle, Buffer.from(parts.join("")));
      size += pending;
      parts = [];
      pending = 0;
    };

    for (const [index, line] of lines.entries()) {
      const time = times[index] ?? Number.POSITIVE_INFINITY;
      if (time <= erasedAt) continue;
      const bytes = Buffer.byteLength(line);
      if (!stuck && size + pending > 0 && size + pending + bytes > this.#maxFileBytes) {
        await writeParts();
        ({ handle, size } = await this.#rotate(tenantId, handle));
        erasedAt = await this.#erasedAt(tenantId);
        if (time <= erasedAt) continue;
        stuck = size > 0 && size + bytes > this.#maxFileBytes;
      } else if (pending + bytes > MAX_WRITE_BYTES) {
        await writeParts();
      }
      parts.push(line);
      pending += bytes;
    }
    await writeParts();
  }

  /**
   * The time of the tenant's last erasure that lines queued here may
   * predate: none (-Infinity) when it has none, or when the last one is
   * this process's own, which dropped every line queued before it.
   */
  async #erasedAt(tenantId: string): Promise<number> {
    const erasedAt = await readErasure(this.directory, tenantId);
    if (erasedAt === null || erasedAt === this.#erasedHere.get(tenantId)) {
      return Number.NEGATIVE_INFINITY;
    }

    return erasedAt;
  }

  /**
   * The open file at the tenant's path now, and its size. A handle kept
   * from before is checked against the path first: when another process
   * erased the file or rotated it away, the file there now is opened.
   */
  async #current(tenantId: string): Promise<{ handle: FileHandle; size: number }> {
    const path = tenantLogPath(this.directory, tenantId);
    const kept = this.#handles.get(tenantId);
    this.#handles.delete(tenantId);
    if (kept) {
      const [mine, there] = await Promise.all([
        kept.stat({ bigint: true }),
        stat(path, { bigint: true }).catch(() => null),
      ]);
      if (there && there.ino === mine.ino && there.dev === mine.dev) {
        this.#handles.set(tenantId, kept);

        return { handle: kept, size: Number(mine.size) };
      }
      await kept.close().catch(() => undefined);
    }

    const handle = await this.#open(path);
    for (const [oldest] of this.#handles) {
      if (this.#handles.size < this.#maxOpenFiles) break;
      await this.#closeHandle(oldest);
    }
    this.#handles.set(tenantId, handle);

    return { handle, size: (await handle.stat()).size };
  }

  /**
   * Renames the tenant's file to `<tenantId>.log.1` (replacing the older
   * one) and opens a new one. Processes sharing the directory rotate under
   * a lock file, and only the file their handle holds: one that another
   * process rotated a moment ago is not rotated again, which would put the
   * new file in place of the older one.
   */
  async #rotate(
    tenantId: string,
    handle: FileHandle,
  ): Promise<{ handle: FileHandle; size: number }> {
    const path = tenantLogPath(this.directory, tenantId);
    const lock = `${path}.lock`;
    if (await takeLock(lock)) {
      try {
        const [mine, there] = await Promise.all([
          handle.stat({ bigint: true }),
          stat(path, { bigint: true }).catch(() => null),
        ]);
        if (there && there.ino === mine.ino && there.dev === mine.dev) {
          await rename(path, rotatedLogPath(this.directory, tenantId));
        }
      } finally {
        await unlink(lock).catch(() => undefined);
      }
    }

    return this.#current(tenantId);
  }

  async #open(path: string): Promise<FileHandle> {
    try {
      return await open(path, "a", 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      await mkdir(this.directory, { recursive: true, mode: 0o700 });

      return open(path, "a", 0o600);
    }
  }

  async #closeHandle(tenantId: string): Promise<void> {
    const handle = this.#handles.get(tenantId);
    this.#handles.delete(tenantId);
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Takes the rotation lock of a file (a lock file made exclusively); false
 * when another process holds it. A lock left by a process that died is
 * removed, and taken on a later try.
 */
async function takeLock(lock: string): Promise<boolean> {
  try {
    await (await open(lock, "wx", 0o600)).close();

    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const since = (await stat(lock).catch(() => null))?.mtimeMs;
    if (since !== undefined && Date.now() - since > STALE_LOCK_MS) {
      await unlink(lock).catch(() => undefined);
    }

    return false;
  }
}

/** One append; a short write (rare on files) goes on from where it stopped. */
async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, null);
    offset += bytesWritten;
  }
}
