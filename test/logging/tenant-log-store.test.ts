import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { linesFromEnd } from "../../src/logging/lines-from-end.js";
import {
  openTenantLogs,
  rotatedLogPath,
  TenantLogStore,
  tenantLogPath,
} from "../../src/logging/index.js";
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

  describe("with a rotated file", () => {
    beforeEach(async () => {
      await writeFile(
        rotatedLogPath(dir, "tenant-a"),
        line(30, "older-1", 100) + line(40, "older-2", 200),
      );
    });

    it("reads on into the rotated file, newest first", async () => {
      const store = new TenantLogStore({ directory: dir });

      const all = await store.read("tenant-a", { first: 10 });
      const warn = await store.read("tenant-a", { first: 10, minLevel: 40 });
      const five = await store.read("tenant-a", { first: 5 });

      expect(all.map((entry) => entry.message)).toEqual([
        "four",
        "three",
        "two",
        "one",
        "older-2",
        "older-1",
      ]);
      expect(warn.map((entry) => entry.message)).toEqual(["four", "two", "older-2"]);
      expect(five.map((entry) => entry.message)).toEqual([
        "four",
        "three",
        "two",
        "one",
        "older-2",
      ]);
    });

    it("exports the rotated file, then the current one", async () => {
      const store = new TenantLogStore({ directory: dir });
      const both = Buffer.concat([
        await readFile(rotatedLogPath(dir, "tenant-a")),
        await readFile(tenantLogPath(dir, "tenant-a")),
      ]);

      const copy = await store.export("tenant-a", join(dir, "exports"));

      expect(await readFile(copy.path)).toEqual(both);
      expect(copy).toMatchObject({
        bytes: both.length,
        lines: 7,
        sha256: createHash("sha256").update(both).digest("hex"),
      });
    });

    it("erases both, with or without a writer, and only the tenant's", async () => {
      await writeFile(tenantLogPath(dir, "tenant-b"), line(30, "b", 1));
      await writeFile(rotatedLogPath(dir, "tenant-b"), line(30, "b-older", 1));
      const size = async () =>
        (await readFile(tenantLogPath(dir, "tenant-a"))).length +
        (await readFile(rotatedLogPath(dir, "tenant-a"))).length;
      const expected = await size();
      const { logger } = captureLines();

      const off = openTenantLogs({ mode: "off", directory: dir, logger });
      expect(await off.store.erase("tenant-a")).toBe(expected);
      expect((await readdir(dir)).sort()).toEqual([
        "tenant-a.erased",
        "tenant-b.log",
        "tenant-b.log.1",
      ]);

      const writing = openTenantLogs({ mode: "file", directory: dir, logger });
      await writeFile(rotatedLogPath(dir, "tenant-a"), line(30, "again", 1));
      expect(await writing.store.erase("tenant-a")).toBe(line(30, "again", 1).length);
      expect((await readdir(dir)).sort()).toEqual([
        "tenant-a.erased",
        "tenant-b.log",
        "tenant-b.log.1",
      ]);
      await writing.close();
    });
  });

  it("keeps a writing process from bringing back what a store without a writer erased", async () => {
    const { logger } = captureLines();
    // Another gateway process, holding a line of the tenant when the erasure comes.
    const writing = openTenantLogs({ mode: "file", directory: dir, logger });
    logger.child({ tenantId: "tenant-a", requestId: "before-erase-0001" }).info("held");

    // The command-line tools and TENANT_LOGS=off erase without a writer of their own.
    await new TenantLogStore({ directory: dir }).erase("tenant-a");
    await writing.close();

    expect(await readFile(tenantLogPath(dir, "tenant-a"), "utf8").catch(() => null)).toBeNull();
  });

  it("erases files even when the gateway writes none (TENANT_LOGS=off)", async () => {
    const { logger } = captureLines();
    const logs = openTenantLogs({ mode: "off", directory: dir, logger });
    const size = (await readFile(tenantLogPath(dir, "tenant-a"))).length;

    logger.child({ tenantId: "tenant-b" }).info("standard output only");
    await logs.store.flush();

    expect(await logs.store.erase("tenant-a")).toBe(size);
    expect(await readdir(dir)).toEqual(["tenant-a.erased"]);
    await logs.close();
  });
});
