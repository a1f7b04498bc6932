import {
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  unlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  openTenantLogs,
  readErasure,
  routeTenantLines,
  TenantLogFiles,
  tenantLogPath,
  type TenantLogProblem,
} from "../../src/logging/index.js";
import { captureLines } from "./log-capture.js";

let dir: string;
const writers: TenantLogFiles[] = [];

/** A writer on the test's directory, closed after the test. */
function filesIn(options: Partial<ConstructorParameters<typeof TenantLogFiles>[0]> = {}) {
  const files = new TenantLogFiles({ directory: dir, ...options });
  writers.push(files);

  return files;
}

async function linesOf(tenantId: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(tenantLogPath(dir, tenantId), "utf8").catch(() => "");

  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Files this process holds open in the directory, from /proc. */
async function openFilesIn(directory: string): Promise<number> {
  const fds = await readdir("/proc/self/fd");
  const targets = await Promise.all(
    fds.map((fd) => readlink(join("/proc/self/fd", fd)).catch(() => "")),
  );

  return targets.filter((target) => target.startsWith(`${directory}/`)).length;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ogc-tenant-logs-"));
});

afterEach(async () => {
  await Promise.all(writers.splice(0).map((files) => files.close()));
  await rm(dir, { recursive: true, force: true });
});

describe("routing lines to tenant files", () => {
  it("sends a line to the file of the tenant its logger is bound to, and to nobody else", async () => {
    const { logger, raw } = captureLines();
    const files = filesIn();
    routeTenantLines(logger, files);
    const a = logger.child({ tenantId: "tenant-a" });
    const b = logger.child({ tenantId: "tenant-b" });

    a.info("a one");
    b.info({ detail: 1 }, "b one");
    a.child({ requestId: "r-1", userId: "u-1" }).warn("a two");
    logger.info("no tenant");
    logger.info({ tenantId: "tenant-a" }, "named, not bound");
    a.info({ tenantId: "tenant-b" }, "bound to a, naming b");
    a.child({ tenantId: "tenant-b" }).info("bound to both");
    logger.child({ tenantId: "../../escape" }).info("not a tenant id");
    await files.flush();

    expect((await linesOf("tenant-a")).map((line) => line.msg)).toEqual(["a one", "a two"]);
    expect((await linesOf("tenant-b")).map((line) => line.msg)).toEqual(["b one"]);
    expect((await readdir(dir)).sort()).toEqual(["tenant-a.log", "tenant-b.log"]);
    // Standard output still gets every line.
    expect(raw).toHaveLength(8);
  });

  it("queues lines in memory: nothing is written until the flush", async () => {
    const { logger } = captureLines();
    const files = filesIn({ flushIntervalMs: 60_000 });
    routeTenantLines(logger, files);

    logger.child({ tenantId: "tenant-a" }).info("queued");
    expect(await readdir(dir)).toEqual([]);

    await files.flush();
    expect(await linesOf("tenant-a")).toHaveLength(1);
  });

  it("stops routing once detached", async () => {
    const { logger } = captureLines();
    const files = filesIn();
    const detach = routeTenantLines(logger, files);

    detach();
    logger.child({ tenantId: "tenant-a" }).info("after detach");
    await files.flush();

    expect(await readdir(dir)).toEqual([]);
  });
});

