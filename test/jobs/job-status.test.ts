import { access } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  codesOf,
  startTestGateway,
  uniqueTenantId,
  type GraphQLResponse,
  type TestGateway,
} from "../support/gateway.js";
import {
  hasEnded,
  holdLifecycleLock,
  JOB_FIELDS,
  openJobReader,
  type JobAnswer,
  type JobReader,
} from "./job-support.js";

const JOB = `query ($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;
const START_EXPORT = `mutation ($id: ID!) { startExportTenant(id: $id) { ${JOB_FIELDS} } }`;
const START_MOVE = `mutation ($id: ID!, $isolation: Isolation!, $region: String) {
  startMoveTenant(id: $id, isolation: $isolation, region: $region) { ${JOB_FIELDS} }
}`;
const START_PROVISION = `mutation ($input: ProvisionTenantInput!) {
  startProvisionTenant(input: $input) { ${JOB_FIELDS} }
}`;
const PROVISION = `mutation ($input: ProvisionTenantInput!) {
  provisionTenant(input: $input) { tenant { id } }
}`;
const START_MIGRATE = `mutation ($tenantId: ID, $channel: String) {
  startMigrateTenants(tenantId: $tenantId, channel: $channel) { ${JOB_FIELDS} }
}`;
const JOBS = `query ($tenantId: ID, $status: JobStatus, $first: Int) {
  jobs(tenantId: $tenantId, status: $status, first: $first) { ${JOB_FIELDS} }
}`;
const TENANT_JOBS = `query ($first: Int) { tenantJobs(first: $first) { ${JOB_FIELDS} } }`;

describe("background jobs through GraphQL", () => {
  let gw: TestGateway;
  let reader: JobReader;
  let staff: string;
  let a: TenantFixture;
  let b: TenantFixture;

  const asStaff = <T>(query: string, variables?: Record<string, unknown>) =>
    gw.request<T>(query, { token: staff, variables });
  const startExport = async (id: string) => {
    const res = await asStaff<{ startExportTenant: JobAnswer }>(START_EXPORT, { id });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.startExportTenant;
  };
  const jobOf = async (id: string) =>
    (await asStaff<{ job: JobAnswer | null }>(JOB, { id })).body.data?.job ?? null;
  const settled = (id: string) => eventually(() => jobOf(id), hasEnded, 20_000);
  const jobCount = async () =>
    (await reader.query<{ n: number }>(`SELECT count(*)::int AS n FROM "BackgroundJob"`))[0]?.n;

  beforeAll(async () => {
    gw = await startTestGateway("jobs-status");
    reader = await openJobReader(gw.databaseUrl);
    staff = await gw.globalAdminToken();
    a = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("job-a"));
    b = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("job-b"));
  });
  afterAll(async () => {
    await reader?.close();
    await gw?.stop();
  });

  it("shows a job QUEUED, then RUNNING, then SUCCEEDED with what it did", async () => {
    const lock = await holdLifecycleLock(gw.databaseUrl, a.tenantId);
    let queued: JobAnswer;
    try {
      queued = await startExport(a.tenantId);
      expect(queued).toMatchObject({
        tenantId: a.tenantId,
        kind: "EXPORT",
        status: "QUEUED",
        attempts: 0,
        maxAttempts: 3,
        requestedBy: "platform:staff-1",
        startedAt: null,
        result: null,
        error: null,
      });

      // The export waits for the lock the test holds, mid-run.
      const running = await eventually(
        () => jobOf(queued.id),
        (job) => job?.status === "RUNNING",
      );
      expect(running).toMatchObject({ status: "RUNNING", attempts: 1, finishedAt: null });
      expect(running?.startedAt).not.toBeNull();
    } finally {
      await lock.release();
    }

    const done = await settled(queued.id);
    expect(done).toMatchObject({ status: "SUCCEEDED", attempts: 1, error: null });
    const result = done?.result as { tenantId: string; file: string; tables: { table: string }[] };
    expect(result.tenantId).toBe(a.tenantId);
    expect(result.tables.map((t) => t.table)).toContain("User");
    await access(join(gw.gateway.lifecycle.exportDir, result.file));
    expect(new Date(done!.finishedAt!).getTime()).toBeGreaterThanOrEqual(
      new Date(done!.startedAt!).getTime(),
    );
  });

  it("fails a deliberate refusal at once, with its code, message and field, without retrying", async () => {
    // Valid when queued; refused when it runs: the tenant is PROVISIONING by then.
    const c = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("job-c"));
    const lock = await holdLifecycleLock(gw.databaseUrl, c.tenantId);
    let queued: JobAnswer;
    try {
      queued = await startExport(c.tenantId);
      await eventually(
        () => jobOf(queued.id),
        (job) => job?.status === "RUNNING",
      );
      await reader.query(`UPDATE "Tenant" SET status = 'PROVISIONING' WHERE id = $1`, [c.tenantId]);
    } finally {
      await lock.release();
    }

    const failed = await settled(queued.id);

    expect(failed).toMatchObject({
      status: "FAILED",
      attempts: 1,
      maxAttempts: 3,
      result: null,
      error: {
        code: "BAD_USER_INPUT",
        message: `Tenant "${c.tenantId}" is still being provisioned; finish that first.`,
        field: "id",
      },
    });
    expect(failed?.finishedAt).not.toBeNull();
  });

  it("refuses a move to where the tenant lives, or while another move waits, before queueing it", async () => {
    const before = await jobCount();
    const here = await asStaff(START_MOVE, { id: a.tenantId, isolation: "SHARED" });
    const missing = await asStaff(START_MOVE, { id: "never-provisioned", isolation: "SCHEMA" });

    expect(codesOf(here)).toEqual(["BAD_USER_INPUT"]);
    expect(here.body.errors?.[0]).toMatchObject({
      message: `Tenant "${a.tenantId}" already lives there.`,
      extensions: { field: "isolation" },
    });
    expect(codesOf(missing)).toEqual(["TENANT_NOT_FOUND"]);
    expect(await jobCount()).toBe(before);

    // A second move while the first is queued: where the tenant will live is not known yet.
    const d = await seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("job-d"));
    const lock = await holdLifecycleLock(gw.databaseUrl, d.tenantId);
    let first: GraphQLResponse<{ startMoveTenant: JobAnswer }>;
    try {
      first = await asStaff(START_MOVE, { id: d.tenantId, isolation: "SCHEMA" });
      expect(first.body.errors).toBeUndefined();
      const second = await asStaff(START_MOVE, { id: d.tenantId, isolation: "SCHEMA" });

      expect(codesOf(second)).toEqual(["BAD_USER_INPUT"]);
      expect(second.body.errors?.[0]?.extensions?.field).toBe("id");
      expect(await jobCount()).toBe((before ?? 0) + 1);
    } finally {
      await lock.release();
    }
    expect(await settled(first.body.data!.startMoveTenant.id)).toMatchObject({
      status: "SUCCEEDED",
    });
    // Moved: the same move is now one to where it lives.
    const again = await asStaff(START_MOVE, { id: d.tenantId, isolation: "SCHEMA" });
    expect(again.body.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "isolation",
    });
  });

  it("refuses bad requests before queueing anything, and audits the refusals", async () => {
    const refusalsAudited = () =>
      gw.gateway.database.control.platformAuditLog.count({
        where: {
          action: {
            in: [
              "job.export.failed",
              "job.move.failed",
              "job.provision.failed",
              "job.migrate.failed",
            ],
          },
        },
      });
    const before = await jobCount();
    const auditedBefore = await refusalsAudited();
    const refusals: [GraphQLResponse, string, string | undefined][] = [
      [await asStaff(START_EXPORT, { id: "Not A Tenant!" }), "BAD_USER_INPUT", "id"],
      [await asStaff(START_EXPORT, { id: "never-provisioned" }), "TENANT_NOT_FOUND", undefined],
      [
        await asStaff(START_MOVE, { id: a.tenantId, isolation: "DATABASE", region: "mars" }),
        "BAD_USER_INPUT",
        "region",
      ],
      [
        await asStaff(START_MOVE, { id: a.tenantId, isolation: "SHARED" }),
        "BAD_USER_INPUT",
        "isolation",
      ],
      [
        await asStaff(START_PROVISION, {
          input: { id: uniqueTenantId("new"), name: "N", isolation: "SHARED", adminEmail: "nope" },
        }),
        "BAD_USER_INPUT",
        "adminEmail",
      ],
      [
        await asStaff(START_MIGRATE, { tenantId: a.tenantId, channel: "stable" }),
        "BAD_USER_INPUT",
        "channel",
      ],
      [
        await asStaff(START_MIGRATE, { tenantId: "never-provisioned" }),
        "TENANT_NOT_FOUND",
        undefined,
      ],
    ];

    for (const [res, code, field] of refusals) {
      expect(codesOf(res)).toEqual([code]);
      expect(res.body.errors?.[0]?.extensions?.field).toBe(field);
      expect(res.body.data ?? null).toBeNull();
    }
    expect(await jobCount()).toBe(before);
    expect(await refusalsAudited()).toBe(auditedBefore + refusals.length);
  });

  it("provisions a tenant as a job, and audits who queued it", async () => {
    const id = uniqueTenantId("queued");
    const res = await asStaff<{ startProvisionTenant: JobAnswer }>(START_PROVISION, {
      input: { id, name: "Queued", isolation: "SCHEMA", adminEmail: `root@${id}.test` },
    });
    expect(res.body.errors).toBeUndefined();
    const job = res.body.data!.startProvisionTenant;

    const done = await settled(job.id);

    expect(done).toMatchObject({ tenantId: id, kind: "PROVISION", status: "SUCCEEDED" });
    const admin = await gw.gateway.database.forTenant(id).user.findFirstOrThrow({
      where: { tenantId: id, email: `root@${id}.test` },
    });
    expect(done?.result).toEqual({
      tenantId: id,
      adminUser: { id: admin.id, email: `root@${id}.test`, name: "Administrator" },
      created: true,
    });
    const tenant = await gw.gateway.database.control.tenant.findUnique({ where: { id } });
    expect(tenant).toMatchObject({ status: "ACTIVE", isolation: "SCHEMA" });
    const audit = await gw.gateway.database.control.platformAuditLog.findFirst({
      where: { tenantId: id, action: "job.provision" },
    });
    expect(audit).toMatchObject({ actorId: "platform:staff-1", detail: { jobId: job.id } });
  });

  it("refuses to provision an existing tenant with other settings before queueing anything", async () => {
    const id = uniqueTenantId("again");
    const input = { id, name: "Again", isolation: "SHARED", adminEmail: `root@${id}.test` };
    const first = await asStaff<{ startProvisionTenant: JobAnswer }>(START_PROVISION, { input });
    expect(first.body.errors).toBeUndefined();
    const made = await settled(first.body.data!.startProvisionTenant.id);
    expect(made).toMatchObject({ status: "SUCCEEDED", result: { created: true } });
    const admin = (made?.result as { adminUser: { id: string } }).adminUser.id;
    const recorded = await reader.jobs(id);

    const others: [Record<string, string>, string][] = [
      [{ ...input, isolation: "SCHEMA" }, "id"],
      [{ ...input, name: "Other" }, "name"],
      [{ ...input, adminEmail: `other@${id}.test` }, "adminEmail"],
    ];
    for (const [other, field] of others) {
      // Queued or run at once, the request is refused as the work would refuse it.
      const queued = await asStaff(START_PROVISION, { input: other });
      const run = await asStaff(PROVISION, { input: other });
      for (const res of [queued, run]) {
        expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
        expect(res.body.errors?.[0]?.extensions?.field).toBe(field);
        expect(res.body.data ?? null).toBeNull();
      }
    }

    // No row of a refusal: the tenant's admin sees only the job that made the tenant.
    expect(await reader.jobs(id)).toEqual(recorded);
    const seen = await gw.request<{ tenantJobs: JobAnswer[] }>(TENANT_JOBS, {
      tenant: id,
      token: await gw.tokenFor(id, admin),
    });
    expect(seen.body.errors).toBeUndefined();
    expect(seen.body.data?.tenantJobs.map((job) => job.id)).toEqual([made?.id]);

    // The same request again is a retry: queued, and it changes nothing.
    const again = await asStaff<{ startProvisionTenant: JobAnswer }>(START_PROVISION, { input });
    expect(again.body.errors).toBeUndefined();
    expect(await settled(again.body.data!.startProvisionTenant.id)).toMatchObject({
      status: "SUCCEEDED",
      result: { tenantId: id, adminUser: { id: admin }, created: false },
    });
  });

  it("queues one MIGRATE job per tenant of a release channel", async () => {
    const canary = [uniqueTenantId("canary"), uniqueTenantId("canary")].sort();
    for (const id of canary) {
      await seedTenantFixture(gw.gateway.lifecycle, id, {
        isolation: "SCHEMA",
        releaseChannel: "canary",
      });
    }

    const res = await asStaff<{ startMigrateTenants: JobAnswer[] }>(START_MIGRATE, {
      channel: "canary",
    });

    expect(res.body.errors).toBeUndefined();
    const jobs = res.body.data!.startMigrateTenants;
    expect(jobs.map((job) => [job.tenantId, job.kind]).sort()).toEqual(
      canary.map((id) => [id, "MIGRATE"]),
    );
    for (const job of jobs) {
      const done = await settled(job.id);
      const tenant = await gw.gateway.database.control.tenant.findUniqueOrThrow({
        where: { id: job.tenantId },
      });
      expect(done).toMatchObject({
        status: "SUCCEEDED",
        result: { tenantId: job.tenantId, ok: true },
      });
      expect(done?.result?.version).toBe(tenant.schemaVersion);
    }
  });

  it("records the synchronous provisionTenant as a job of one attempt", async () => {
    const id = uniqueTenantId("sync");
    const res = await asStaff<{ provisionTenant: { adminUser: { id: string } } }>(
      `mutation ($input: ProvisionTenantInput!) { provisionTenant(input: $input) { adminUser { id } } }`,
      { input: { id, name: "Sync", isolation: "SHARED", adminEmail: `root@${id}.test` } },
    );
    expect(res.body.errors).toBeUndefined();

    const [row, ...others] = await reader.jobs(id);

    expect(others).toEqual([]);
    expect(row).toMatchObject({
      kind: "PROVISION",
      status: "SUCCEEDED",
      attempts: 1,
      maxAttempts: 1,
    });
    expect(row?.result).toMatchObject({
      tenantId: id,
      adminUser: { id: res.body.data!.provisionTenant.adminUser.id },
    });
  });

  describe("who sees which job", () => {
    let jobOfA: JobAnswer;
    let jobOfB: JobAnswer;
    let adminOfA: string;

    beforeAll(async () => {
      jobOfA = await startExport(a.tenantId);
      jobOfB = await startExport(b.tenantId);
      await settled(jobOfA.id);
      await settled(jobOfB.id);
      adminOfA = await gw.tokenFor(a.tenantId, a.users.admin);
    });
    const asAdminOfA = <T>(query: string, variables?: Record<string, unknown>) =>
      gw.request<T>(query, { tenant: a.tenantId, token: adminOfA, variables });

    it("shows a tenant admin the tenant's own job, without the staff member's id", async () => {
      const own = await asAdminOfA<{ job: JobAnswer }>(JOB, { id: jobOfA.id });

      expect(own.body.errors).toBeUndefined();
      expect(own.body.data?.job).toMatchObject({
        id: jobOfA.id,
        tenantId: a.tenantId,
        status: "SUCCEEDED",
        requestedBy: "platform",
      });
    });

    it("answers null for another tenant's job, as for one that does not exist", async () => {
      const foreign = await asAdminOfA(JOB, { id: jobOfB.id });
      const missing = await asAdminOfA(JOB, { id: "00000000-0000-7000-8000-000000000000" });

      expect(foreign.body).toEqual({ data: { job: null } });
      expect(missing.body).toEqual(foreign.body);
    });

    it("lists the tenant's jobs, newest first, for its admin", async () => {
      const res = await asAdminOfA<{ tenantJobs: JobAnswer[] }>(TENANT_JOBS, { first: 100 });

      expect(res.body.errors).toBeUndefined();
      const listed = res.body.data!.tenantJobs;
      const stored = await gw.gateway.database.control.backgroundJob.findMany({
        where: { tenantId: a.tenantId },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      });
      expect(listed.map((job) => job.id)).toEqual(stored.map((row) => row.id));
      expect(listed.every((job) => job.tenantId === a.tenantId)).toBe(true);
    });

    it("refuses job status to a tenant member without config:write", async () => {
      const member = await gw.tokenFor(a.tenantId, a.users.member);
      const res = await gw.request(JOB, {
        tenant: a.tenantId,
        token: member,
        variables: { id: jobOfA.id },
      });

      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    });

    it("lists any tenant's jobs for staff, filtered by status", async () => {
      const res = await asStaff<{ jobs: JobAnswer[] }>(JOBS, {
        tenantId: b.tenantId,
        status: "SUCCEEDED",
      });

      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.jobs.map((job) => job.id)).toContain(jobOfB.id);
      expect(res.body.data?.jobs.every((job) => job.tenantId === b.tenantId)).toBe(true);
      expect(res.body.data?.jobs.every((job) => job.status === "SUCCEEDED")).toBe(true);
    });

    it("keeps `first` from 1 to 100", async () => {
      for (const first of [0, 101]) {
        const res = await asStaff(JOBS, { first });
        expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
        expect(res.body.errors?.[0]?.extensions?.field).toBe("first");
      }
    });

    it("refuses a tenantId that is not a tenant id, naming it", async () => {
      for (const tenantId of ["../../x", "Not A Tenant!", ""]) {
        const res = await asStaff(JOBS, { tenantId });
        expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
        expect(res.body.errors?.[0]?.extensions?.field).toBe("tenantId");
        expect(res.body.data ?? null).toBeNull();
      }
    });
  });
});
