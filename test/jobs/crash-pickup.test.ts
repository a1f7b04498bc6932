import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { queueTimings } from "../../src/jobs/queue-runner.js";
import { createTestDatabase } from "../support/database.js";
import { TEST_REDIS_URL } from "../support/env.js";
import { eventually } from "../support/eventually.js";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.js";
import {
  startTestGateway,
  TEST_JWT_SECRET,
  uniqueTenantId,
  type TestGateway,
} from "../support/gateway.js";
import { hasEnded, holdLifecycleLock, openJobReader, type JobReader } from "./job-support.js";

/** Short leases, so that a dead process's job is taken up within seconds. */
const LOCK_MS = 1_000;

describe("how soon a dead process's job is taken up", () => {
  it("is bounded by twice JOB_LOCK_MS, and the job keeps its tenant slot until then", () => {
    for (const lockMs of [500, LOCK_MS, 30_000, 3_600_000]) {
      const timings = queueTimings(lockMs);

      expect(timings.lockDuration).toBe(lockMs);
      expect(timings.stalledInterval).toBeLessThanOrEqual(lockMs / 4);
      // The lock runs out within lockMs; two stalled checks at most two intervals apart follow.
      expect(timings.pickUpWithinMs).toBe(lockMs + 2 * timings.stalledInterval);
      expect(timings.pickUpWithinMs).toBeLessThanOrEqual(2 * lockMs);
      // A lease renewed just before the death still runs past the pick-up.
      expect(timings.slotLeaseMs - timings.slotRenewMs).toBeGreaterThan(timings.pickUpWithinMs);
    }
  });

  describe("as BullMQ is set up in Redis", () => {
    let gw: TestGateway;
    let redis: Redis;

    beforeAll(async () => {
      gw = await startTestGateway("jobs-stall-checks", { env: { JOB_LOCK_MS: String(LOCK_MS) } });
      redis = new Redis(TEST_REDIS_URL);
    });
    afterAll(async () => {
      redis?.disconnect();
      await gw?.stop();
    });

    it("checks for stalled jobs every quarter of JOB_LOCK_MS", async () => {
      const key = `ogc-jobs:${gw.gateway.database.deploymentId}:lifecycle:stalled-check`;
      // BullMQ writes the time of each check with the interval as its TTL:
      // the time left plus the time since is the interval.
      const read = async () => {
        const replies = (await redis.multi().get(key).pttl(key).time().exec()) ?? [];
        const [[, checkedAt], [, left], [, [seconds, micros]]] = replies as [
          [unknown, string | null],
          [unknown, number],
          [unknown, [string, string]],
        ];
        const now = Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);

        return checkedAt === null || left <= 0 ? null : left + (now - Number(checkedAt));
      };

      const interval = await eventually(read, (value) => value !== null);

      console.info(`stalled-job checks every ~${String(interval)} ms with JOB_LOCK_MS ${LOCK_MS}`);
      expect(interval).not.toBeNull();
      expect(interval!).toBeLessThan(LOCK_MS / 2);
    });
  });

  describe("by another gateway process, after a kill -9", () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let reader: JobReader;
    const processes: GatewayProcess[] = [];

    const start = async () => {
      const started = await startGatewayProcess({
        databaseUrl: database.url,
        env: { JOB_LOCK_MS: String(LOCK_MS) },
      });
      processes.push(started);
      return started;
    };

    beforeAll(async () => {
      database = await createTestDatabase("jobs-crash-pickup");
    });
    afterAll(async () => {
      await Promise.all(processes.map((p) => p.stop()));
      await reader?.close();
      await database?.drop();
    });

    it("runs the job again there, as the same attempt, and finishes it", async () => {
      const staff = await issueDevelopmentToken(TEST_JWT_SECRET, {
        sub: "staff-1",
        roles: ["global_admin"],
      });
      const first = await start();
      reader = await openJobReader(database.url);
      const id = uniqueTenantId("pickup");
      const provisioned = await first.request(
        `mutation ($input: ProvisionTenantInput!) { provisionTenant(input: $input) { tenant { id } } }`,
        {
          token: staff,
          variables: { input: { id, name: id, isolation: "SHARED", adminEmail: `a@${id}.test` } },
        },
      );
      expect(provisioned.body.errors).toBeUndefined();

      const lock = await holdLifecycleLock(database.url, id);
      let jobId: string;
      try {
        // Only the first process runs: the export is its job, held RUNNING by the lock.
        const queued = await first.request<{ startExportTenant: { id: string } }>(
          `mutation ($id: ID!) { startExportTenant(id: $id) { id } }`,
          { token: staff, variables: { id } },
        );
        expect(queued.body.errors).toBeUndefined();
        jobId = queued.body.data!.startExportTenant.id;
        const running = await eventually(
          () => reader.job(jobId),
          (row) => row?.status === "RUNNING",
        );
        const firstStart = running!.startedAt!.getTime();
        await start();

        const killedAt = Date.now();
        process.kill(first.pid, "SIGKILL");
        await first.stop();

        // The second process starts the attempt again (a new startedAt), under the same number.
        const taken = await eventually(
          () => reader.job(jobId),
          (row) => (row?.startedAt?.getTime() ?? 0) > firstStart,
          30_000,
        );
        console.info(
          `a dead process's job was taken up ~${String(Date.now() - killedAt)} ms after the kill (JOB_LOCK_MS ${LOCK_MS}, bound ${String(queueTimings(LOCK_MS).pickUpWithinMs)} ms)`,
        );
        expect(taken?.startedAt!.getTime()).toBeGreaterThan(firstStart);
        expect(taken).toMatchObject({ status: "RUNNING", attempts: 1 });
      } finally {
        await lock.release();
      }

      const done = await eventually(() => reader.job(jobId), hasEnded, 30_000);
      expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 1, errorCode: null });
    });
  });
});
