import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TENANT_TABLES } from "../../src/data/placement/tenant-tables.js";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { LATENCY_BOUNDS_MS, addHistogram, quantileOf } from "../../src/telemetry/index.js";
import { TEST_SECOND_DATABASE_URL } from "../support/env.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { codesOf, startTestGateway, uniqueTenantId, type TestGateway } from "../support/gateway.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

const USERS = "query Users { users(first: 5) { edges { node { id } } } }";

const SUMMARIES = `{
  adminTenants {
    id health
    healthReport {
      status databaseReachable requestsLastHour errorsLastHour failuresLastHour errorRate
      p95LatencyMs uptime24h
      lastError { code message at fingerprint requestId }
    }
    usageReport { period requests errors queryCost storageBytes databaseBytes connections }
  }
}`;

interface Summary {
  id: string;
  health: string;
  healthReport: {
    status: string;
    databaseReachable: boolean;
    requestsLastHour: number;
    errorsLastHour: number;
    failuresLastHour: number;
    errorRate: number;
    p95LatencyMs: number | null;
    uptime24h: number | null;
    lastError: {
      code: string;
      message: string;
      at: string;
      fingerprint: string;
      requestId: string;
    } | null;
  };
  usageReport: {
    period: string;
    requests: number;
    errors: number;
    queryCost: number;
    storageBytes: number;
    databaseBytes: number | null;
    connections: number | null;
  };
}

const DAY_MS = 86_400_000;

/** The nearest-rank 95th percentile of `values`. */
function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(0.95 * sorted.length) - 1] as number;
}

/**
 * A DATABASE tenant on a server reached through a proxy the test cuts:
 * its database stops answering while the gateway keeps serving. Health
 * probes are run by hand (`telemetry.probe()`), so their count is known.
 */
