import { GatewayError } from "../errors/index.js";
import { WINDOW_SECONDS, isCostBudget, isTenantBudget, type BudgetName } from "./budgets.js";
import type { Refusal } from "./tenant-rate-limits.js";

function seconds(count: number): string {
  return count === 1 ? "1 second" : `${count} seconds`;
}

/** "This organization's" or "Your", for messages about `budget`. */
function whose(budget: BudgetName): string {
  return isTenantBudget(budget) ? "This organization's" : "Your";
}

/** What was spent, said to a person. */
function spentMessage(budget: BudgetName, limit: number): string {
  const what = isCostBudget(budget)
    ? `budget of ${limit} objects queried`
    : `budget of ${limit} requests`;

  return `${whose(budget)} ${what} per minute is spent.`;
}

/**
 * The error that refuses a request: `RATE_LIMITED` (HTTP 429) with the wait
 * in the message and in `extensions.retryAfterSeconds`, and the budget in
 * `extensions.reason` (`TENANT_REQUESTS`, `USER_REQUESTS`,
 * `TENANT_QUERY_COST`, `USER_QUERY_COST`). An operation dearer than a whole
 * cost budget is `BAD_USER_INPUT` instead, like the gateway's own cost
 * limit: no wait would let it through.
 */
export function refusalError(refusal: Refusal): GatewayError {
  const { budget, limit, remaining, resetSeconds } = refusal.state;

  switch (refusal.kind) {
    case "exhausted":
      return new GatewayError(
        "RATE_LIMITED",
        `${spentMessage(budget, limit)} Try again in ${seconds(resetSeconds)}.`,
        {
          reason: budget,
          retryAfterSeconds: resetSeconds,
          limit,
          remaining,
          windowSeconds: WINDOW_SECONDS,
        },
      );
    case "too-costly":
      return new GatewayError(
        "BAD_USER_INPUT",
        `This query would resolve about ${refusal.cost} objects; ${whose(budget).toLowerCase()} budget is ${limit} a minute. Ask for fewer items or fewer nested lists.`,
        { reason: budget, cost: refusal.cost, limit, windowSeconds: WINDOW_SECONDS },
      );
    default: {
      const unknown: never = refusal;
      throw new Error(`unhandled refusal ${JSON.stringify(unknown)}`);
    }
  }
}
