import { limitsOf, planOf } from "../../tenant-config/effective-config.js";
import type { TenantRecord } from "../../tenancy/tenant-registry.js";
import { quantileOf } from "../../telemetry/index.js";
import type { Footprint } from "./database-footprint.js";
import type {
  BillingLineType,
  BillingStateType,
  TenantHealthType,
  TenantLastErrorType,
  TenantUsageReportType,
} from "./observability-types.js";
import type { TrafficTotals } from "./traffic-reads.js";
import type { PeriodUsage } from "./usage-reads.js";

/** An hour's error rate (server-side failures / requests) from which a tenant reads as degraded… */
export const DEGRADED_ERROR_RATE = 0.05;
/** …once it has served at least this many requests in that hour (a few failures of a quiet tenant are noise). */
export const DEGRADED_MIN_REQUESTS = 20;
/** A day's uptime below which a tenant reads as degraded. */
export const DEGRADED_UPTIME = 0.99;

export interface HealthInputs {
  /** The summary's own health: ok, moving, unreachable, suspended or provisioning. */
  readonly health: string;
  readonly reachable: boolean;
  readonly lastHour: TrafficTotals;
  readonly uptime24h: number | null;
  readonly lastError: TenantLastErrorType | null;
}

/**
 * The health view: the summary's health, made `degraded` by a high error
 * rate or low uptime. The error rate counts server-side failures only:
 * clients that send bad tokens, bad input or too many requests make errors
 * of their own, not an unhealthy tenant.
 */
export function healthReportOf(inputs: HealthInputs): TenantHealthType {
  const { requests, errors, failures, latencyCounts } = inputs.lastHour;
  const errorRate = requests > 0 ? failures / requests : 0;
  const struggling =
    (requests >= DEGRADED_MIN_REQUESTS && errorRate >= DEGRADED_ERROR_RATE) ||
    (inputs.uptime24h !== null && inputs.uptime24h < DEGRADED_UPTIME);

  return {
    status: inputs.health === "ok" && struggling ? "degraded" : inputs.health,
    databaseReachable: inputs.reachable,
    requestsLastHour: requests,
    errorsLastHour: errors,
    failuresLastHour: failures,
    errorRate,
    p95LatencyMs: quantileOf(latencyCounts, 0.95),
    lastError: inputs.lastError,
    uptime24h: inputs.uptime24h,
  };
}

export function usageReportOf(
  period: string,
  usage: PeriodUsage,
  storageBytes: number,
  footprint: Footprint,
): TenantUsageReportType {
  return { period, ...usage, storageBytes, ...footprint };
}

function line(metric: string, used: number, included: number): BillingLineType {
  return { metric, used, included, over: Math.max(0, used - included) };
}

/**
 * The tenant's plan and what it used against the plan's included amounts,
 * with the tenant's own `limits` laid over the plan's (a custom deal).
 */
export function billingStateOf(
  tenant: Pick<TenantRecord, "config">,
  period: string,
  usage: PeriodUsage,
  storageBytes: number,
): BillingStateType {
  const limits = limitsOf(tenant);
  const lines = [
    line("requests", usage.requests, limits.requestsPerMonth),
    line("storageBytes", storageBytes, limits.storageBytes),
  ];

  return {
    plan: planOf(tenant).name,
    period,
    lines,
    overage: lines.some((entry) => entry.over > 0),
  };
}
