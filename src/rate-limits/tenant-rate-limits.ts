import type { TenantRecord } from "../tenancy/tenant-registry.js";
import { limitsOf } from "../tenant-config/effective-config.js";
import {
  BUDGET_ORDER,
  chargesFor,
  isCostBudget,
  type BudgetName,
  type Caller,
  type Charge,
  type Charges,
} from "./budgets.js";
import type { CounterStore, WindowCount } from "./counter-store.js";
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
  /** The budget has no room for this request in this window: retry when it ends. */
  | { readonly kind: "exhausted"; readonly state: BudgetState; readonly cost: number }
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

/** A charge and the state its counter answered after the charge was added. */
interface Counted {
  readonly charge: Charge;
  readonly count: WindowCount;
}

function stateOf({ charge, count }: Counted): BudgetState {
  return {
    budget: charge.budget,
    limit: charge.limit,
    remaining: Math.max(charge.limit - count.used, 0),
    resetSeconds: Math.max(Math.ceil(count.resetMs / 1_000), 1),
  };
}

/**
 * Whether the charge did not fit. A charge of no points never refuses: a
 * request of no cost is not refused for cost because other requests in
 * flight overshoot the budget for a moment.
 */
function isOver({ charge, count }: Counted): boolean {
  return charge.points > 0 && count.used > charge.limit;
}

/**
 * The budget closest to exhaustion: the smallest share left, since request
 * and cost budgets count in different units. On a tie the earlier in
 * {@link BUDGET_ORDER} wins (requests before cost, shared before own).
 */
function closestToExhaustion(states: readonly BudgetState[]): BudgetState {
  const rank = (state: BudgetState) => BUDGET_ORDER.indexOf(state.budget);
  const share = (state: BudgetState) => state.remaining / state.limit;

  return [...states]
    .sort((a, b) => rank(a) - rank(b))
    .reduce((closest, state) => (share(state) < share(closest) ? state : closest));
}

async function addAll(counters: CounterStore, charges: readonly Charge[]): Promise<Counted[]> {
  const counts = await Promise.all(charges.map((c) => counters.add(c.key, c.points)));

  return charges.map((charge, i) => ({ charge, count: counts[i] as WindowCount }));
}

/**
 * Counts the caller's own budgets, and the shared pool only when the
 * request fits its own: a caller over its own limit never adds to what the
 * tenant's other users draw on, however many requests it has in flight.
 * Answers every charge it counted.
 */
async function countInTurn(counters: CounterStore, charges: Charges): Promise<Counted[]> {
  const own = await addAll(counters, charges.own);
  if (own.some(isOver)) return own;

  return [...own, ...(await addAll(counters, charges.pool))];
}

/** The charges with no cost: an operation that will not run counts as a request only. */
function withoutCost(charges: Charges): Charges {
  const free = (list: readonly Charge[]) =>
    list.map((c) => (isCostBudget(c.budget) ? { ...c, points: 0 } : c));

  return { own: free(charges.own), pool: free(charges.pool) };
}

/**
 * Admits or refuses requests against their tenant's budgets, per minute, at
 * the sizes the tenant's configuration gives on this request (a change
 * applies as soon as the tenant registry sees it): requests and estimated
 * query cost for each signed-in user and for the tenant's users together,
 * and requests and cost for each anonymous client address plus requests
 * for the tenant's anonymous callers together. Different tenants never
 * share a counter, so one tenant at its limit costs another nothing.
 */
export class TenantRateLimits {
  readonly #counters: FailoverCounters;
  readonly #deploymentId: string;

  constructor(counters: FailoverCounters, deploymentId: string) {
    this.#counters = counters;
    this.#deploymentId = deploymentId;
  }

  /**
   * Counts the request and decides, in two steps: the caller's own budgets
   * first, then, for a request that fits them, the pool it shares (the
   * tenant's budgets, or the anonymous pool). An admitted request keeps
   * what it counted. A refused one takes nothing: it gives back what it
   * added, and a request refused on its own budget never added anything to
   * the pool, so a caller who keeps knocking, even with many requests in
   * flight, neither eats into what other users share nor keeps its own
   * budget spent past the window.
   *
   * Counting first and giving back keeps each step atomic in Redis; two
   * racing requests may both be refused where one would have fitted, never
   * both admitted past a limit. The two steps cost an admitted request two
   * round trips, both within one `RATE_LIMIT_TIMEOUT_MS`.
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
    const tooCostly = [...charges.own, ...charges.pool].find(
      (c) => isCostBudget(c.budget) && c.points > c.limit,
    );
    if (tooCostly) charges = withoutCost(charges);

    const { value: counted, store } = await this.#counters.run((counters) =>
      countInTurn(counters, charges),
    );
    const spent = counted.filter(isOver);

    if (spent.length > 0) {
      const added = counted.filter((c) => c.charge.points !== 0);
      await this.#counters.runOn(store, (counters) =>
        Promise.all(added.map((c) => counters.add(c.charge.key, -c.charge.points))),
      );
      // Admission needs room in every spent budget: the last to reset
      // decides. What is left is what others may still use.
      const refused = spent
        .map(({ charge, count }) =>
          stateOf({ charge, count: { used: count.used - charge.points, resetMs: count.resetMs } }),
        )
        .reduce((last, state) => (state.resetSeconds > last.resetSeconds ? state : last));
      const cost = isCostBudget(refused.budget) ? request.cost : 1;

      return { shown: refused, refusal: { kind: "exhausted", state: refused, cost } };
    }

    const states = counted.map(stateOf);
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
