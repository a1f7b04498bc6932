import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobKind } from "../../src/jobs/index.js";
import { freePort } from "../cache/redis-server.js";
import { TEST_SECOND_DATABASE_URL } from "../support/env.js";
import { eventually } from "../support/eventually.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { hasEnded } from "./job-support.js";

const BACKOFF_MS = 300;

/**
 * A database server that comes up late: a loopback port where nothing
 * listens until `open()`, and then a relay to the second test cluster.
 */
async function lateServer(): Promise<{
  port: number;
  open(): Promise<void>;
  close(): Promise<void>;
}> {
  const port = await freePort();
  const target = new URL(TEST_SECOND_DATABASE_URL);
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const relay = (client: Socket) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => socket.destroy());
      socket.on("close", () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  };

  return {
    port,
    open: async () => {
      server = createServer(relay);
      await new Promise<void>((resolve) => server?.listen(port, "127.0.0.1", resolve));
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    },
  };
}

describe.each([
  { runner: "BullMQ over Redis", redis: true },
  { runner: "in process without Redis", redis: false },
])("a job that fails unexpectedly ($runner)", ({ redis }) => {
  let gw: TestGateway;
  let server: Awaited<ReturnType<typeof lateServer>>;

  beforeAll(async () => {
    server = await lateServer();
    gw = await startTestGateway(`jobs-retries-${redis ? "redis" : "local"}`, {
      redis,
      env: { JOB_ATTEMPTS: "5", JOB_BACKOFF_MS: String(BACKOFF_MS) },
      extraServers: [
        {
          id: "late",
          region: "late",
          url: `postgresql://postgres@127.0.0.1:${server.port}/postgres`,
        },
      ],
    });
  });
  afterAll(async () => {
    // The relay stays up until the gateway has dropped the tenant's database through it.
    await gw?.stop();
    await server?.close();
  });

  it("is retried with exponential backoff until it succeeds", async () => {
    const id = uniqueTenantId("late");
    const job = await gw.gateway.jobs.start({
      kind: JobKind.PROVISION,
      tenantId: id,
      input: {
        id,
        name: "Late",
        isolation: "DATABASE",
        region: "late",
        adminEmail: `root@${id}.test`,
      },
      requestedBy: "test:jobs",
    });
    const read = () =>
      gw.gateway.database.control.backgroundJob.findUniqueOrThrow({ where: { id: job.id } });

    // The first attempt cannot reach the server: the job waits for a retry, its failure shown.
    const first = await eventually(read, (row) => row.errorCode !== null || hasEnded(row));
    expect(first).toMatchObject({
      status: "QUEUED",
      attempts: 1,
      errorCode: "INTERNAL_SERVER_ERROR",
    });
    expect(first.errorMessage).toMatch(/ECONNREFUSED|connect/i);
    await server.open();

    const done = await eventually(read, hasEnded, 20_000);

    expect(done).toMatchObject({
      status: "SUCCEEDED",
      errorCode: null,
      errorMessage: null,
      maxAttempts: 5,
    });
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    expect(done.result).toMatchObject({ tenantId: id, created: true });
    // Attempt n starts at least BACKOFF * (1 + 2 + … + 2^(n-2)) after the first.
    const waited = done.startedAt!.getTime() - first.startedAt!.getTime();
    expect(waited).toBeGreaterThanOrEqual(BACKOFF_MS * (2 ** (done.attempts - 1) - 1));
    const tenant = await gw.gateway.database.control.tenant.findUnique({ where: { id } });
    expect(tenant).toMatchObject({
      status: "ACTIVE",
      isolation: "DATABASE",
      databaseServer: "late",
    });
  });
});
