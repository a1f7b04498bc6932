import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../../src/modules/common/ids.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { JOB_FIELDS, openJobReader, type JobAnswer, type JobReader } from "./job-support.js";

const PROVISION = `mutation ($input: ProvisionTenantInput!) {
  provisionTenant(input: $input) { adminUser { id email } }
}`;
const SUSPEND = `mutation ($id: ID!) { suspendTenant(id: $id) { status } }`;
const DEPROVISION = `mutation ($id: ID!) { deprovisionTenant(id: $id) }`;
const TENANT_JOBS = `query { tenantJobs(first: 100) { ${JOB_FIELDS} } }`;
const JOB = `query ($id: ID!) { job(id: $id) { ${JOB_FIELDS} } }`;
const JOBS = `query ($tenantId: ID) { jobs(tenantId: $tenantId, first: 100) { ${JOB_FIELDS} } }`;

/**
 * A tenant id used again after its tenant was removed: the new tenant sees
 * none of the old one's jobs, which named its admin and what was done to it.
 */
describe("a tenant id provisioned again after deprovisioning", () => {
  let gw: TestGateway;
  let reader: JobReader;
  let staff: string;
  const id = uniqueTenantId("del-one");
  let oldJobId: string;
  let newAdmin: string;

  const asStaff = <T>(query: string, variables?: Record<string, unknown>) =>
    gw.request<T>(query, { token: staff, variables });
  const asNewAdmin = <T>(query: string, variables?: Record<string, unknown>) =>
    gw.request<T>(query, { tenant: id, token: newAdmin, variables });
  const provision = async (adminEmail: string) => {
    const res = await asStaff<{ provisionTenant: { adminUser: { id: string } } }>(PROVISION, {
      input: { id, name: "Del One", isolation: "SHARED", adminEmail },
    });
    expect(res.body.errors).toBeUndefined();
    return res.body.data!.provisionTenant.adminUser.id;
  };

  beforeAll(async () => {
    gw = await startTestGateway("jobs-reused-id");
    reader = await openJobReader(gw.databaseUrl);
    staff = await gw.globalAdminToken();

    await provision("a@del.test");
    const [old] = await reader.jobs(id);
    oldJobId = old!.id;
    expect((await asStaff(SUSPEND, { id })).body.errors).toBeUndefined();
    expect((await asStaff(DEPROVISION, { id })).body.errors).toBeUndefined();
    const adminId = await provision("new@newcustomer.test");
    newAdmin = await gw.tokenFor(id, adminId);
  });
  afterAll(async () => {
    await reader?.close();
    await gw?.stop();
  });

  it("removes the old tenant's job rows with it, and audits how many", async () => {
    expect(await reader.job(oldJobId)).toBeNull();
    const removal = await gw.gateway.database.control.platformAuditLog.findFirstOrThrow({
      where: { tenantId: id, action: "tenant.deprovision" },
    });
    expect(removal.detail).toMatchObject({ jobs: 1 });
  });

  it("shows the new admin only the new tenant's jobs", async () => {
    const res = await asNewAdmin<{ tenantJobs: JobAnswer[] }>(TENANT_JOBS);

    expect(res.body.errors).toBeUndefined();
    const jobs = res.body.data!.tenantJobs;
    expect(jobs.map((job) => job.id)).not.toContain(oldJobId);
    expect(jobs.map((job) => [job.kind, job.result?.adminUser])).toEqual([
      ["PROVISION", expect.objectContaining({ email: "new@newcustomer.test" })],
    ]);
    expect(JSON.stringify(jobs)).not.toContain("a@del.test");
    expect((await asNewAdmin(JOB, { id: oldJobId })).body).toEqual({ data: { job: null } });
  });

  it("hides from the new tenant a job row of the old one that outlived it", async () => {
    // As a removal before job rows went with the tenant left them.
    const removal = await gw.gateway.database.control.platformAuditLog.findFirstOrThrow({
      where: { tenantId: id, action: "tenant.deprovision" },
    });
    const leftover = newId();
    await reader.query(
      `INSERT INTO "BackgroundJob" (id, "tenantId", kind, status, input, result, "maxAttempts",
         "requestedBy", "createdAt", "finishedAt")
       VALUES ($1, $2, 'PROVISION', 'SUCCEEDED', '{}', $3, 1, 'platform:staff-1', $4, $4)`,
      [
        leftover,
        id,
        JSON.stringify({ tenantId: id, adminUser: { email: "a@del.test" }, created: true }),
        new Date(removal.createdAt.getTime() - 1_000),
      ],
    );

    const listed = await asNewAdmin<{ tenantJobs: JobAnswer[] }>(TENANT_JOBS);
    const single = await asNewAdmin(JOB, { id: leftover });

    expect(listed.body.errors).toBeUndefined();
    expect(listed.body.data!.tenantJobs.map((job) => job.id)).not.toContain(leftover);
    expect(JSON.stringify(listed.body)).not.toContain("a@del.test");
    expect(single.body).toEqual({ data: { job: null } });
    // Staff keep the id's whole record.
    const all = await asStaff<{ jobs: JobAnswer[] }>(JOBS, { tenantId: id });
    expect(all.body.data?.jobs.map((job) => job.id)).toContain(leftover);
    expect((await asStaff<{ job: JobAnswer }>(JOB, { id: leftover })).body.data?.job?.id).toBe(
      leftover,
    );
  });
});
