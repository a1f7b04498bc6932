import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { linesFromEnd } from "../../src/logging/lines-from-end.js";
import { openTenantLogs, TenantLogStore, tenantLogPath } from "../../src/logging/index.js";
import { captureLines } from "./log-capture.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ogc-log-store-"));
});

afterEach(() => rm(dir, { recursive: true, force: true }));

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const found: string[] = [];
  for await (const line of lines) found.push(line);

  return found;
}

describe("reading a file from its end", () => {
  it("gives whole lines, last first, across chunk borders and multi-byte characters", async () => {
    const path = join(dir, "lines.log");
    await writeFile(path, "ålpha-1\nβeta-22\n\ngamma-333 ✓\n");

    for (const chunkBytes of [1, 3, 5, 64]) {
      expect(await collect(linesFromEnd(path, { chunkBytes }))).toEqual([
        "gamma-333 ✓",
        "βeta-22",
        "ålpha-1",
      ]);
    }
  });

  it("reads no further back than maxBytes, dropping the line it would cut", async () => {
    const path = join(dir, "lines.log");
    await writeFile(path, "first-line\nsecond\nthird\n");

    expect(await collect(linesFromEnd(path, { maxBytes: 10, chunkBytes: 4 }))).toEqual(["third"]);
  });

  it("has no lines for a file that does not exist", async () => {
    expect(await collect(linesFromEnd(join(dir, "missing.log")))).toEqual([]);
  });
});

describe("the tenant log store", () => {
  const line = (level: number, msg: string, time: number) =>
    `${JSON.stringify({ level, time, tenantId: "tenant-a", requestId: `r-${msg}`, msg })}\n`;

  beforeEach(async () => {
    await writeFile(
      tenantLogPath(dir, "tenant-a"),
      line(30, "one", 1_000) +
        line(50, "two", 2_000) +
        "{not json, a write cut short\n" +
        line(20, "three", 3_000) +
        line(40, "four", 4_000),
    );
  });

  it("answers the newest lines first, at a level or above, skipping what is not JSON", async () => {
    const store = new TenantLogStore({ directory: dir });

    const all = await store.read("tenant-a", { first: 10 });
    const warn = await store.read("tenant-a", { first: 10, minLevel: 40 });
    const newest = await store.read("tenant-a", { first: 1 });

    expect(all.map((entry) => entry.message)).toEqual(["four", "three", "two", "one"]);
    expect(all[0]).toMatchObject({ level: "warn", requestId: "r-four", time: new Date(4_000) });
    expect(warn.map((entry) => entry.level)).toEqual(["warn", "error"]);
    expect(newest.map((entry) => entry.message)).toEqual(["four"]);
    expect(await store.read("tenant-b", { first: 10 })).toEqual([]);
  });

  it("exports a copy with its hash, and an empty one for a tenant without lines", async () => {
    const store = new TenantLogStore({ directory: dir });
    const exports = join(dir, "exports");

    const copy = await store.export("tenant-a", exports);
    const empty = await store.export("tenant-b", exports);

    const source = await readFile(tenantLogPath(dir, "tenant-a"));
    expect(await readFile(copy.path)).toEqual(source);
    expect(copy).toMatchObject({
      bytes: source.length,
      lines: 5,
      sha256: createHash("sha256").update(source).digest("hex"),
    });
    expect(empty).toMatchObject({ bytes: 0, lines: 0 });
    expect(empty.sha256).toBe(createHash("sha256").digest("hex"));
    expect((await readdir(exports)).sort()).toEqual([copy.file, empty.file].sort());
  });

  it("erases files even when the gateway writes none (TENANT_LOGS=off)", async () => {
    const { logger } = captureLines();
    const logs = openTenantLogs({ mode: "off", directory: dir, logger });
    const size = (await readFile(tenantLogPath(dir, "tenant-a"))).length;

    logger.child({ tenantId: "tenant-b" }).info("standard output only");
    await logs.store.flush();

    expect(await logs.store.erase("tenant-a")).toBe(size);
    expect(await readdir(dir)).toEqual([]);
    await logs.close();
  });
});
