import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "../../src/errors/index.js";
import { JobKind, type JobRow } from "../../src/jobs/index.js";
import { performJob } from "../../src/jobs/perform-job.js";
import { moveTenant } from "../../src/lifecycle/move-tenant.js";
import { provisionTenant } from "../../src/lifecycle/provision.js";
import { newId } from "../../src/modules/common/ids.js";
import { seedTenantFixture } from "../support/fixtures.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";

/**
 * What a job does when it runs again after its process died part-way: it
 * reports its own outcome, whatever the dead run already did. The runs of
 * the dead process are staged by calling the lifecycle work directly.
 */
describe("a job run again after a crash", () => {
  let gw: TestGateway;
  let control: pg.Client;

  /** A job's row as the dead process left it: RUNNING, its first attempt begun. */
  const deadRun = (kind: JobKind, tenantId: string, input: object): Promise<JobRow> =>
    gw.gateway.database.control.backgroundJob.create({
      data: {
        id: newId(),
        tenantId,
        kind,
        input,
        status: "RUNNING",
        attempts: 1,
        maxAttempts: 3,
        requestedBy: "test:jobs",
        startedAt: new Date(),
      },
    });

  beforeAll(async () => {
    gw = await startTestGateway("jobs-resumed", { redis: false });
    control = new pg.Client({ connectionString: gw.databaseUrl });
    await control.connect();
  });
  afterAll(async () => {
    await control?.end();
    await gw?.stop();
  });

  it("reports a move the dead run finished instead of refusing it as already done", async () => {
    const { tenantId } = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("moved"));
    const row = await deadRun(JobKind.MOVE, tenantId, { isolation: "SCHEMA" });
    const finished = await moveTenant(gw.gateway.lifecycle, tenantId, { isolation: "SCHEMA" }, "x");

    // Run as new, the move would be refused: the tenant lives there now.
    await expect(performJob(gw.gateway.lifecycle, row, false)).rejects.toThrow(GatewayError);
    const report = await performJob(gw.gateway.lifecycle, row, true);

    expect(report).toMatchObject({
      tenantId,
      from: "shared",
      to: finished.to,
      tables: finished.tables,
    });
  });

  it("finishes a move the dead run left fenced before the switch", async () => {
    const { tenantId } = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("fenced"));
    const row = await deadRun(JobKind.MOVE, tenantId, { isolation: "SCHEMA" });
    const target = `schema:tenant_${tenantId.replaceAll("-", "_")}`;
    await control.query(`UPDATE "Tenant" SET "movingTo" = $2 WHERE id = $1`, [tenantId, target]);
    await control.query(`INSERT INTO "TenantFence" ("tenantId", "movedTo") VALUES ($1, $2)`, [
      tenantId,
      target,
    ]);
    gw.gateway.database.placement.invalidate(tenantId);

    const report = await performJob(gw.gateway.lifecycle, row, true);

    expect(report).toMatchObject({ tenantId, from: "shared", to: target });
    const users = (report as { tables: { table: string; rows: number }[] }).tables.find(
      (t) => t.table === "User",
    );
    expect(users?.rows).toBe(8);
    const tenant = await gw.gateway.database.control.tenant.findUnique({ where: { id: tenantId } });
    expect(tenant).toMatchObject({ isolation: "SCHEMA", movingTo: null });
  });

  it("counts a tenant the dead run provisioned whole as created by the job", async () => {
    const id = uniqueTenantId("made");
    const input = { id, name: "Made", isolation: "SHARED" as const, adminEmail: `root@${id}.test` };
    const row = await deadRun(JobKind.PROVISION, id, input);
    const made = await provisionTenant(gw.gateway.lifecycle, input, "test:jobs");

    const outcome = await performJob(gw.gateway.lifecycle, row, true);

    expect(outcome).toEqual({
      tenantId: id,
      adminUser: { id: made.adminUser.id, email: `root@${id}.test`, name: "Administrator" },
      created: true,
    });
  });

  it("writes one archive per export job, clearing what the dead run left", async () => {
    const { tenantId } = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("spool"));
    const row = await deadRun(JobKind.EXPORT, tenantId, {});
    const exportDir = gw.gateway.lifecycle.exportDir;
    const first = (await performJob(gw.gateway.lifecycle, row, true)) as { file: string };
    // As the dead run could have left them: a spool folder and a half-written archive.
    await mkdir(join(exportDir, `.spool-${tenantId}-a1b2c3`), { recursive: true });
    await writeFile(join(exportDir, `${first.file}.partial-0badf00d`), "half");

    const again = (await performJob(gw.gateway.lifecycle, row, true)) as { file: string };

    expect(again.file).toBe(first.file);
    const left = (await readdir(exportDir)).filter((name) => name.includes(tenantId));
    expect(left).toEqual([first.file]);
  });
});
