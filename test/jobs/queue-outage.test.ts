import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { startPrivateRedis, type PrivateRedis } from "../cache/redis-server.js";
import { createTestDatabase } from "../support/database.js";
import { eventually } from "../support/eventually.js";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.js";
import { codesOf, TEST_JWT_SECRET, uniqueTenantId } from "../support/gateway.js";
import { holdLifecycleLock, openJobReader, type JobReader } from "./job-support.js";

const PROVISION = `mutation ($input: ProvisionTenantInput!) {
  provisionTenant(input: $input) { tenant { id } }
}`;
const START_PROVISION = `mutation ($input: ProvisionTenantInput!) {
  startProvisionTenant(input: $input) { id }
}`;
const START_EXPORT = `mutation ($id: ID!) { startExportTenant(id: $id) { id } }`;

const DOWN = "Job queue Redis unavailable; jobs wait until it answers again";
const BACK = "Job queue Redis answers again; jobs run again";

interface Line {
  level: number;
  msg?: string;
  component?: string;
}

/** The job queue's own lines at info and above, in order. */
function queueLines(gateway: GatewayProcess): string[] {
  return gateway
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Line)
    .filter((line) => line.component === "job-queue" && line.level >= 30)
    .map((line) => line.msg ?? "");
}

/**
 * A gateway process on a Redis of its own, which the test kills: the job
 * queue's connections fail for as long as it is away.
 */
describe("a gateway whose job queue loses Redis", () => {
  let redis: PrivateRedis;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let gateway: GatewayProcess;
  let reader: JobReader;
  let staff: string;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    database = await createTestDatabase("jobs-queue-outage");
    // Ready only while Redis answers (the cache is part of /readyz).
    gateway = await startGatewayProcess({
      databaseUrl: database.url,
      redisUrl: redis.url,
      env: { LOG_LEVEL: "info" },
    });
    reader = await openJobReader(database.url);
    staff = await issueDevelopmentToken(TEST_JWT_SECRET, {
      sub: "staff-1",
      roles: ["global_admin"],
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await reader?.close();
    await redis?.stop();
    await database?.drop();
  });

  it("logs the outage once and its end once", async () => {
    await redis.kill();
    const id = uniqueTenantId("outage");
    // The queue waits for Redis up to its deadline (5 s), then gives the job up.
    const res = await gateway.request(START_PROVISION, {
      token: staff,
      variables: { input: { id, name: id, isolation: "SHARED", adminEmail: `root@${id}.test` } },
    });
    expect(codesOf(res)).toEqual(["INTERNAL_SERVER_ERROR"]);
    expect((await reader.jobs(id)).map((row) => row.status)).toEqual(["FAILED"]);
    // Its connections failed over and over meanwhile: one line says so.
    expect(queueLines(gateway)).toEqual([DOWN]);

    await redis.start();
    const lines = await eventually(
      async () => queueLines(gateway),
      (seen) => seen.includes(BACK),
      20_000,
    );
    expect(lines).toEqual([DOWN, BACK]);
  });

  it("stops on SIGTERM with Redis away, once the job it runs has ended", async () => {
    const id = uniqueTenantId("stopping");
    const made = await gateway.request(PROVISION, {
      token: staff,
      variables: { input: { id, name: id, isolation: "SHARED", adminEmail: `root@${id}.test` } },
    });
    expect(made.body.errors).toBeUndefined();
    const lock = await holdLifecycleLock(database.url, id);
    let jobId: string;
    try {
      const started = await gateway.request<{ startExportTenant: { id: string } }>(START_EXPORT, {
        token: staff,
        variables: { id },
      });
      expect(started.body.errors).toBeUndefined();
      jobId = started.body.data!.startExportTenant.id;
      // The export waits for the lifecycle lock the test holds, mid-run.
      await eventually(
        () => reader.job(jobId),
        (row) => row?.status === "RUNNING",
      );

      await redis.kill();
      process.kill(gateway.pid, "SIGTERM");
      await eventually(
        async () => gateway.output(),
        (output) => output.includes('"msg":"shutting down"'),
      );
    } finally {
      // The stop waits for the running export, which can now end.
      await lock.release();
    }

    expect(await gateway.exit).toEqual({ code: 0, signal: null });
    expect(await reader.job(jobId)).toMatchObject({ status: "SUCCEEDED", attempts: 1 });
  });
});
