import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobKind, type JobRow } from "../../src/jobs/index.js";
import { captureLogger, type LogLine } from "../cache/capture-logger.js";
import { TEST_REDIS_URL } from "../support/env.js";
import { eventually } from "../support/eventually.js";
import { seedTenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { hasEnded, holdLifecycleLock } from "./job-support.js";

/**
 * A job whose BullMQ lock runs out while its run goes on (Redis stalled
 * longer than JOB_LOCK_MS): the stalled-job check hands it out again, here
 * to the same process, which must not start a second run beside the first.
 */
describe("a running job whose queue lock is lost", () => {
  let gw: TestGateway;
  let lines: LogLine[];
  let redis: Redis;
  let queue: Queue;

  beforeAll(async () => {
    const captured = captureLogger();
    lines = captured.lines;
    // Short locks: BullMQ's stalled-job check runs every 125 ms.
    gw = await startTestGateway("jobs-lost-lock", {
      logger: captured.logger,
      env: { JOB_LOCK_MS: "500" },
    });
    redis = new Redis(TEST_REDIS_URL);
    queue = new Queue("lifecycle", {
      connection: redis,
      prefix: `ogc-jobs:${gw.gateway.database.deploymentId}`,
    });
  });
  afterAll(async () => {
    await queue?.close();
    redis?.disconnect();
    await gw?.stop();
  });

  const rowOf = (id: string): Promise<JobRow | null> =>
    gw.gateway.database.control.backgroundJob.findUnique({ where: { id } });
  const linesOf = (id: string, msg: string | RegExp) =>
    lines.filter(
      (line) =>
        line.jobId === id && (typeof msg === "string" ? line.msg === msg : msg.test(line.msg)),
    );
  const STARTED = "job started";
  const HANDED_AGAIN = /handed out again a job this process is still running/;

  it("is not run twice at once by one process, and succeeds once", async () => {
    const { tenantId } = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("lost"));
    const lock = await holdLifecycleLock(gw.databaseUrl, tenantId);
    let job: JobRow;
    let running: JobRow | null;
    try {
      job = await gw.gateway.jobs.start({
        kind: JobKind.EXPORT,
        tenantId,
        input: {},
        requestedBy: "test:jobs",
      });
      // The export waits for the lifecycle lock the test holds, mid-run.
      running = await eventually(
        () => rowOf(job.id),
        (row) => row?.status === "RUNNING",
      );
      expect(running?.status).toBe("RUNNING");

      // What a stalled Redis does to a running job: its lock is gone, and
      // its worker cannot renew it. BullMQ's next stalled-job checks put
      // the job back to wait, and a free worker of this process takes it.
      await redis.del(`ogc-jobs:${gw.gateway.database.deploymentId}:lifecycle:${job.id}:lock`);
      await eventually(
        async () => lines,
        () => linesOf(job.id, HANDED_AGAIN).length > 0 || linesOf(job.id, STARTED).length > 1,
        10_000,
      );

      // The second delivery waits for the first run: no second start.
      expect(linesOf(job.id, HANDED_AGAIN)).toHaveLength(1);
      expect(linesOf(job.id, STARTED)).toHaveLength(1);
      expect((await rowOf(job.id))?.startedAt).toEqual(running?.startedAt);
    } finally {
      await lock.release();
    }

    const done = await eventually(() => rowOf(job.id), hasEnded, 20_000);
    expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 1, startedAt: running?.startedAt });
    expect(linesOf(job.id, "job succeeded")).toHaveLength(1);
    // The queue has it complete too: the second delivery answered with the first run's outcome.
    const state = await eventually(
      () => queue.getJobState(job.id),
      (value) => value === "completed",
    );
    expect(state).toBe("completed");
  });
});
