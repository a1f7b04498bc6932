import { tenantKeyPrefix } from "../cache/cache-key.js";
import type { TenantLimits } from "../tenant-config/plans.js";

/** Every budget is per minute: a counter's window lasts this long from its first point. */
export const WINDOW_SECONDS = 60;

/**
 * The four budgets a request draws on; the name is also the `reason` of a
 * refusal. "User" is the signed-in user, or the client address of an
 * anonymous caller.
 */
export type BudgetName =
  "TENANT_REQUESTS" | "USER_REQUESTS" | "TENANT_QUERY_COST" | "USER_QUERY_COST";

/** Who a request counts against inside its tenant, besides the tenant itself. */
export type Caller =
  | { readonly kind: "user"; readonly userId: string }
  | { readonly kind: "client"; readonly address: string };

/** What one request adds to one budget's counter. */
export interface Charge {
  readonly budget: BudgetName;
  /** The counter in Redis (or in process): `ogc:{tenantId}:ratelimit:…`. */
  readonly key: string;
  /** The budget's size per window, from the tenant's configuration. */
  readonly limit: number;
  readonly points: number;
}

/** Whether the budget counts requests or estimated query cost. */
export function isCostBudget(budget: BudgetName): boolean {
  return budget === "TENANT_QUERY_COST" || budget === "USER_QUERY_COST";
}

/** Whether the budget is the tenant's as a whole, rather than one caller's. */
export function isTenantBudget(budget: BudgetName): boolean {
  return budget === "TENANT_REQUESTS" || budget === "TENANT_QUERY_COST";
}

/**
 * A key part for the caller. Client addresses lose the IPv4-mapped prefix
 * Node reports on dual-stack sockets, and an IPv6 address's colons become
 * dashes so that the key's parts stay where they are.
 */
function callerPart(caller: Caller): string {
  if (caller.kind === "user") return `user:${caller.userId.replace(/[:\s]/g, "-")}`;

  const address = caller.address.replace(/^::ffff:/i, "").replace(/[:\s]/g, "-");
  return `client:${address || "unknown"}`;
}

/**
 * The keys of a tenant's counters, such as
 * `ogc:acme:ratelimit:{deploymentId}:requests:tenant` and
 * `ogc:acme:ratelimit:{deploymentId}:cost:user:{userId}`. They start with the
 * tenant's prefix, so clearing a tenant's keys clears its counters too. The
 * deployment id keeps two deployments that share a Redis (and may both have
 * a tenant `acme`) on budgets of their own, as the invalidation bus does for
 * its channel; the processes of one deployment share one id and one budget.
 */
function counterKey(
  tenantId: string,
  deploymentId: string,
  measure: "requests" | "cost",
  subject: string,
): string {
  return `${tenantKeyPrefix(tenantId)}ratelimit:${deploymentId}:${measure}:${subject}`;
}

/**
 * What a request of `caller` costing `cost` adds to each of its tenant's
 * budgets: one request to each request budget and `cost` to each cost
 * budget, whose sizes come from `limits`.
 */
export function chargesFor(
  tenantId: string,
  deploymentId: string,
  limits: TenantLimits,
  caller: Caller,
  cost: number,
): Charge[] {
  const who = callerPart(caller);
  const key = (measure: "requests" | "cost", subject: string) =>
    counterKey(tenantId, deploymentId, measure, subject);

  return [
    {
      budget: "TENANT_REQUESTS",
      key: key("requests", "tenant"),
      limit: limits.requestsPerMinute,
      points: 1,
    },
    {
      budget: "USER_REQUESTS",
      key: key("requests", who),
      limit: limits.userRequestsPerMinute,
      points: 1,
    },
    {
      budget: "TENANT_QUERY_COST",
      key: key("cost", "tenant"),
      limit: limits.queryCostPerMinute,
      points: cost,
    },
    {
      budget: "USER_QUERY_COST",
      key: key("cost", who),
      limit: limits.userQueryCostPerMinute,
      points: cost,
    },
  ];
}
