import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Isolation } from "../../src/generated/prisma/enums.js";
import { periodOf, quantileOf, TRAFFIC_WINDOW_MS, windowStart } from "../../src/telemetry/index.js";
import { seedTenantFixture, type TenantFixture } from "../support/fixtures.js";
import { AdminTrafficDocument } from "../generated/graphql.js";
import {
  codesOf,
  execute,
  startTestGateway,
  uniqueTenantId,
  type TestGateway,
} from "../support/gateway.js";

const BILLING = `{
  adminTenants {
    id
    billingState { plan period overage lines { metric used included over } }
    usageReport { period requests errors queryCost storageBytes databaseBytes connections }
  }
}`;

const TRAFFIC = `query ($hours: Int, $tenantIds: [ID!]) {
  adminTraffic(hours: $hours, tenantIds: $tenantIds) {
    tenantId points { at requests errors p95LatencyMs }
  }
}`;

interface BillingLine {
  metric: string;
  used: number;
  included: number;
  over: number;
}

interface Row {
  id: string;
  billingState: { plan: string; period: string; overage: boolean; lines: BillingLine[] };
  usageReport: { databaseBytes: number | null; connections: number | null; requests: number };
}

interface Series {
  tenantId: string;
  points: { at: string; requests: number; errors: number; p95LatencyMs: number | null }[];
}