describe("tenant log files", () => {
  it("refuses a file name that is not a tenant id", () => {
    expect(() => tenantLogPath(dir, "../other")).toThrow(TypeError);
    expect(() => tenantLogPath(dir, "a/b")).toThrow(TypeError);
    expect(tenantLogPath(dir, "acme")).toBe(join(dir, "acme.log"));
  });

  it("keeps at most maxOpenFiles handles open, and loses no line", async () => {
    const files = filesIn({ maxOpenFiles: 2 });
    const tenants = ["t-one", "t-two", "t-three", "t-four", "t-five", "t-six"];

    for (let round = 0; round < 3; round += 1) {
      for (const tenantId of tenants) {
        files.append(tenantId, `${JSON.stringify({ tenantId, round })}\n`);
      }
      await files.flush();
      expect(await openFilesIn(dir)).toBeLessThanOrEqual(2);
    }

    for (const tenantId of tenants) {
      expect((await linesOf(tenantId)).map((line) => line.round)).toEqual([0, 1, 2]);
    }
  });

  it("erases one tenant's file, leaves the others byte for byte, and starts anew", async () => {
    const files = filesIn();
    for (let n = 0; n < 5; n += 1) {
      files.append("tenant-a", `${JSON.stringify({ tenantId: "tenant-a", n })}\n`);
      files.append("tenant-b", `${JSON.stringify({ tenantId: "tenant-b", n })}\n`);
    }
    await files.flush();
    const before = await readFile(tenantLogPath(dir, "tenant-b"));
    const size = (await readFile(tenantLogPath(dir, "tenant-a"))).length;
    files.append("tenant-a", `${JSON.stringify({ tenantId: "tenant-a", n: "queued" })}\n`);

    expect(await files.erase("tenant-a")).toBe(size);
    // The erasure's time stays next to the files, for other writers.
    expect((await readdir(dir)).sort()).toEqual(["tenant-a.erased", "tenant-b.log"]);
    expect((await readFile(tenantLogPath(dir, "tenant-b"))).equals(before)).toBe(true);

    files.append("tenant-a", `${JSON.stringify({ tenantId: "tenant-a", n: "after" })}\n`);
    await files.flush();
    expect((await linesOf("tenant-a")).map((line) => line.n)).toEqual(["after"]);
    expect(await files.erase("tenant-never")).toBe(0);
  });

  it("starts a new file when another process removed the one it holds open", async () => {
    const files = filesIn();
    files.append("tenant-a", '{"n":1}\n');
    await files.flush();

    await unlink(tenantLogPath(dir, "tenant-a"));
    files.append("tenant-a", '{"n":2}\n');
    await files.flush();

    expect((await linesOf("tenant-a")).map((line) => line.n)).toEqual([2]);
  });

  it("keeps every line whole when two writers append to one file at once", async () => {
    const first = filesIn();
    const second = filesIn();
    const pad = "x".repeat(300);

    for (let n = 0; n < 2_000; n += 1) {
      first.append("tenant-a", `${JSON.stringify({ writer: 1, n, pad })}\n`);
      second.append("tenant-a", `${JSON.stringify({ writer: 2, n, pad })}\n`);
      if (n % 250 === 0) void first.flush();
    }
    await Promise.all([first.flush(), second.flush()]);

    const lines = await linesOf("tenant-a");
    expect(lines).toHaveLength(4_000);
    for (const writer of [1, 2]) {
      const numbers = lines.filter((line) => line.writer === writer).map((line) => line.n);
      expect(numbers).toEqual(Array.from({ length: 2_000 }, (_, n) => n));
    }
  });

  it("drops lines past its buffer and says how many", async () => {
    const problems: TenantLogProblem[] = [];
    const files = filesIn({ maxBufferedBytes: 100, onProblem: (p) => problems.push(p) });

    for (let n = 0; n < 5; n += 1)
      files.append("tenant-a", `${JSON.stringify({ n, pad: "y".repeat(30) })}\n`);
    await files.flush();

    expect((await linesOf("tenant-a")).map((line) => line.n)).toEqual([0, 1]);
    expect(problems).toEqual([{ kind: "lines-dropped", tenantId: "tenant-a", lines: 3 }]);
  });
});

/** A line of about `size` bytes, numbered. */
function numbered(n: number, size = 100): string {
  const head = JSON.stringify({ n, pad: "" });
  return `${JSON.stringify({ n, pad: "p".repeat(Math.max(0, size - head.length - 1)) })}\n`;
}

