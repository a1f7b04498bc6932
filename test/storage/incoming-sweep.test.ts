import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { INCOMING_MAX_AGE_MS, StorageLayout, sweepIncoming } from "../../src/storage/index.js";

describe("sweeping partial uploads a dead process left behind", () => {
  let root: string;
  let layout: StorageLayout;
  const tenants = [
    { id: "sweep-a", storageBucket: "default" },
    { id: "sweep-b", storageBucket: "tenant-sweep-b" },
  ];
  const incoming = (tenant: (typeof tenants)[number]) =>
    join(layout.tenantDirectory(tenant.storageBucket, tenant.id), ".incoming");

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "ogc-sweep-"));
    layout = new StorageLayout(root);
    for (const tenant of tenants) await mkdir(incoming(tenant), { recursive: true });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  async function leave(path: string, ageMs: number): Promise<void> {
    await writeFile(path, "partial");
    const when = new Date(Date.now() - ageMs);
    await utimes(path, when, when);
  }

  it("removes old files from every tenant's incoming directory and keeps fresh ones", async () => {
    const [a, b] = tenants as [(typeof tenants)[number], (typeof tenants)[number]];
    await leave(join(incoming(a), "old.part"), INCOMING_MAX_AGE_MS + 60_000);
    await leave(join(incoming(a), "fresh.part"), 60_000);
    await leave(join(incoming(b), "old.removed"), INCOMING_MAX_AGE_MS * 2);

    const removed = await sweepIncoming(layout, tenants);

    expect(removed).toBe(2);
    expect(await readdir(incoming(a))).toEqual(["fresh.part"]);
    expect(await readdir(incoming(b))).toEqual([]);
  });

  it("leaves links and folders alone, and the files they lead to", async () => {
    const [a] = tenants as [(typeof tenants)[number]];
    const outside = join(root, "outside.txt");
    await leave(outside, INCOMING_MAX_AGE_MS * 2);
    await symlink(outside, join(incoming(a), "link.part"));
    await mkdir(join(incoming(a), "folder"));

    const removed = await sweepIncoming(layout, tenants, Date.now() + INCOMING_MAX_AGE_MS * 3);

    expect(removed).toBe(0);
    expect((await readdir(incoming(a))).sort()).toEqual(["folder", "link.part"]);
    expect(await readdir(root)).toContain("outside.txt");
  });

  it("passes over tenants that have no incoming directory", async () => {
    expect(await sweepIncoming(layout, [{ id: "sweep-none", storageBucket: "default" }])).toBe(0);
  });
});
