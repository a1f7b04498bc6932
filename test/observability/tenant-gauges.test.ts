import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobStatus, TenantStatus } from "../../src/generated/prisma/enums.js";
import { newId } from "../../src/modules/common/ids.js";
import { startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { scrape } from "./prometheus-text.js";

const MINUTE_MS = 60_000;

/** A whole minute `minutesAgo` before now, as the health prober writes them. */
function minuteAgo(minutesAgo: number): Date {
  const now = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;

  return new Date(now - minutesAgo * MINUTE_MS);
}

describe("/metrics: per-tenant figures read from the control plane", () => {
  let gw: TestGateway;
  // Rows of the tables other parts fill are written here directly, so these
  // tests do not depend on the job queue, the storage API or the prober.
  const a = uniqueTenantId("gauges-a");
  const b = uniqueTenantId("gauges-b");
  const c = uniqueTenantId("gauges-c");
  /** A tenant id with queued jobs but no Tenant row: it must get no series. */
  const ghost = uniqueTenantId("gauges-ghost");

  beforeAll(async () => {
    // A short bound keeps the slow-database test short; reads here take milliseconds.
    gw = await startTestGateway("metrics-gauges", { env: { METRICS_READ_TIMEOUT_MS: "1000" } });
    const control = gw.gateway.database.control;
    await control.tenant.createMany({
      data: [a, b, c].map((id) => ({ id, name: id, status: TenantStatus.ACTIVE })),
    });
  });
  afterAll(() => gw?.stop());

  it("reports stored bytes by tenant and area", async () => {
    const file = (tenantId: string, area: string, path: string, bytes: number) => ({
      tenantId,
      area,
      path,
      bytes: BigInt(bytes),
      contentType: "application/octet-stream",
      sha256: "0".repeat(64),
    });
    await gw.gateway.database.control.storedFile.createMany({
      data: [
        file(a, "user-uploads", "a.txt", 100),
        file(a, "user-uploads", "b.txt", 250),
        file(a, "ai-outputs", "c.json", 7),
        file(b, "challenge-data", "d.csv", 6_000_000_000),
      ],
    });

    const metrics = await scrape(gw.url);
    expect(metrics.value("gateway_storage_bytes", { tenant: a, area: "user-uploads" })).toBe(350);
    expect(metrics.value("gateway_storage_bytes", { tenant: a, area: "ai-outputs" })).toBe(7);
    expect(metrics.value("gateway_storage_bytes", { tenant: b, area: "challenge-data" })).toBe(
      6_000_000_000,
    );
    expect(metrics.matching("gateway_storage_bytes", { tenant: c })).toEqual([]);
  });

  it("reports queued jobs by kind, the oldest one's age and recent waits", async () => {
    const control = gw.gateway.database.control;
    const now = Date.now();
    const job = (tenantId: string, kind: string, status: JobStatus, agoMs: number) => ({
      id: newId(),
      tenantId,
      kind,
      status,
      requestedBy: "test",
      createdAt: new Date(now - agoMs),
    });
    await control.backgroundJob.createMany({
      data: [
        job(a, "export", JobStatus.QUEUED, 10 * MINUTE_MS),
        job(a, "export", JobStatus.QUEUED, 2 * MINUTE_MS),
        job(a, "export", JobStatus.QUEUED, 0),
        job(a, "import", JobStatus.QUEUED, MINUTE_MS),
        job(a, "export", JobStatus.RUNNING, 3 * MINUTE_MS),
        job(a, "export", JobStatus.SUCCEEDED, 5 * MINUTE_MS),
        job(ghost, "export", JobStatus.QUEUED, MINUTE_MS),
      ],
    });
    // Jobs that started in the last hour waited 30 s and 90 s; one from
    // yesterday is left out of the recent figure.
    const started = (waitSeconds: number, startedAgoMs: number) => ({
      ...job(b, "export", JobStatus.SUCCEEDED, startedAgoMs + waitSeconds * 1_000),
      startedAt: new Date(now - startedAgoMs),
      finishedAt: new Date(now - startedAgoMs + 1_000),
    });
    await control.backgroundJob.createMany({
      data: [
        started(30, 20 * MINUTE_MS),
        started(90, 10 * MINUTE_MS),
        started(600, 25 * 60 * MINUTE_MS),
      ],
    });

    const metrics = await scrape(gw.url);
    expect(metrics.value("gateway_job_queue_depth", { tenant: a, kind: "export" })).toBe(3);
    expect(metrics.value("gateway_job_queue_depth", { tenant: a, kind: "import" })).toBe(1);
    expect(metrics.matching("gateway_job_queue_depth", { tenant: b })).toEqual([]);
    // The oldest queued job was written ten minutes before the scrape.
    const oldest = metrics.value("gateway_job_wait_seconds", { tenant: a }) ?? 0;
    expect(oldest).toBeGreaterThanOrEqual(600);
    expect(oldest).toBeLessThan(3_600);
    expect(metrics.value("gateway_job_recent_wait_seconds", { tenant: b, stat: "average" })).toBe(
      60,
    );
    expect(metrics.value("gateway_job_recent_wait_seconds", { tenant: b, stat: "max" })).toBe(90);
    expect(metrics.matching("gateway_job_recent_wait_seconds", { tenant: a })).toEqual([]);
  });

  it("reports availability over 24 hours and whether the latest probe minute passed", async () => {
    const sample = (tenantId: string, minutesAgo: number, probes: number, failures: number) => ({
      tenantId,
      minute: minuteAgo(minutesAgo),
      probes,
      failures,
    });
    await gw.gateway.database.control.tenantHealthSample.createMany({
      data: [
        // a: up now; 9 of 12 probes passed today; yesterday's outage is older.
        sample(a, 2, 6, 0),
        sample(a, 60, 6, 3),
        sample(a, 30 * 60, 10, 10),
        // b: its latest minute had failures.
        sample(b, 1, 4, 1),
        sample(b, 3, 4, 0),
        // c: sampled only long ago, so whether it is up now is not known.
        sample(c, 45, 5, 0),
      ],
    });

    const metrics = await scrape(gw.url);
    expect(metrics.value("gateway_tenant_up", { tenant: a })).toBe(1);
    expect(metrics.value("gateway_tenant_up", { tenant: b })).toBe(0);
    expect(metrics.value("gateway_tenant_up", { tenant: c })).toBeUndefined();
    expect(metrics.value("gateway_tenant_availability_ratio", { tenant: a })).toBe(0.75);
    expect(metrics.value("gateway_tenant_availability_ratio", { tenant: b })).toBe(0.875);
    expect(metrics.value("gateway_tenant_availability_ratio", { tenant: c })).toBe(1);
  });

  it("gives tenants missing from the Tenant table no series", async () => {
    const metrics = await scrape(gw.url);

    expect(metrics.samples.filter((sample) => sample.labels.tenant === ghost)).toEqual([]);
    expect(metrics.value("gateway_metrics_tenant_figures_ok")).toBe(1);
  });

  it("answers without the figures when the control plane is too slow, then recovers", async () => {
    // Another session holds a lock the figures' read must wait for.
    const blocker = new pg.Client({ connectionString: gw.databaseUrl });
    await blocker.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query('LOCK TABLE "StoredFile" IN ACCESS EXCLUSIVE MODE');
      await gw.request("{ tenant { id } }", { tenant: a });

      const blocked = await scrape(gw.url);
      expect(blocked.value("gateway_metrics_tenant_figures_ok")).toBe(0);
      expect(blocked.matching("gateway_storage_bytes")).toEqual([]);
      // Counted series do not depend on the control plane.
      expect(blocked.sum("gateway_graphql_requests_total", { tenant: a })).toBe(1);
    } finally {
      await blocker.query("ROLLBACK").catch(() => undefined);
      await blocker.end();
    }

    const recovered = await scrape(gw.url);
    expect(recovered.value("gateway_metrics_tenant_figures_ok")).toBe(1);
    expect(recovered.value("gateway_storage_bytes", { tenant: a, area: "ai-outputs" })).toBe(7);
  });
});
