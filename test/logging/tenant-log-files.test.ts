import { mkdtemp, readdir, readFile, readlink, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
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
    expect(await readdir(dir)).toEqual(["tenant-b.log"]);
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
    expect(problems).toEqual([{ kind: "lines-dropped", lines: 3 }]);
  });
});