describe("the admin views", () => {
  let gw: TestGateway;
  let small: TenantFixture;
  let roomy: TenantFixture;
  let boxed: TenantFixture;
  let quiet: TenantFixture;
  let staff: string;

  async function asStaff<T>(query: string, variables?: Record<string, unknown>, tenant?: string) {
    const res = await gw.request<T>(query, { token: staff, variables, tenant });
    return res;
  }

  async function billingRows(): Promise<Map<string, Row>> {
    const res = await asStaff<{ adminTenants: Row[] }>(BILLING);
    expect(res.body.errors).toBeUndefined();
    return new Map((res.body.data?.adminTenants ?? []).map((row) => [row.id, row]));
  }

  /** Sends `count` reads as the tenant's member: each counts one request. */
  async function readAs(tenant: TenantFixture, count: number, failing = 0) {
    const token = await gw.tokenFor(tenant.tenantId, tenant.users.member);
    for (let i = 0; i < count; i += 1) {
      const res = await gw.request("{ tenant { id } }", { token });
      expect(res.body.errors).toBeUndefined();
    }
    for (let i = 0; i < failing; i += 1) {
      const res = await gw.request('mutation { createChallenge(input: { title: "x" }) { id } }', {
        token,
      });
      expect(codesOf(res)).toEqual(["FORBIDDEN"]);
    }
  }

  beforeAll(async () => {
    gw = await startTestGateway("admin-views", {
      env: { RATE_LIMITS: "false", HEALTH_PROBE_MS: "0", TELEMETRY_FLUSH_MS: "600000" },
    });
    [small, roomy, boxed, quiet] = await Promise.all([
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("small")),
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("roomy")),
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("boxed"), {
        isolation: Isolation.SCHEMA,
      }),
      seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId("quiet")),
    ]);
    staff = await gw.globalAdminToken();

    // A custom deal for `small`: 5 requests a month and 100 bytes of files.
    // The change is staff's request in the tenant: traffic, but not billed.
    const limited = await asStaff(
      `mutation { updateTenantConfig(input: { limits: { requestsPerMonth: 5, storageBytes: 100 } }) { id } }`,
      undefined,
      small.tenantId,
    );
    expect(limited.body.errors).toBeUndefined();
    const upgraded = await asStaff(
      `mutation { updateTenantConfig(input: { billing: { plan: "growth" } }) { id } }`,
      undefined,
      roomy.tenantId,
    );
    expect(upgraded.body.errors).toBeUndefined();

    await readAs(small, 6, 1);
    await readAs(roomy, 3, 2);
    await gw.gateway.telemetry.flush();
  });
  afterAll(() => gw?.stop());

  describe("billing state", () => {
    it("shows requests past the plan's included amount, with the tenant's own limit laid over it", async () => {
      const row = (await billingRows()).get(small.tenantId);

      expect(row?.billingState).toEqual({
        plan: "starter",
        period: periodOf(Date.now()),
        overage: true,
        lines: [
          { metric: "requests", used: 7, included: 5, over: 2 },
          { metric: "storageBytes", used: 0, included: 100, over: 0 },
        ],
      });
    });

    it("shows stored bytes past the included storage", async () => {
      await gw.gateway.database.control.storedFile.create({
        data: {
          tenantId: small.tenantId,
          area: "user-uploads",
          path: "big.bin",
          bytes: 150n,
          contentType: "application/octet-stream",
          sha256: "0".repeat(64),
        },
      });

      const lines = (await billingRows()).get(small.tenantId)?.billingState.lines;
      expect(lines?.find((line) => line.metric === "storageBytes")).toEqual({
        metric: "storageBytes",
        used: 150,
        included: 100,
        over: 50,
      });
    });

    it("includes the plan's monthly requests and shows no overage within them", async () => {
      const rows = await billingRows();

      expect(rows.get(roomy.tenantId)?.billingState).toMatchObject({
        plan: "growth",
        overage: false,
        lines: [
          { metric: "requests", used: 5, included: 1_000_000, over: 0 },
          { metric: "storageBytes", used: 0, included: 1024 ** 3, over: 0 },
        ],
      });
      expect(rows.get(quiet.tenantId)?.billingState.lines[0]).toEqual({
        metric: "requests",
        used: 0,
        included: 100_000,
        over: 0,
      });
    });
  });

  it("measures a SCHEMA tenant's database size as the size of its schema", async () => {
    const [expected] = await gw.gateway.database.control.$queryRawUnsafe<{ bytes: number }[]>(
      `SELECT sum(pg_total_relation_size(c.oid))::float8 AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'm') AND n.nspname = $1`,
      `tenant_${boxed.tenantId.replaceAll("-", "_")}`,
    );
    const usage = (await billingRows()).get(boxed.tenantId)?.usageReport;

    expect(expected?.bytes).toBeGreaterThan(0);
    expect(usage?.databaseBytes).toBe(expected?.bytes);
    expect(usage?.connections).toBeGreaterThanOrEqual(1);
  });

  describe("traffic series", () => {
    it("gives each tenant named its five-minute windows that had requests", async () => {
      const res = await execute(gw, AdminTrafficDocument, {
        token: staff,
        variables: {
          hours: 1,
          tenantIds: [roomy.tenantId, quiet.tenantId, uniqueTenantId("nobody")],
        },
      });
      expect(res.body.errors).toBeUndefined();
      const [busy, idle, ...rest] = res.body.data?.adminTraffic ?? [];

      // An id no tenant has is left out; a tenant without requests has no points.
      expect(rest).toEqual([]);
      expect(idle).toEqual({ tenantId: quiet.tenantId, points: [] });
      expect(busy?.tenantId).toBe(roomy.tenantId);
      const windows = await gw.gateway.database.control.tenantTraffic.findMany({
        where: { tenantId: roomy.tenantId },
        orderBy: { windowStart: "asc" },
      });
      expect(busy?.points).toEqual(
        windows.map((w) => ({
          at: w.windowStart.toISOString(),
          requests: w.requests,
          errors: w.errors,
          failures: w.failures,
          p95LatencyMs: quantileOf(w.latencyCounts, 0.95),
        })),
      );
      const sum = (key: "requests" | "errors") =>
        busy?.points.reduce((total, point) => total + point[key], 0);
      expect(sum("requests")).toBe(6);
      expect(sum("errors")).toBe(2);
      for (const point of busy?.points ?? []) {
        expect(Date.parse(point.at) % TRAFFIC_WINDOW_MS).toBe(0);
      }
    });

    it("leaves out windows older than the hours asked for", async () => {
      const control = gw.gateway.database.control;
      const hoursAgo = (hours: number) =>
        windowStart(Date.now() - hours * 3_600_000, TRAFFIC_WINDOW_MS);
      await control.tenantTraffic.createMany({
        data: [3, 30].map((hours) => ({
          tenantId: quiet.tenantId,
          windowStart: hoursAgo(hours),
          requests: hours,
          latencyCounts: [hours],
        })),
      });
      const pointsOver = async (hours: number) => {
        const res = await asStaff<{ adminTraffic: Series[] }>(TRAFFIC, {
          hours,
          tenantIds: [quiet.tenantId],
        });
        return res.body.data?.adminTraffic[0]?.points.map((p) => p.requests);
      };

      expect(await pointsOver(1)).toEqual([]);
      expect(await pointsOver(4)).toEqual([3]);
      expect(await pointsOver(31)).toEqual([30, 3]);
      await control.tenantTraffic.deleteMany({ where: { tenantId: quiet.tenantId } });
    });

    it("lists every tenant with traffic when none is named, and only those", async () => {
      const res = await asStaff<{ adminTraffic: Series[] }>(TRAFFIC, {});
      const ids = res.body.data?.adminTraffic.map((series) => series.tenantId) ?? [];

      expect(ids).toEqual([roomy.tenantId, small.tenantId].sort());
    });

    it("refuses hours outside 1..168 and malformed tenant ids with BAD_USER_INPUT", async () => {
      for (const [variables, field] of [
        [{ hours: 0 }, "hours"],
        [{ hours: 169 }, "hours"],
        [{ tenantIds: ["Bad Id"] }, "tenantIds"],
      ] as const) {
        const res = await asStaff(TRAFFIC, variables);
        expect(codesOf(res)).toEqual(["BAD_USER_INPUT"]);
        expect(res.body.errors?.[0]?.extensions?.field).toBe(field);
      }
    });
  });

  it("reads the health and billing views in a fixed number of statements, however many tenants", async () => {
    const statements = async (query: string) => {
      const before = gw.gateway.database.statements.count;
      const res = await asStaff(query);
      expect(res.body.errors).toBeUndefined();
      return gw.gateway.database.statements.count - before;
    };
    const views = `{ adminTenants { id
      healthReport { requestsLastHour uptime24h lastError { code } }
      billingState { overage } } }`;
    // `health` probes each tenant's data (a few statements per tenant), and
    // so does healthReport for `databaseReachable`: what the views add on
    // top of that is what is measured.
    const cost = async () =>
      (await statements(views)) - (await statements("{ adminTenants { id health } }"));

    const listing = "{ adminTenants { id name status plan: billing } }";

    const withFour = { views: await cost(), listing: await statements(listing) };
    await Promise.all(
      [1, 2, 3].map((n) => seedTenantFixture(gw.gateway.lifecycle, uniqueTenantId(`more${n}`))),
    );
    const withSeven = { views: await cost(), listing: await statements(listing) };

    process.stdout.write(
      `admin views: ${withFour.views} statements for 4 tenants, ${withSeven.views} for 7\n`,
    );
    expect(withSeven).toEqual(withFour);
    // One grouped read per view: traffic, uptime, last errors, usage, files.
    expect(withFour.views).toBe(5);
    // A listing that selects no health or usage reads no tenant's data: the
    // tenants, their configurations and the audit row.
    expect(withFour.listing).toBe(3);
  });

  it("is refused to tenant admins and members", async () => {
    for (const user of [small.users.admin, small.users.member]) {
      const token = await gw.tokenFor(small.tenantId, user);
      for (const query of [
        "{ adminTraffic { tenantId } }",
        "{ adminTenants { healthReport { status } } }",
      ]) {
        expect(codesOf(await gw.request(query, { token }))).toEqual(["FORBIDDEN"]);
      }
    }
  });
});
