import { readdir } from "node:fs/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobKind, type JobRequest, type JobRow } from "../../src/jobs/index.js";
import { TEST_REDIS_URL } from "../support/env.js";
import { eventually } from "../support/eventually.js";
import { seedTenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { hasEnded, holdLifecycleLock } from "./job-support.js";

const exportOf = (tenantId: string): JobRequest => ({
  kind: JobKind.EXPORT,
  tenantId,
  input: {},
  requestedBy: "test:jobs",
});
const migrationOf = (tenantId: string): JobRequest => ({
  kind: JobKind.MIGRATE,
  tenantId,
  input: {},
  requestedBy: "test:jobs",
});

/** The rows of `ids`, read together, so that what they show is one moment. */
async function rowsOf(gw: TestGateway, ids: string[]): Promise<JobRow[]> {
  const rows = await gw.gateway.database.control.backgroundJob.findMany({
    where: { id: { in: ids } },
  });

  return ids.map((id) => rows.find((row) => row.id === id) as JobRow);
}

const ended = (gw: TestGateway, ids: string[]) =>
  eventually(
    () => rowsOf(gw, ids),
    (rows) => rows.every(hasEnded),
    20_000,
  );

/**
 * The per-tenant limit with a held lock: tenant one's export blocks on the
 * lock mid-run, and tenant one's migration, which takes no lifecycle lock,
 * may only wait for its tenant's slot; tenant two's export runs meanwhile.
 */
function describeTenantLimits(label: string, redis: boolean) {
  describe(`jobs of one tenant, ${label}`, () => {
    let gw: TestGateway;
    let one: string;
    let two: string;
    let three: string;

    beforeAll(async () => {
      gw = await startTestGateway(`jobs-limits-${redis ? "redis" : "local"}`, { redis });
      [one, two, three] = [uniqueTenantId("one"), uniqueTenantId("two"), uniqueTenantId("three")];
      for (const id of [one, two, three]) await seedTenantFixture(gw.gateway.lifecycle, id);
    });
    afterAll(() => gw?.stop());

    it("run one at a time, while other tenants' jobs run beside them", async () => {
      const jobs = gw.gateway.jobs;
      const locks = [
        await holdLifecycleLock(gw.databaseUrl, one),
        await holdLifecycleLock(gw.databaseUrl, two),
      ];
      let ids: string[];
      try {
        const first = await jobs.start(exportOf(one));
        await eventually(
          () => rowsOf(gw, [first.id]),
          ([row]) => row?.status === "RUNNING",
        );
        const second = await jobs.start(migrationOf(one));
        const beside = await jobs.start(exportOf(two));
        ids = [first.id, second.id, beside.id];

        // Tenant one's export and tenant two's are both under way at once.
        const both = await eventually(
          () => rowsOf(gw, ids),
          ([a, , c]) => a?.status === "RUNNING" && c?.status === "RUNNING",
        );
        expect(both.map((row) => row.status)).toEqual(["RUNNING", "QUEUED", "RUNNING"]);

        // A free worker runs a third tenant's job to the end; tenant one's
        // migration, free to run but for its tenant's slot, has not started.
        const other = await jobs.start(migrationOf(three));
        expect((await ended(gw, [other.id]))[0]?.status).toBe("SUCCEEDED");
        const [, waiting] = await rowsOf(gw, ids);
        expect(waiting).toMatchObject({ status: "QUEUED", attempts: 0, startedAt: null });
      } finally {
        for (const lock of locks) await lock.release();
      }

      const [first, second, beside] = await ended(gw, ids);

      expect([first, second, beside].map((row) => row?.status)).toEqual([
        "SUCCEEDED",
        "SUCCEEDED",
        "SUCCEEDED",
      ]);
      // Tenant one's jobs one after the other; tenant two's overlapped tenant one's first.
      expect(second!.startedAt!.getTime()).toBeGreaterThanOrEqual(first!.finishedAt!.getTime());
      expect(beside!.startedAt!.getTime()).toBeLessThan(first!.finishedAt!.getTime());
      expect(first!.startedAt!.getTime()).toBeLessThan(beside!.finishedAt!.getTime());
    });
  });
}

describeTenantLimits("on BullMQ over Redis", true);
describeTenantLimits("in process without Redis", false);

describe("two deployments sharing one Redis", () => {
  let left: TestGateway;
  let right: TestGateway;
  let redis: Redis;
  const twin = uniqueTenantId("twin");

  beforeAll(async () => {
    [left, right] = await Promise.all([
      startTestGateway("jobs-deploy-left"),
      startTestGateway("jobs-deploy-right"),
    ]);
    redis = new Redis(TEST_REDIS_URL);
    // The same tenant id in both: each deployment has its own.
    for (const gw of [left, right]) await seedTenantFixture(gw.gateway.lifecycle, twin);
  });
  afterAll(async () => {
    redis?.disconnect();
    await Promise.all([left?.stop(), right?.stop()]);
  });

  const keysOf = async (gw: TestGateway) => {
    const keys: string[] = [];
    const stream = redis.scanStream({
      match: `ogc-jobs:${gw.gateway.database.deploymentId}:*`,
      count: 1_000,
    });
    for await (const page of stream) keys.push(...(page as string[]));
    return keys;
  };

  it("run each its own jobs, with slots of their own for the same tenant id", async () => {
    const lock = await holdLifecycleLock(left.databaseUrl, twin);
    let blocked: JobRow;
    let free: JobRow;
    try {
      blocked = await left.gateway.jobs.start(exportOf(twin));
      await eventually(
        () => rowsOf(left, [blocked.id]),
        ([row]) => row?.status === "RUNNING",
      );

      // The left deployment's job holds its slot for the tenant; the right's runs.
      free = await right.gateway.jobs.start(exportOf(twin));
      const [done] = await ended(right, [free.id]);
      expect(done?.status).toBe("SUCCEEDED");
      expect((await rowsOf(left, [blocked.id]))[0]?.status).toBe("RUNNING");
    } finally {
      await lock.release();
    }
    expect((await ended(left, [blocked.id]))[0]?.status).toBe("SUCCEEDED");

    // Each record and archive in its own deployment only.
    const control = (gw: TestGateway) => gw.gateway.database.control.backgroundJob;
    expect(await control(left).count({ where: { id: free.id } })).toBe(0);
    expect(await control(right).count({ where: { id: blocked.id } })).toBe(0);
    const archives = async (gw: TestGateway) =>
      (await readdir(gw.gateway.lifecycle.exportDir)).filter((name) => name.endsWith(".tar.gz"));
    expect(await archives(left)).toHaveLength(1);
    expect(await archives(right)).toHaveLength(1);

    // Each queue under its deployment's prefix, none under the tenant cache's `ogc:`.
    const [leftKeys, rightKeys] = [await keysOf(left), await keysOf(right)];
    expect(leftKeys.some((key) => key.endsWith(`:lifecycle:${blocked.id}`))).toBe(true);
    expect(rightKeys.some((key) => key.endsWith(`:lifecycle:${free.id}`))).toBe(true);
    expect(leftKeys.filter((key) => key.includes(free.id))).toEqual([]);
    expect(rightKeys.filter((key) => key.includes(blocked.id))).toEqual([]);
    const underCachePrefix: string[] = [];
    for await (const page of redis.scanStream({ match: `ogc:*${blocked.id}*`, count: 1_000 })) {
      underCachePrefix.push(...(page as string[]));
    }
    expect(underCachePrefix).toEqual([]);
  });
});