describe("a tenant's flood costs only that tenant", () => {
  it("bounds each tenant's queue of its own: a flood drops its lines only, counted for it", async () => {
    const problems: TenantLogProblem[] = [];
    const files = filesIn({
      flushIntervalMs: 60_000,
      maxBufferedBytesPerTenant: 1_000,
      onProblem: (p) => problems.push(p),
    });

    for (let n = 0; n < 50; n += 1) files.append("tenant-a", numbered(n));
    for (let n = 0; n < 5; n += 1) files.append("tenant-b", numbered(n));
    await files.flush();

    expect((await linesOf("tenant-a")).map((line) => line.n)).toEqual([...Array(10).keys()]);
    expect((await linesOf("tenant-b")).map((line) => line.n)).toEqual([0, 1, 2, 3, 4]);
    expect(problems).toEqual([{ kind: "lines-dropped", tenantId: "tenant-a", lines: 40 }]);
  });

  it("takes room from the tenants holding the most when the whole queue is full", async () => {
    const problems: TenantLogProblem[] = [];
    const files = filesIn({
      flushIntervalMs: 60_000,
      maxBufferedBytes: 2_000,
      maxBufferedBytesPerTenant: 2_000,
      onProblem: (p) => problems.push(p),
    });

    // Two tenants flood, together filling the whole queue; a third writes a few lines after.
    for (let n = 0; n < 40; n += 1) {
      files.append("tenant-a", numbered(n));
      files.append("tenant-c", numbered(n));
    }
    for (let n = 0; n < 4; n += 1) files.append("tenant-b", numbered(n));
    await files.flush();

    const a = (await linesOf("tenant-a")).map((line) => line.n);
    const c = (await linesOf("tenant-c")).map((line) => line.n);
    expect((await linesOf("tenant-b")).map((line) => line.n)).toEqual([0, 1, 2, 3]);
    // The floods kept their oldest lines, and gave way evenly.
    expect(a).toEqual([...Array(a.length).keys()]);
    expect(c).toEqual([...Array(c.length).keys()]);
    expect(a.length + c.length).toBe(16);
    expect(Math.abs(a.length - c.length)).toBeLessThanOrEqual(1);
    expect(problems.map((p) => p.kind === "lines-dropped" && p.tenantId).sort()).toEqual([
      "tenant-a",
      "tenant-c",
    ]);
  });

  it("writes a tenant's dropped-lines report into that tenant's own file", async () => {
    const { logger } = captureLines();
    const logs = openTenantLogs({
      mode: "file",
      directory: dir,
      logger,
      maxBufferedBytesPerTenant: 2_000,
    });
    const a = logger.child({ tenantId: "tenant-a" });
    const b = logger.child({ tenantId: "tenant-b" });

    for (let n = 0; n < 100; n += 1) a.info({ n, pad: "f".repeat(100) }, "flood");
    b.info("quiet");
    // The report is queued by the flush that drops, and written by the next.
    await logs.store.flush();
    await logs.store.flush();
    await logs.close();

    const report = (await linesOf("tenant-a")).filter((line) => line.msg !== "flood");
    const written = (await linesOf("tenant-a")).length - report.length;
    expect(report).toEqual([
      expect.objectContaining({ tenantId: "tenant-a", level: 40, lines: 100 - written }),
    ]);
    expect(String(report[0]?.msg)).toContain("tenant log lines dropped");
    expect((await linesOf("tenant-b")).map((line) => line.msg)).toEqual(["quiet"]);
  });
});

describe("rotating a tenant's file at its size bound", () => {
  const rotated = (tenantId: string) => `${tenantLogPath(dir, tenantId)}.1`;
  async function rotatedLines(tenantId: string): Promise<unknown[]> {
    const text = await readFile(rotated(tenantId), "utf8").catch(() => "");
    return text
      .split("\n")
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { n: unknown }).n);
  }
  const sizeOf = async (path: string) => (await stat(path)).size;

  it("renames the file to <id>.log.1 before a line would take it past the bound", async () => {
    const files = filesIn({ maxFileBytes: 1_000 });
    const write = async (from: number, count: number) => {
      for (let n = from; n < from + count; n += 1) files.append("tenant-a", numbered(n));
      await files.flush();
    };
    const range = (from: number, to: number) => [...Array(to - from).keys()].map((n) => n + from);

    await write(0, 8);
    expect(await readdir(dir)).toEqual(["tenant-a.log"]);

    // Lines of 100 bytes: the file is filled to its bound, then rotated.
    await write(8, 5);
    expect(await rotatedLines("tenant-a")).toEqual(range(0, 10));
    expect((await linesOf("tenant-a")).map((line) => line.n)).toEqual(range(10, 13));

    // One flush of three files' worth: the older rotation is replaced each time.
    await write(13, 30);
    expect(await rotatedLines("tenant-a")).toEqual(range(30, 40));
    expect((await linesOf("tenant-a")).map((line) => line.n)).toEqual(range(40, 43));
    expect((await readdir(dir)).sort()).toEqual(["tenant-a.log", "tenant-a.log.1"]);
    expect(await sizeOf(rotated("tenant-a"))).toBe(1_000);
  });

  it("writes into the new file once another process rotated, and does not rotate it again", async () => {
    const first = filesIn({ maxFileBytes: 1_000 });
    const second = filesIn({ maxFileBytes: 1_000 });

    for (let n = 0; n < 9; n += 1) first.append("tenant-a", numbered(n));
    await first.flush();
    second.append("tenant-a", numbered(100));
    await second.flush();
    // Both hold the full file open; the first rotates it.
    for (let n = 9; n < 11; n += 1) first.append("tenant-a", numbered(n));
    await first.flush();
    second.append("tenant-a", numbered(101));
    await second.flush();

    expect(await rotatedLines("tenant-a")).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 100]);
    expect((await linesOf("tenant-a")).map((line) => line.n)).toEqual([9, 10, 101]);
  });

  it("leaves the rotation to the process holding the lock, and takes over a stale lock", async () => {
    const files = filesIn({ maxFileBytes: 500 });
    const lock = `${tenantLogPath(dir, "tenant-a")}.lock`;
    await writeFile(lock, "");

    for (let n = 0; n < 4; n += 1) files.append("tenant-a", numbered(n));
    await files.flush();
    for (let n = 4; n < 8; n += 1) files.append("tenant-a", numbered(n));
    await files.flush();
    // Another process holds the lock: no rotation, no line lost.
    expect((await readdir(dir)).sort()).toEqual(["tenant-a.log", "tenant-a.log.lock"]);
    expect((await linesOf("tenant-a")).map((line) => line.n)).toEqual([...Array(8).keys()]);

    // It died while rotating: its lock is old, removed, and the next write rotates.
    const old = new Date(Date.now() - 60 * 60 * 1000);
    await utimes(lock, old, old);
    for (let n = 8; n < 10; n += 1) {
      files.append("tenant-a", numbered(n));
      await files.flush();
    }

    expect((await readdir(dir)).sort()).toEqual(["tenant-a.log", "tenant-a.log.1"]);
    expect(await rotatedLines("tenant-a")).toEqual([...Array(9).keys()]);
    expect((await linesOf("tenant-a")).map((line) => line.n)).toEqual([9]);
  });

  it("erases the rotated file with the current one, and only the tenant's", async () => {
    const files = filesIn({ maxFileBytes: 500 });
    for (let n = 0; n < 8; n += 1) {
      files.append("tenant-a", numbered(n));
      files.append("tenant-b", numbered(n));
      await files.flush();
    }
    const sizes =
      (await sizeOf(tenantLogPath(dir, "tenant-a"))) + (await sizeOf(rotated("tenant-a")));
    const before = await readFile(rotated("tenant-b"));

    expect(await files.erase("tenant-a")).toBe(sizes);
    expect((await readdir(dir)).sort()).toEqual([
      "tenant-a.erased",
      "tenant-b.log",
      "tenant-b.log.1",
    ]);
    expect((await readFile(rotated("tenant-b"))).equals(before)).toBe(true);
  });
});

