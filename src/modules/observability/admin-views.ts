import DataLoader from "dataloader";
import type { GatewayContext } from "../../context/gateway-context.js";
import type { TenantRecord } from "../../tenancy/tenant-registry.js";
import { periodOf } from "../../telemetry/index.js";
import { readFootprints, type Footprint } from "./database-footprint.js";
import { readLastErrors, readUptime } from "./health-reads.js";
import type { TenantLastErrorType } from "./observability-types.js";
import { readTraffic, totalsByTenant, totalsOf, type TrafficTotals } from "./traffic-reads.js";
import { NO_USAGE, readPeriodUsage, readStorageBytes, type PeriodUsage } from "./usage-reads.js";

const HOUR_MS = 3_600_000;

/**
 * The admin views' reads for one request. Each loader gathers the tenants
 * of a whole `adminTenants` list and reads them in one grouped query per
 * view, not one per tenant; the clock is read once, so every tenant of the
 * answer is measured over the same hour, day and month.
 */
export interface AdminViews {
  /** The calendar month (UTC) counted as "this month". */
  readonly period: string;
  readonly lastHour: DataLoader<string, TrafficTotals>;
  readonly uptime24h: DataLoader<string, number | null>;
  readonly lastError: DataLoader<string, TenantLastErrorType | null>;
  readonly usage: DataLoader<string, PeriodUsage>;
  readonly storageBytes: DataLoader<string, number>;
  readonly footprint: DataLoader<TenantRecord, Footprint, string>;
}

function createAdminViews(ctx: GatewayContext): AdminViews {
  const { database, telemetry } = ctx.platform;
  const control = database.control;
  const now = Date.now();
  const period = periodOf(now);
  const batched = <V>(read: (ids: string[]) => Promise<ReadonlyMap<string, V>>, absent: V) =>
    new DataLoader<string, V>(async (ids) => {
      const found = await read([...ids]);
      return ids.map((id) => found.get(id) ?? absent);
    });

  return {
    period,
    lastHour: new DataLoader(async (ids) => {
      const totals = totalsByTenant(await readTraffic(control, ids, new Date(now - HOUR_MS)));
      return ids.map((id) => totalsOf(totals, id));
    }),
    uptime24h: batched((ids) => readUptime(control, ids, new Date(now - 24 * HOUR_MS)), null),
    lastError: batched((ids) => readLastErrors(control, ids), null),
    usage: batched((ids) => readPeriodUsage(control, ids, period), NO_USAGE),
    storageBytes: batched((ids) => readStorageBytes(control, ids), 0),
    footprint: new DataLoader(
      async (tenants) => {
        const footprints = await readFootprints(
          // Not the request's logger: it is bound to the tenant the staff request
          // names, and these lines are about other tenants.
          { database, tenantLogin: telemetry.tenantLogin, logger: ctx.platform.lifecycle.logger },
          tenants,
        );
        return tenants.map(
          (tenant) => footprints.get(tenant.id) ?? { databaseBytes: null, connections: null },
        );
      },
      { cacheKeyFn: (tenant) => tenant.id },
    ),
  };
}

const perRequest = new WeakMap<GatewayContext, AdminViews>();

/** The request's admin view loaders, made on first use. */
export function adminViewsOf(ctx: GatewayContext): AdminViews {
  let views = perRequest.get(ctx);
  if (!views) {
    views = createAdminViews(ctx);
    perRequest.set(ctx, views);
  }

  return views;
}
