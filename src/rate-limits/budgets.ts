import { tenantKeyPrefix } from "../cache/cache-key.js";
import type { TenantLimits } from "../tenant-config/plans.js";
import { addressGroup } from "./client-address.js";

/** Every budget is per minute: a counter's window lasts this long from its first point. */
export const WINDOW_SECONDS = 60;

/**
 * The budgets a request can draw on; the name is also the `reason` of a
 * refusal. "User" is the signed-in user, or the client address (an IPv6
 * client's /64) of an anonymous caller. Signed-in users share the tenant's
 * budgets; anonymous callers share `ANONYMOUS_REQUESTS` and never touch
 * the tenant's.
 */
export type BudgetName =
  | "TENANT_REQUESTS"
  | "TENANT_QUERY_COST"
  | "ANONYMOUS_REQUESTS"
  | "USER_REQUESTS"
  | "USER_QUERY_COST";

/** Who a request counts against inside its tenant, besides a pool all such callers share. */
export type Caller =
  | { readonly kind: "user"; readonly userId: string }
  | { readonly kind: "client"; readonly address: string | null };

/** What one request adds to one budget's counter. */
export interface Charge {
  readonly budget: BudgetName;
  /** The counter in Redis (or in process): `ogc:{tenantId}:ratelimit:…`. */
  readonly key: string;
  /** The budget's size per window, from the tenant's configuration. */
  readonly limit: number;
  readonly points: number;
}

/**
 * What one request adds, in two parts counted in turn: the caller's own
 * budgets first, and the shared pool only for a request that fits its own.
 */
export interface Charges {
  /** The user's (or the client address's) requests and query cost. */
  readonly own: readonly Charge[];
  /** The tenant's budgets for a user; the tenant's anonymous pool for a client. */
  readonly pool: readonly Charge[];
}

/**
 * The order in which budgets are weighed against each other where nothing
 * else decides: requests before cost, shared before the caller's own.
 */
export const BUDGET_ORDER: readonly BudgetName[] = [
  "TENANT_REQUESTS",
  "ANONYMOUS_REQUESTS",
  "USER_REQUESTS",
  "TENANT_QUERY_COST",
  "USER_QUERY_COST",
];

/** Whether the budget counts requests or estimated query cost. */
export function isCostBudget(budget: BudgetName): boolean {
  return budget === "TENANT_QUERY_COST" || budget === "USER_QUERY_COST";
}

/** Whether the budget is shared across the tenant, rather than one caller's. */
export function isTenantBudget(budget: BudgetName): boolean {
  return (
    budget === "TENANT_REQUESTS" ||
    budget === "TENANT_QUERY_COST" ||
    budget === "ANONYMOUS_REQUESTS"
  );
}

/**
 * A key part for the caller. Colons (IPv6) become dashes so that the key's
 * parts stay where they are: `client:2001-db8-0-1--/64`.
 */
function callerPart(caller: Caller): string {
  const dashed = (text: string) => text.replace(/[:\s]/g, "-");

  return caller.kind === "user"
    ? `user:${dashed(caller.userId)}`
    : `client:${dashed(addressGroup(caller.address))}`;
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
 * What a request of `caller` costing `cost` adds to each budget it draws
 * on, whose sizes come from `limits`: one request to each request budget
 * and `cost` to each cost budget.
 *
 * A signed-in user draws on their own budgets and the tenant's. An
 * anonymous caller draws on its address's budgets (its request budget a
 * tenth of the anonymous pool) and on the anonymous pool, never on the
 * tenant's: tenant ids are public, and anonymous traffic from many
 * addresses must not spend what signed-in users depend on.
 */
/**
 * How many of the anonymous pool one client address may take: a tenth (at
 * least one request), or the per-user limit when that is smaller. One
 * address alone, or one IPv6 /64, then cannot empty the pool that every
 * login page of the tenant draws on; that takes ten.
 */
export const ANONYMOUS_ADDRESS_SHARE = 10;

export function anonymousAddressLimit(limits: TenantLimits): number {
  const share = Math.max(
    1,
    Math.floor(limits.anonymousRequestsPerMinute / ANONYMOUS_ADDRESS_SHARE),
  );

  return Math.min(limits.userRequestsPerMinute, share);
}

export function chargesFor(
  tenantId: string,
  deploymentId: string,
  limits: TenantLimits,
  caller: Caller,
  cost: number,
): Charges {
  const who = callerPart(caller);
  const key = (measure: "requests" | "cost", subject: string) =>
    counterKey(tenantId, deploymentId, measure, subject);
  const anonymous = caller.kind === "client";

  const own: Charge[] = [
    {
      budget: "USER_REQUESTS",
      key: key("requests", who),
      limit: anonymous ? anonymousAddressLimit(limits) : limits.userRequestsPerMinute,
      points: 1,
    },
    {
      budget: "USER_QUERY_COST",
      key: key("cost", who),
      limit: limits.userQueryCostPerMinute,
      points: cost,
    },
  ];
  if (anonymous) {
    const pool: Charge = {
      budget: "ANONYMOUS_REQUESTS",
      key: key("requests", "anonymous"),
      limit: limits.anonymousRequestsPerMinute,
      points: 1,
    };
    return { own, pool: [pool] };
  }

  const pool: Charge[] = [
    {
      budget: "TENANT_REQUESTS",
      key: key("requests", "tenant"),
      limit: limits.requestsPerMinute,
      points: 1,
    },
    {
      budget: "TENANT_QUERY_COST",
      key: key("cost", "tenant"),
      limit: limits.queryCostPerMinute,
      points: cost,
    },
  ];

  return { own, pool };
}