describe("erasing a tenant's log that several writers share", () => {
  /** A line as the gateway's loggers write it, logged at `time`. */
  const lineAt = (time: number, msg: string) =>
    `${JSON.stringify({ level: 30, time, tenantId: "tenant-a", msg })}\n`;

  it("drops the lines another writer still holds from before it, and writes the later ones", async () => {
    const { logger } = captureLines();
    // The other writer (another gateway process) holds its lines until it flushes.
    const holder = filesIn({ flushIntervalMs: 60_000 });
    const eraser = filesIn({ flushIntervalMs: 60_000 });
    routeTenantLines(logger, holder);
    eraser.append("tenant-a", lineAt(Date.now(), "written"));
    await eraser.flush();

    logger.child({ tenantId: "tenant-a", requestId: "before-erase-0001" }).warn("held");
    logger.child({ tenantId: "tenant-b" }).info("other tenant");
    await eraser.erase("tenant-a");
    await holder.flush();

    expect((await readdir(dir)).sort()).toEqual(["tenant-a.erased", "tenant-b.log"]);
    expect((await linesOf("tenant-b")).map((line) => line.msg)).toEqual(["other tenant"]);

    const erasedAt = (await readErasure(dir, "tenant-a")) ?? Number.NaN;
    holder.append("tenant-a", lineAt(erasedAt + 1, "after"));
    await holder.flush();
    expect((await linesOf("tenant-a")).map((line) => line.msg)).toEqual(["after"]);
  });

  it("drops another writer's lines of the erasure's millisecond, not the eraser's own after it", async () => {
    const eraser = filesIn({ flushIntervalMs: 60_000 });
    const other = filesIn({ flushIntervalMs: 60_000 });
    await eraser.erase("tenant-a");
    const erasedAt = (await readErasure(dir, "tenant-a")) ?? Number.NaN;

    // The eraser dropped what it held, so what it queued since came after.
    eraser.append("tenant-a", lineAt(erasedAt, "eraser, same ms"));
    other.append("tenant-a", lineAt(erasedAt, "other, same ms"));
    other.append("tenant-a", lineAt(erasedAt + 1, "other, later"));
    await eraser.flush();
    await other.flush();

    expect((await linesOf("tenant-a")).map((line) => line.msg)).toEqual([
      "eraser, same ms",
      "other, later",
    ]);
  });

  it("never moves the erasure's time back, and takes a marker that is no time for none", async () => {
    const later = Date.now() + 60_000;
    await writeFile(join(dir, "tenant-a.erased"), `${later}\n`);
    await filesIn().erase("tenant-a");
    expect(await readErasure(dir, "tenant-a")).toBe(later);

    await writeFile(join(dir, "tenant-b.erased"), "yesterday\n");
    expect(await readErasure(dir, "tenant-b")).toBeNull();
    expect(await readErasure(dir, "tenant-never")).toBeNull();
  });
});
