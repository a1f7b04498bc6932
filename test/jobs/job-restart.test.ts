import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { createTestDatabase } from "../support/database.js";
import { eventually } from "../support/eventually.js";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.js";
import { TEST_JWT_SECRET, uniqueTenantId } from "../support/gateway.js";
import {
  hasEnded,
  holdLifecycleLock,
  openJobReader,
  type JobReader,
  type JobRecord,
} from "./job-support.js";

const PROVISION = `mutation ($input: ProvisionTenantInput!) {
  provisionTenant(input: $input) { tenant { id } }
}`;
const START_MOVE = `mutation ($id: ID!) { startMoveTenant(id: $id, isolation: SCHEMA) { id } }`;
const START_EXPORT = `mutation ($id: ID!) { startExportTenant(id: $id) { id } }`;
const START_MIGRATE = `mutation ($id: ID!) { startMigrateTenants(tenantId: $id) { id } }`;

/** Two gateway processes in turn on one database, the first killed mid-job. */
interface Scene {
  databaseUrl: string;
  exportDir: string;
  reader: JobReader;
  staff: string;
  start(): Promise<GatewayProcess>;
  cleanUp(): Promise<void>;
}

async function openScene(label: string, redis: boolean): Promise<Scene> {
  const database = await createTestDatabase(label);
  const exportDir = await mkdtemp(join(tmpdir(), "ogc-job-exports-"));
  const processes: GatewayProcess[] = [];
  let reader: JobReader | null = null;

  return {
    databaseUrl: database.url,
    exportDir,
    get reader() {
      if (!reader) throw new Error("start a process first: it migrates the database");
      return reader;
    },
    staff: await issueDevelopmentToken(TEST_JWT_SECRET, {
      sub: "staff-1",
      roles: ["global_admin"],
    }),
    start: async () => {
      const started = await startGatewayProcess({
        databaseUrl: database.url,
        ...(redis ? {} : { redisUrl: null }),
        // Short leases, so a dead process's job is taken up within seconds.
        env: { JOB_LOCK_MS: "1000", EXPORT_DIR: exportDir },
      });
      processes.push(started);
      reader ??= await openJobReader(database.url);
      return started;
    },
    cleanUp: async () => {
      await Promise.all(processes.map((p) => p.stop()));
      await reader?.close();
      await database.drop();
      await rm(exportDir, { recursive: true, force: true });
    },
  };
}

function kill(gateway: GatewayProcess): Promise<void> {
  process.kill(gateway.pid, "SIGKILL");

  return gateway.stop();
}

async function provision(scene: Scene, gateway: GatewayProcess): Promise<string> {
  const id = uniqueTenantId("restart");
  const res = await gateway.request(PROVISION, {
    token: scene.staff,
    variables: { input: { id, name: id, isolation: "SHARED", adminEmail: `root@${id}.test` } },
  });
  expect(res.body.errors).toBeUndefined();

  return id;
}

async function startJob(scene: Scene, gateway: GatewayProcess, document: string, id: string) {
  const res = await gateway.request<Record<string, { id: string } | { id: string }[]>>(document, {
    token: scene.staff,
    variables: { id },
  });
  expect(res.body.errors).toBeUndefined();
  const answer = Object.values(res.body.data ?? {})[0];

  return (Array.isArray(answer) ? answer[0]?.id : answer?.id) as string;
}

const settled = (scene: Scene, ids: string[]) =>
  eventually(
    () => Promise.all(ids.map((id) => scene.reader.job(id))),
    (rows) => rows.every(hasEnded),
    30_000,
  );

async function archivesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith(".tar.gz"));
}

describe("a gateway killed mid-job, with Redis", () => {
  let scene: Scene;

  beforeAll(async () => {
    scene = await openScene("jobs-restart-redis", true);
  });
  afterAll(() => scene?.cleanUp());

  it("loses no job: the next process finishes it once, and queues one never queued", async () => {
    const first = await scene.start();
    const id = await provision(scene, first);
    const lock = await holdLifecycleLock(scene.databaseUrl, id);
    let moveId: string;
    let orphanId: string;
    try {
      moveId = await startJob(scene, first, START_MOVE, id);
      const running = await eventually(
        () => scene.reader.job(moveId),
        (row) => row?.status === "RUNNING",
      );
      expect(running?.attempts).toBe(1);
      await kill(first);

      // A process that died between writing a job's row and queueing it left this.
      orphanId = randomUUID();
      await scene.reader.query(
        `INSERT INTO "BackgroundJob" (id, "tenantId", kind, input, "maxAttempts", "requestedBy")
         VALUES ($1, $2, 'EXPORT', '{}', 3, 'test:orphan')`,
        [orphanId, id],
      );
      await scene.start();
    } finally {
      await lock.release();
    }

    const [move, orphan] = (await settled(scene, [moveId, orphanId])) as JobRecord[];

    expect(move).toMatchObject({ status: "SUCCEEDED", attempts: 1, errorCode: null });
    const report = move!.result as {
      from: string;
      to: string;
      tables: { table: string; rows: number }[];
    };
    expect(report.from).toBe("shared");
    expect(report.to).toMatch(/^schema:/);
    expect(report.tables.find((t) => t.table === "User")?.rows).toBe(1);
    const [tenant] = await scene.reader.query<{ isolation: string; movingTo: string | null }>(
      `SELECT isolation, "movingTo" FROM "Tenant" WHERE id = $1`,
      [id],
    );
    expect(tenant).toEqual({ isolation: "SCHEMA", movingTo: null });
    const moves = await scene.reader.query<{ action: string }>(
      `SELECT action FROM "PlatformAuditLog" WHERE "tenantId" = $1 AND action LIKE 'tenant.move%'`,
      [id],
    );
    expect(moves.map((row) => row.action)).toEqual(["tenant.move"]);

    expect(orphan).toMatchObject({ status: "SUCCEEDED", attempts: 1 });
    expect(await archivesIn(scene.exportDir)).toEqual([(orphan!.result as { file: string }).file]);
  });
});

describe("a gateway killed mid-job, without Redis", () => {
  let scene: Scene;

  beforeAll(async () => {
    scene = await openScene("jobs-restart-local", false);
  });
  afterAll(() => scene?.cleanUp());

  it("resumes the job it ran and the one it had queued at the next start", async () => {
    const first = await scene.start();
    const id = await provision(scene, first);
    const lock = await holdLifecycleLock(scene.databaseUrl, id);
    let exportId: string;
    let migrateId: string;
    try {
      exportId = await startJob(scene, first, START_EXPORT, id);
      await eventually(
        () => scene.reader.job(exportId),
        (row) => row?.status === "RUNNING",
      );
      // Queued behind the export: one job of a tenant at a time.
      migrateId = await startJob(scene, first, START_MIGRATE, id);
      expect((await scene.reader.job(migrateId))?.status).toBe("QUEUED");
      await kill(first);
      await scene.start();
    } finally {
      await lock.release();
    }

    const [exported, migrated] = (await settled(scene, [exportId, migrateId])) as JobRecord[];

    expect(exported).toMatchObject({ status: "SUCCEEDED", attempts: 1 });
    expect(migrated).toMatchObject({ status: "SUCCEEDED", attempts: 1, result: { tenantId: id } });
    expect(await archivesIn(scene.exportDir)).toEqual([
      (exported!.result as { file: string }).file,
    ]);
  });
});
