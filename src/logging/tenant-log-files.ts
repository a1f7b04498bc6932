import { mkdir, open, stat, unlink, type FileHandle } from "node:fs/promises";
import { resolve } from "node:path";
import { outsideLogContext } from "./log-context.js";
import { tenantLogPath } from "./tenant-log-path.js";
import type { TenantLineSink } from "./tenant-line-router.js";

export interface TenantLogFilesOptions {
  /** Directory of the files, `<tenantId>.log` each; made on the first write. */
  readonly directory: string;
  /** Most files held open at once; the least recently written is closed first (default 64). */
  readonly maxOpenFiles?: number;
  /** How long a line may wait in memory before it is written (ms, default 250). */
  readonly flushIntervalMs?: number;
  /** Most bytes waiting across tenants; lines past it are dropped and counted (default 8 MiB). */
  readonly maxBufferedBytes?: number;
  /**
   * Told when a file cannot be written or lines were dropped. Called outside
   * any request's log context, so a line it writes goes to standard output
   * only and cannot feed the failure it reports.
   */
  readonly onProblem?: (problem: TenantLogProblem) => void;
}

/** Something the files could not do; the lines concerned are lost. */
export type TenantLogProblem =
  | { readonly kind: "write-failed"; readonly tenantId: string; readonly error: unknown }
  | { readonly kind: "lines-dropped"; readonly lines: number };

/** Pending bytes past which a flush starts at once instead of at the interval. */
const FLUSH_AT_BYTES = 256 * 1024;

/** Largest single write: whole lines up to this size each. */
const MAX_WRITE_BYTES = 1024 * 1024;

/**
 * Every tenant's log lines, appended to a file of its own.
 *
 * A line is only queued in memory on the request path; a timer writes the
 * queue, each tenant's lines in whole-line writes to a file opened with
 * O_APPEND, so several gateway processes can share the directory and their
 * lines never split one another. Handles stay open between writes, at most
 * `maxOpenFiles` of them. A handle is checked before each write: when
 * another process has erased the file, it is reopened and a new file starts.
 * Writes, erasures and the final flush run one at a time.
 */
export class TenantLogFiles implements TenantLineSink {
  readonly directory: string;
  readonly #maxOpenFiles: number;
  readonly #flushIntervalMs: number;
  readonly #maxBufferedBytes: number;
  readonly #onProblem: (problem: TenantLogProblem) => void;

  #pending = new Map<string, string[]>();
  #pendingBytes = 0;
  #dropped = 0;
  #timer: NodeJS.Timeout | null = null;
  /** Open handles by tenant, least recently written first. */
  readonly #handles = new Map<string, FileHandle>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: TenantLogFilesOptions) {
    this.directory = resolve(options.directory);
    this.#maxOpenFiles = Math.max(1, options.maxOpenFiles ?? 64);
    this.#flushIntervalMs = options.flushIntervalMs ?? 250;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.#onProblem = options.onProblem ?? (() => undefined);
  }

  /** Queues one line of `tenantId`; never blocks. Lines after `close()` are ignored. */
  append(tenantId: string, line: string): void {
    if (this.#closed) return;
    if (this.#pendingBytes + line.length > this.#maxBufferedBytes) {
      this.#dropped += 1;
      return;
    }

    const lines = this.#pending.get(tenantId);
    if (lines) lines.push(line);
    else this.#pending.set(tenantId, [line]);
    this.#pendingBytes += line.length;
    this.#schedule(this.#pendingBytes >= FLUSH_AT_BYTES ? 0 : this.#flushIntervalMs);
  }

  /** Writes every queued line; resolves when they are in their files. */
  flush(): Promise<void> {
    return this.#serially(() => this.#writePending());
  }

  /**
   * Removes the tenant's file and the lines of it still queued here;
   * answers the bytes the file held. Lines written afterwards start a new
   * file. Other tenants' files are not touched.
   */
  erase(tenantId: string): Promise<number> {
    const path = tenantLogPath(this.directory, tenantId);

    return this.#serially(async () => {
      for (const line of this.#pending.get(tenantId) ?? []) this.#pendingBytes -= line.length;
      this.#pending.delete(tenantId);
      await this.#closeHandle(tenantId);

      return removeLogFile(path);
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
    this.#pending = new Map();
    this.#pendingBytes = 0;
    if (this.#dropped > 0) {
      this.#onProblem({ kind: "lines-dropped", lines: this.#dropped });
      this.#dropped = 0;
    }

    for (const [tenantId, lines] of batch) {
      try {
        const handle = await this.#handleFor(tenantId);
        for (const chunk of wholeLineChunks(lines)) await writeAll(handle, chunk);
      } catch (error) {
        await this.#closeHandle(tenantId);
        this.#onProblem({ kind: "write-failed", tenantId, error });
      }
    }
  }

  async #handleFor(tenantId: string): Promise<FileHandle> {
    let handle = this.#handles.get(tenantId);
    this.#handles.delete(tenantId);
    // Erased by another process: this handle would write into the void.
    if (handle && (await handle.stat()).nlink === 0) {
      await handle.close().catch(() => undefined);
      handle = undefined;
    }
    if (!handle) {
      handle = await this.#open(tenantId);
      for (const [oldest] of this.#handles) {
        if (this.#handles.size < this.#maxOpenFiles) break;
        await this.#closeHandle(oldest);
      }
    }
    this.#handles.set(tenantId, handle);

    return handle;
  }

  async #open(tenantId: string): Promise<FileHandle> {
    const path = tenantLogPath(this.directory, tenantId);
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

/** Removes a tenant log file; answers the bytes it held (0 when there was none). */
export async function removeLogFile(path: string): Promise<number> {
  const bytes = (await stat(path).catch(() => null))?.size ?? 0;
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });

  return bytes;
}

/** The lines joined into pieces of at most {@link MAX_WRITE_BYTES}, cut between lines. */
function* wholeLineChunks(lines: readonly string[]): Generator<Buffer> {
  let parts: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length > MAX_WRITE_BYTES && parts.length > 0) {
      yield Buffer.from(parts.join(""));
      parts = [];
      size = 0;
    }
    parts.push(line);
    size += line.length;
  }
  if (parts.length > 0) yield Buffer.from(parts.join(""));
}

/** One append; a short write (rare on files) goes on from where it stopped. */
async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, null);
    offset += bytesWritten;
  }
}
