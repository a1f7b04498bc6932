import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueDevelopmentToken } from "../../src/auth/index.js";
import { periodOf } from "../../src/telemetry/index.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import {
  TEST_JWT_SECRET,
  codesOf,
  startTestGateway,
  uniqueTenantId,
  type TestGateway,
} from "../support/gateway.js";
import { startGatewayProcess, type GatewayProcess } from "../support/gateway-process.js";

/** Served without error: one object, cost 1. */
const READ = "query Read { tenant { id } }";
/** Runs and fails on its one field: FORBIDDEN for a member, cost 1. */
const FORBIDDEN_WRITE =
  'mutation CreateChallenge { createChallenge(input: { title: "No" }) { id } }';
/** Fails validation, so it never runs: cost 0, and not billed. */
const INVALID = "query Tenant { tenant { nope } }";

/**
 * Two gateway processes on one database and one Redis, each counting in
 * memory and adding its counts to the same rows: the monthly usage that
 * billing reads must be the exact sum of what both served.
 */
describe("usage counted by two gateway processes", () => {
  let gw: TestGateway;
  let tenant: TenantFixture;
  let processes: GatewayProcess[];
  let memberToken: string;
  const madeUp = uniqueTenantId("made-up");

  // What each process is sent: reads, failing writes, invalid documents.
  const PLAN = [
    { reads: 23, forbidden: 4, invalid: 2 },
    { reads: 17, forbidden: 3, invalid: 5 },
  ] as const;
  const total = (key: keyof (typeof PLAN)[number]) => PLAN[0][key] + PLAN[1][key];

  beforeAll(async () => {
    // The in-process gateway owns the database; the processes join it.
    gw = await startTestGateway("usage-counts", {
      env: { HEALTH_PROBE_MS: "0", TELEMETRY_FLUSH_MS: "600000" },
    });
    const env = { RATE_LIMITS: "false", TELEMETRY_FLUSH_MS: "150", HEALTH_PROBE_MS: "200" };
    // The processes start (several seconds) while the tenant is made.
    [tenant, ...processes] = await Promise.all([
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("usage")),
      startGatewayProcess({ databaseUrl: gw.databaseUrl, env }),
      startGatewayProcess({ databaseUrl: gw.databaseUrl, env }),
    ]);
    memberToken = await issueDevelopmentToken(TEST_JWT_SECRET, {
      sub: tenant.users.member,
      tid: tenant.tenantId,
    });

    await Promise.all(
      processes.map(async (process, index) => {
        const plan = PLAN[index]!;
        const send = (query: string) => process.request(query, { token: memberToken });
        // Side by side within a process, so flushes meet requests in flight.
        const answers = await Promise.all([
          ...Array.from({ length: plan.reads }, () => send(READ)),
          ...Array.from({ length: plan.forbidden }, () => send(FORBIDDEN_WRITE)),
          ...Array.from({ length: plan.invalid }, () => send(INVALID)),
        ]);
        const codes = answers.map((answer) => codesOf(answer)[0] ?? "ok");
        expect(codes.filter((code) => code === "ok")).toHaveLength(plan.reads);
        expect(codes.filter((code) => code === "FORBIDDEN")).toHaveLength(plan.forbidden);
        expect(codes.filter((code) => code === "BAD_USER_INPUT")).toHaveLength(plan.invalid);

        // A tenant nobody registered: refused before any counting.
        const unknown = await process.request(READ, { tenant: madeUp });
        expect(codesOf(unknown)).toEqual(["TENANT_NOT_FOUND"]);
      }),
    );
    // Stopping flushes what each process still holds.
    await Promise.all(processes.map((process) => process.stop()));
  });

  afterAll(async () => {
    await Promise.all((processes ?? []).map((process) => process.stop()));
    await gw?.stop();
  });

  it("sums both processes' billable requests, errors and query cost exactly into the month", async () => {
    const rows = await gw.gateway.database.control.tenantUsagePeriod.findMany({
      where: { tenantId: tenant.tenantId },
    });

    expect(rows).toHaveLength(1);
    expect(rows[0]?.period).toBe(periodOf(Date.now()));
    // Invalid documents never ran: they are not billed.
    expect(Number(rows[0]?.requests)).toBe(total("reads") + total("forbidden"));
    expect(Number(rows[0]?.errors)).toBe(total("forbidden"));
    // Reads and the refused write ran at cost 1; invalid documents never ran.
    expect(Number(rows[0]?.queryCost)).toBe(total("reads") + total("forbidden"));
  });

  it("sums the same counts into the five-minute windows, with one latency count per request", async () => {
    const windows = await gw.gateway.database.control.tenantTraffic.findMany({
      where: { tenantId: tenant.tenantId },
    });
    const sum = (pick: (w: (typeof windows)[number]) => number) =>
      windows.reduce((acc, w) => acc + pick(w), 0);
    const requests = total("reads") + total("forbidden") + total("invalid");

    expect(sum((w) => w.requests)).toBe(requests);
    expect(sum((w) => w.errors)).toBe(total("forbidden") + total("invalid"));
    // Both are the client's errors, not the platform's.
    expect(sum((w) => w.failures)).toBe(0);
    expect(sum((w) => w.latencyCounts.reduce((a, b) => a + b, 0))).toBe(requests);
    expect(sum((w) => w.durationMsSum)).toBeGreaterThan(0);
  });

  it("gives the same error from both processes one fingerprint, counted once per occurrence", async () => {
    const clusters = await gw.gateway.database.control.errorCluster.findMany({
      where: { operation: { in: ["CreateChallenge", "Tenant"] } },
      include: { tenants: true },
    });

    expect(clusters.map((c) => [c.operation, c.code, Number(c.count)]).sort()).toEqual([
      ["CreateChallenge", "FORBIDDEN", total("forbidden")],
      ["Tenant", "BAD_USER_INPUT", total("invalid")],
    ]);
    for (const cluster of clusters) {
      expect(cluster.tenants.map((share) => [share.tenantId, share.count])).toEqual([
        [tenant.tenantId, cluster.count],
      ]);
    }
  });

  it("writes no row for a tenant id a caller made up", async () => {
    const control = gw.gateway.database.control;
    const registered = new Set((await control.tenant.findMany()).map((t) => t.id));
    const counted = [
      ...(await control.tenantTraffic.findMany()),
      ...(await control.tenantUsagePeriod.findMany()),
      ...(await control.errorClusterTenant.findMany()),
      ...(await control.tenantHealthSample.findMany()),
    ].map((row) => row.tenantId);

    expect(counted.filter((id) => !registered.has(id))).toEqual([]);
    expect(counted).not.toContain(madeUp);
    expect(await control.errorCluster.count({ where: { code: "TENANT_NOT_FOUND" } })).toBe(0);
  });

  it("probes the tenant's database on each process's own timer", async () => {
    const samples = await gw.gateway.database.control.tenantHealthSample.findMany({
      where: { tenantId: tenant.tenantId },
    });
    const probes = samples.reduce((sum, s) => sum + s.probes, 0);

    expect(probes).toBeGreaterThanOrEqual(1);
    expect(samples.reduce((sum, s) => sum + s.failures, 0)).toBe(0);
  });
});