describe("tenant health", () => {
  let gw: TestGateway;
  let proxy: TcpProxy;
  let flaky: TenantFixture;
  let steady: TenantFixture;
  let staff: string;
  let sequence = 0;
  const flakyDurations: number[] = [];
  let lastFailedRequestId = "";
  let summaries: Map<string, Summary>;
  let whileReachable: Map<string, Summary>;

  async function ask(tenant: TenantFixture, query: string) {
    sequence += 1;
    const requestId = `health-test-${sequence}`;
    const started = performance.now();
    const res = await gw.request(query, {
      tenant: tenant.tenantId,
      token: staff,
      headers: { "x-request-id": requestId },
    });

    return { res, requestId, durationMs: performance.now() - started };
  }

  async function adminTenants(): Promise<Map<string, Summary>> {
    const res = await gw.request<{ adminTenants: Summary[] }>(SUMMARIES, { token: staff });
    expect(res.body.errors).toBeUndefined();
    return new Map((res.body.data?.adminTenants ?? []).map((s) => [s.id, s]));
  }

  /** Rows a retention pass must remove, and rows just inside retention it must keep. */
  async function seedAgedRows(tenantId: string) {
    const control = gw.gateway.database.control;
    const ago = (days: number) => new Date(Date.now() - days * DAY_MS);
    await control.tenantTraffic.createMany({
      data: [36, 34].map((days) => ({
        tenantId,
        windowStart: ago(days),
        requests: 1,
        latencyCounts: [1],
      })),
    });
    await control.tenantHealthSample.createMany({
      data: [9, 7].map((days) => ({ tenantId, minute: ago(days), probes: 1 })),
    });
    for (const [fingerprint, days] of [
      ["aged-out", 31],
      ["aged-kept", 29],
    ] as const) {
      await control.errorCluster.create({
        data: {
          fingerprint,
          code: "NOT_FOUND",
          operation: "Old",
          path: "old",
          message: "old",
          count: 1,
          firstSeen: ago(days),
          lastSeen: ago(days),
          sampleRequestIds: [],
        },
      });
    }
  }

  beforeAll(async () => {
    const secondPort = Number(new URL(TEST_SECOND_DATABASE_URL).port);
    proxy = await startTcpProxy(secondPort);
    const proxied = new URL(TEST_SECOND_DATABASE_URL);
    proxied.port = String(proxy.port);
    gw = await startTestGateway("telemetry-health", {
      extraServers: [{ id: "flaky", region: "flaky", url: proxied.toString() }],
      // Probes on, but only when the test runs them; flushes only when asked.
      env: { RATE_LIMITS: "false", HEALTH_PROBE_MS: "3600000", TELEMETRY_FLUSH_MS: "600000" },
    });
    [flaky, steady] = await Promise.all([
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("flaky"), {
        isolation: Isolation.DATABASE,
        region: "flaky",
      }),
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("steady")),
    ]);
    staff = await gw.globalAdminToken();
    await seedAgedRows(steady.tenantId);

    // Served while the database answers, then probed twice (the first round also prunes).
    for (let i = 0; i < 12; i += 1) {
      const served = await ask(flaky, USERS);
      expect(served.res.body.errors).toBeUndefined();
      flakyDurations.push(served.durationMs);
      expect((await ask(steady, USERS)).res.body.errors).toBeUndefined();
    }
    await gw.gateway.telemetry.probe();
    await gw.gateway.telemetry.probe();
    await gw.gateway.telemetry.flush();
    whileReachable = await adminTenants();

    // The server stops answering: requests fail, probes fail.
    await proxy.cut();
    for (let i = 0; i < 4; i += 1) {
      const failed = await ask(flaky, USERS);
      expect(codesOf(failed.res)).toEqual(["INTERNAL_SERVER_ERROR"]);
      flakyDurations.push(failed.durationMs);
      lastFailedRequestId = failed.requestId;
    }
    await gw.gateway.telemetry.probe();
    await gw.gateway.telemetry.probe();
    await gw.gateway.telemetry.flush();
    summaries = await adminTenants();
  });

  afterAll(async () => {
    // Back up, so the tenant's database can be dropped.
    await proxy?.resume();
    await gw?.stop();
    await proxy?.close();
  });

  it("shows a tenant whose database stopped answering as unreachable, with its uptime", () => {
    const report = summaries.get(flaky.tenantId)?.healthReport;

    expect(summaries.get(flaky.tenantId)?.health).toBe("unreachable");
    expect(report).toMatchObject({
      status: "unreachable",
      databaseReachable: false,
      requestsLastHour: 16,
      errorsLastHour: 4,
      failuresLastHour: 4,
      errorRate: 0.25,
      uptime24h: 0.5,
    });
  });

  it("reports p95 latency from the requests' own durations", async () => {
    const report = summaries.get(flaky.tenantId)?.healthReport;
    const windows = await gw.gateway.database.control.tenantTraffic.findMany({
      where: { tenantId: flaky.tenantId },
    });
    const counts = windows.reduce<number[]>((sum, w) => addHistogram(sum, w.latencyCounts), []);

    expect(counts.reduce((a, b) => a + b, 0)).toBe(16);
    expect(report?.p95LatencyMs).toBe(quantileOf(counts, 0.95));
    // The gateway's own measure of a request lies inside the client's, so
    // the bucket holding the p95 starts below what the client measured.
    const bound = LATENCY_BOUNDS_MS.indexOf(report?.p95LatencyMs ?? -1);
    expect(bound).toBeGreaterThanOrEqual(0);
    expect(LATENCY_BOUNDS_MS[bound - 1] ?? 0).toBeLessThan(p95(flakyDurations));
  });

  it("names the last error, its cluster and the request that met it, without tenant data", async () => {
    const lastError = summaries.get(flaky.tenantId)?.healthReport.lastError;

    expect(lastError).toMatchObject({
      code: "INTERNAL_SERVER_ERROR",
      requestId: lastFailedRequestId,
    });
    const cluster = await gw.gateway.database.control.errorCluster.findUnique({
      where: { fingerprint: lastError?.fingerprint ?? "" },
      include: { tenants: true },
    });
    expect(cluster?.message).toBe(lastError?.message);
    expect(cluster?.tenants.map((t) => [t.tenantId, Number(t.count)])).toEqual([
      [flaky.tenantId, 4],
    ]);
    expect(cluster?.sampleRequestIds[0]).toBe(lastFailedRequestId);
    for (const secret of [
      flaky.tenantId,
      flaky.tenantId.replaceAll("-", "_"),
      String(proxy.port),
    ]) {
      expect(cluster?.message).not.toContain(secret);
    }
  });

  it("shows a healthy tenant as ok, fully up, with no error", () => {
    expect(summaries.get(steady.tenantId)?.healthReport).toEqual({
      status: "ok",
      databaseReachable: true,
      requestsLastHour: 12,
      errorsLastHour: 0,
      failuresLastHour: 0,
      errorRate: 0,
      p95LatencyMs: expect.any(Number),
      uptime24h: 1,
      lastError: null,
    });
  });

  it("measures a DATABASE tenant's database and its connections while it answers, null once it does not", async () => {
    const name = `ogc_tenant_${flaky.tenantId.replaceAll("-", "_")}`;
    const before = whileReachable.get(flaky.tenantId)?.usageReport;
    const direct = new pg.Client({ connectionString: TEST_SECOND_DATABASE_URL });
    await direct.connect();
    const size = await direct
      .query<{ bytes: string }>("SELECT pg_database_size($1)::text AS bytes", [name])
      .finally(() => direct.end());

    // The files of a database move by a page or two as PostgreSQL keeps its statistics.
    expect(Math.abs((before?.databaseBytes ?? 0) - Number(size.rows[0]?.bytes))).toBeLessThan(
      64 * 1024,
    );
    // Its own pool holds at most two connections, and one at least served the probes.
    expect(before?.connections).toBeGreaterThanOrEqual(1);
    expect(before?.connections).toBeLessThanOrEqual(2);

    // Staff made every request: traffic, not billable usage.
    expect(summaries.get(flaky.tenantId)?.usageReport).toMatchObject({
      requests: 0,
      errors: 0,
      databaseBytes: null,
      connections: null,
    });
  });

  it("measures a SHARED tenant's database size as the size of its rows", async () => {
    const control = gw.gateway.database.control;
    let bytes = 0;
    for (const { name } of TENANT_TABLES) {
      const [row] = await control.$queryRawUnsafe<{ bytes: number }[]>(
        `SELECT COALESCE(sum(pg_column_size(t.*)), 0)::float8 AS bytes FROM "${name}" t WHERE "tenantId" = $1`,
        steady.tenantId,
      );
      bytes += row?.bytes ?? 0;
    }
    const usage = summaries.get(steady.tenantId)?.usageReport;

    expect(bytes).toBeGreaterThan(0);
    expect(usage?.databaseBytes).toBe(bytes);
    expect(usage?.connections).toBeGreaterThanOrEqual(1);
  });

  it("prunes rows past their retention in the probe loop and keeps the rest", async () => {
    const control = gw.gateway.database.control;
    const days = (date: Date) => Math.round((Date.now() - date.getTime()) / DAY_MS);
    const traffic = await control.tenantTraffic.findMany({ where: { tenantId: steady.tenantId } });
    const health = await control.tenantHealthSample.findMany({
      where: { tenantId: steady.tenantId },
    });
    const clusters = await control.errorCluster.findMany({ where: { operation: "Old" } });

    // Today's rows may span two windows or minutes; only their age matters here.
    const ages = (dates: Date[]) => [...new Set(dates.map(days))].sort((a, b) => a - b);
    expect(ages(traffic.map((w) => w.windowStart))).toEqual([0, 34]);
    expect(ages(health.map((s) => s.minute))).toEqual([0, 7]);
    expect(clusters.map((c) => c.fingerprint)).toEqual(["aged-kept"]);
  });
});
