import type { TenantRecord } from "../tenancy/tenant-registry.js";
import { limitsOf } from "../tenant-config/effective-config.js";
import { chargesFor, isCostBudget, type BudgetName, type Caller, type Charge } from "./budgets.js";
import type { WindowCount } from "./counter-store.js";
import type { FailoverCounters } from "./failover-counters.js";

/** One budget as a request left it. */
export interface BudgetState {
  readonly budget: BudgetName;
  /** Its size per window. */
  readonly limit: number;
  /** Points left in this window; 0 once it is spent. */
  readonly remaining: number;
  /** Whole seconds until the window ends and the budget is full again (at least 1). */
  readonly resetSeconds: number;
}

/** Why a request was not admitted. */
export type Refusal =
  /** The budget is spent for this window: retry when it ends. */
  | { readonly kind: "exhausted"; readonly state: BudgetState }
  /** The operation alone costs more than the whole budget: no wait helps. */
  | { readonly kind: "too-costly"; readonly state: BudgetState; readonly cost: number };

export interface RateLimitDecision {
  /** The budget the RateLimit headers describe: the refusing one, else the one nearest empty. */
  readonly shown: BudgetState;
  /** Null when the request is admitted. */
  readonly refusal: Refusal | null;
}

/** One request to admit: its tenant (with its configuration), its caller and its cost. */
export interface RateLimitRequest {
  readonly tenant: Pick<TenantRecord, "id" | "config">;
  readonly caller: Caller;
  /** The operation's estimated cost; 0 for one that will not run. */
  readonly cost: number;
}

function stateOf(charge: Charge, count: WindowCount): BudgetState {
  return {
    budget: charge.budget,
    limit: charge.limit,
    remaining: Math.max(charge.limit - count.used, 0),
    resetSeconds: Math.max(Math.ceil(count.resetMs / 1_000), 1),
  };
}

/**
 * The budget closest to exhaustion: the smallest share left, since request
 * and cost budgets count in different units. On a tie the earlier in
 * `chargesFor`'s order wins (requests before cost, tenant before user).
 */
function closestToExhaustion(states: readonly BudgetState[]): BudgetState {
  return states.reduce((closest, state) =>
    state.remaining / state.limit < closest.remaining / closest.limit ? state : closest,
  );
}

/**
 * Admits or refuses requests against their tenant's budgets: requests and
 * estimated query cost, for the tenant as a whole and for the caller, per
 * minute, at the sizes the tenant's configuration gives on this request (a
 * change applies as soon as the tenant registry sees it). Different tenants
 * never share a counter, so one tenant at its limit costs another nothing.
 */
export class TenantRateLimits {
  readonly #counters: FailoverCounters;
  readonly #deploymentId: string;

  constructor(counters: FailoverCounters, deploymentId: string) {
    this.#counters = counters;
    this.#deploymentId = deploymentId;
  }

  /**
   * Counts the request against every budget and decides. An admitted
   * request keeps what it counted. A refused one takes nothing: it gives
   * back what it added, so that a caller who keeps knocking while refused
   * neither eats into the tenant's budget (other users go on being served)
   * nor keeps its own spent past the window. Counting first and giving back
   * keeps each step atomic in Redis; two racing requests may both be
   * refused where one would have fitted, never both admitted past a limit.
   */
  async admit(request: RateLimitRequest): Promise<RateLimitDecision> {
    const limits = limitsOf(request.tenant);
    let charges = chargesFor(
      request.tenant.id,
      this.#deploymentId,
      limits,
      request.caller,
      request.cost,
    );
    // An operation dearer than a whole cost budget could never run; it
    // counts as a request, and its cost as nothing.
    const tooCostly = charges.find((c) => isCostBudget(c.budget) && c.points > c.limit);
    if (tooCostly) {
      charges = charges.map((c) => (isCostBudget(c.budget) ? { ...c, points: 0 } : c));
    }

    const { value: counts, store } = await this.#counters.run((counters) =>
      Promise.all(charges.map((c) => counters.add(c.key, c.points))),
    );
    const spent = charges.filter((c, i) => (counts[i] as WindowCount).used > c.limit);

    if (spent.length > 0) {
      const added = charges.filter((c) => c.points !== 0);
      await this.#counters.runOn(store, (counters) =>
        Promise.all(added.map((c) => counters.add(c.key, -c.points))),
      );
      // Admission needs room in every spent budget: the last to reset decides.
      const refused = spent
        .map((c) => {
          const count = counts[charges.indexOf(c)] as WindowCount;
          return stateOf(c, { used: count.used - c.points, resetMs: count.resetMs });
        })
        .reduce((last, state) => (state.resetSeconds > last.resetSeconds ? state : last));

      return { shown: refused, refusal: { kind: "exhausted", state: refused } };
    }

    const states = charges.map((c, i) => stateOf(c, counts[i] as WindowCount));
    if (tooCostly) {
      const state = states.find((s) => s.budget === tooCostly.budget) as BudgetState;
      return {
        shown: closestToExhaustion(states),
        refusal: { kind: "too-costly", state, cost: request.cost },
      };
    }

    return { shown: closestToExhaustion(states), refusal: null };
  }
}
