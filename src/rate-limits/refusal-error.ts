import { GatewayError } from "../errors/index.js";
import { WINDOW_SECONDS, isCostBudget, isTenantBudget, type BudgetName } from "./budgets.js";
import type { BudgetState, Refusal } from "./tenant-rate-limits.js";

const FEWER = "ask for fewer items or fewer nested lists";

function seconds(count: number): string {
  return count === 1 ? "1 second" : `${count} seconds`;
}

/** "This organization's" or "Your", for messages about `budget`. */
function whose(budget: BudgetName): string {
  return isTenantBudget(budget) ? "This organization's" : "Your";
}

/** A request budget that is spent, said to a person. */
function requestsSpent({ budget, limit, resetSeconds }: BudgetState): string {
  const wait = seconds(resetSeconds);
  if (budget === "ANONYMOUS_REQUESTS") {
    return `This organization's budget of ${limit} requests per minute for callers who are not signed in is spent. Sign in, or try again in ${wait}.`;
  }

  return `${whose(budget)} budget of ${limit} requests per minute is spent. Try again in ${wait}.`;
}

/** A cost budget with less left than the request would cost, said to a person. */
function costExceedsWhatIsLeft(state: BudgetState, cost: number): string {
  const { budget, limit, remaining, resetSeconds } = state;
  const of = `of ${whose(budget).toLowerCase()} ${limit} objects per minute`;
  const left =
    remaining === 0
      ? `none ${of} are left`
      : `only ${remaining} ${of} ${remaining === 1 ? "is" : "are"} left`;

  return `This query would resolve about ${cost} objects, but ${left}. Try again in ${seconds(resetSeconds)}, or ${FEWER}.`;
}

/**
 * The error that refuses a request: `RATE_LIMITED` (HTTP 429) with the wait
 * in the message and in `extensions.retryAfterSeconds`, and the budget in
 * `extensions.reason` (`TENANT_REQUESTS`, `USER_REQUESTS`,
 * `ANONYMOUS_REQUESTS`, `TENANT_QUERY_COST`, `USER_QUERY_COST`). A refusal
 * on a cost budget also gives the operation's estimated `cost`, next to the
 * `remaining` it did not fit in. An operation dearer than a whole cost
 * budget is `BAD_USER_INPUT` instead, like the gateway's own cost limit: no
 * wait would let it through.
 */
export function refusalError(refusal: Refusal): GatewayError {
  const { state } = refusal;
  const { budget, limit, remaining, resetSeconds } = state;

  switch (refusal.kind) {
    case "exhausted": {
      const costly = isCostBudget(budget);
      return new GatewayError(
        "RATE_LIMITED",
        costly ? costExceedsWhatIsLeft(state, refusal.cost) : requestsSpent(state),
        {
          reason: budget,
          retryAfterSeconds: resetSeconds,
          limit,
          remaining,
          ...(costly ? { cost: refusal.cost } : {}),
          windowSeconds: WINDOW_SECONDS,
        },
      );
    }
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
