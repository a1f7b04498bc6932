/**
 * The plans a tenant can be on: which dashboard modules each includes and
 * the limits that apply unless the tenant's `limits` document overrides
 * them. Billing names the plan (`billing.plan`); an unknown or missing plan
 * reads as {@link DEFAULT_PLAN}.
 */

/** Limits one tenant works within; every field is a whole number. */
export interface TenantLimits {
  /** Requests per minute for the whole tenant. */
  readonly requestsPerMinute: number;
  /**
   * Estimated query cost (objects resolved, see src/server/query-cost.ts)
   * per minute for the whole tenant. A dashboard query costs a few
   * thousand; the budgets leave a user on the smallest plan about a hundred.
   */
  readonly queryCostPerMinute: number;
  /**
   * Requests per minute for one user. An anonymous client address (an IPv6
   * client's /64) gets a tenth of `anonymousRequestsPerMinute`, or this
   * when it is smaller (see src/rate-limits/budgets.ts).
   */
  readonly userRequestsPerMinute: number;
  /**
   * Requests per minute that callers who are not signed in may make, all
   * together. Anonymous requests count here and never against
   * `requestsPerMinute` or `queryCostPerMinute`, so that an anonymous flood
   * (tenant ids are public) cannot lock the tenant's users out.
   */
  readonly anonymousRequestsPerMinute: number;
  /** Estimated query cost per minute for one user. */
  readonly userQueryCostPerMinute: number;
  /** Bytes the tenant's files may take in all. */
  readonly storageBytes: number;
  /** Largest single upload, in bytes. */
  readonly maxUploadBytes: number;
  /**
   * Requests per calendar month (UTC) the plan includes. Billing shows the
   * requests past it as overage; nothing is refused for it.
   */
  readonly requestsPerMonth: number;
}

export interface Plan {
  readonly name: string;
  readonly modules: readonly string[];
  readonly limits: TenantLimits;
}

const MiB = 1024 * 1024;

const STARTER_MODULES = ["overview", "leaderboard", "activity", "submissions"] as const;
const GROWTH_MODULES = [...STARTER_MODULES, "analytics", "reports"] as const;
const ENTERPRISE_MODULES = [...GROWTH_MODULES, "ai-insights", "custom-widgets", "audit-trail"];

export const PLANS: Readonly<Record<string, Plan>> = Object.freeze({
  starter: {
    name: "starter",
    modules: STARTER_MODULES,
    limits: {
      requestsPerMinute: 600,
      queryCostPerMinute: 1_000_000,
      userRequestsPerMinute: 240,
      anonymousRequestsPerMinute: 600,
      userQueryCostPerMinute: 250_000,
      storageBytes: 100 * MiB,
      maxUploadBytes: 10 * MiB,
      requestsPerMonth: 100_000,
    },
  },
  growth: {
    name: "growth",
    modules: GROWTH_MODULES,
    limits: {
      requestsPerMinute: 3_000,
      queryCostPerMinute: 5_000_000,
      userRequestsPerMinute: 600,
      anonymousRequestsPerMinute: 3_000,
      userQueryCostPerMinute: 1_000_000,
      storageBytes: 1024 * MiB,
      maxUploadBytes: 50 * MiB,
      requestsPerMonth: 1_000_000,
    },
  },
  enterprise: {
    name: "enterprise",
    modules: ENTERPRISE_MODULES,
    limits: {
      requestsPerMinute: 12_000,
      queryCostPerMinute: 20_000_000,
      userRequestsPerMinute: 1_200,
      anonymousRequestsPerMinute: 12_000,
      userQueryCostPerMinute: 4_000_000,
      storageBytes: 10 * 1024 * MiB,
      maxUploadBytes: 200 * MiB,
      requestsPerMonth: 10_000_000,
    },
  },
});

export const PLAN_NAMES = Object.keys(PLANS) as readonly string[];

export const DEFAULT_PLAN = "starter";

/** Every dashboard module any plan includes. */
export const KNOWN_MODULES: readonly string[] = [
  ...new Set(Object.values(PLANS).flatMap((plan) => plan.modules)),
];

/** The plan called `name`, or the default plan when there is none by that name. */
export function planNamed(name: string | undefined): Plan {
  return (name !== undefined && PLANS[name]) || (PLANS[DEFAULT_PLAN] as Plan);
}
