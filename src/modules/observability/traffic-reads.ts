import type { PrismaClient } from "../../generated/prisma/client.js";
import {
  addHistogram,
  emptyHistogram,
  quantileOf,
  TRAFFIC_WINDOW_MS,
  windowStart,
} from "../../telemetry/index.js";
import type { TenantTrafficSeriesType } from "./observability-types.js";

/** One stored window of one tenant, as every process added to it. */
export interface TrafficRow {
  readonly tenantId: string;
  readonly windowStart: Date;
  readonly requests: number;
  readonly errors: number;
  readonly failures: number;
  readonly latencyCounts: readonly number[];
}

/** Requests, errors (any), server-side failures and latencies of one tenant over a span of windows. */
export interface TrafficTotals {
  readonly requests: number;
  readonly errors: number;
  readonly failures: number;
  readonly latencyCounts: readonly number[];
}

const NO_TRAFFIC: TrafficTotals = { requests: 0, errors: 0, failures: 0, latencyCounts: [] };

/** Windows starting at or after `since`, of the tenants named (every tenant for null). */
export async function readTraffic(
  control: PrismaClient,
  tenantIds: readonly string[] | null,
  since: Date,
): Promise<TrafficRow[]> {
  return control.tenantTraffic.findMany({
    where: {
      windowStart: { gte: since },
      ...(tenantIds ? { tenantId: { in: [...tenantIds] } } : {}),
    },
    select: {
      tenantId: true,
      windowStart: true,
      requests: true,
      errors: true,
      failures: true,
      latencyCounts: true,
    },
    orderBy: [{ tenantId: "asc" }, { windowStart: "asc" }],
  });
}

/** Each tenant's rows summed into one total. */
export function totalsByTenant(rows: readonly TrafficRow[]): Map<string, TrafficTotals> {
  const totals = new Map<
    string,
    { requests: number; errors: number; failures: number; latencyCounts: number[] }
  >();
  for (const row of rows) {
    let total = totals.get(row.tenantId);
    if (!total) {
      total = { requests: 0, errors: 0, failures: 0, latencyCounts: emptyHistogram() };
      totals.set(row.tenantId, total);
    }
    total.requests += row.requests;
    total.errors += row.errors;
    total.failures += row.failures;
    addHistogram(total.latencyCounts, row.latencyCounts);
  }

  return totals;
}

/** A tenant's totals, or zeros when it had no traffic. */
export function totalsOf(totals: ReadonlyMap<string, TrafficTotals>, tenantId: string) {
  return totals.get(tenantId) ?? NO_TRAFFIC;
}

function pointsOf(rows: readonly TrafficRow[]): TenantTrafficSeriesType["points"] {
  return rows.map((row) => ({
    at: row.windowStart,
    requests: row.requests,
    errors: row.errors,
    failures: row.failures,
    p95LatencyMs: quantileOf(row.latencyCounts, 0.95),
  }));
}

/**
 * One series per tenant over the last `hours` (the window under way is the
 * last of `hours` × 12): the tenants named, in the order named and only
 * those that exist, or else every tenant with traffic in the span. A
 * series holds the windows that had requests, oldest first; the others had
 * none and are not sent (a week of hundreds of tenants, every window
 * filled, is hundreds of thousands of points).
 */
export async function readTrafficSeries(
  control: PrismaClient,
  tenantIds: readonly string[] | null,
  hours: number,
  now: number,
): Promise<TenantTrafficSeriesType[]> {
  const windows = (hours * 3_600_000) / TRAFFIC_WINDOW_MS;
  const first = new Date(
    windowStart(now, TRAFFIC_WINDOW_MS).getTime() - (windows - 1) * TRAFFIC_WINDOW_MS,
  );
  const byTenant = new Map<string, TrafficRow[]>();
  for (const row of await readTraffic(control, tenantIds, first)) {
    const rows = byTenant.get(row.tenantId);
    if (rows) rows.push(row);
    else byTenant.set(row.tenantId, [row]);
  }

  let tenants = [...byTenant.keys()].sort();
  if (tenantIds) {
    const known = await control.tenant.findMany({
      where: { id: { in: [...tenantIds] } },
      select: { id: true },
    });
    const exists = new Set(known.map((tenant) => tenant.id));
    tenants = tenantIds.filter((id) => exists.has(id));
  }

  return tenants.map((tenantId) => ({ tenantId, points: pointsOf(byTenant.get(tenantId) ?? []) }));
}
