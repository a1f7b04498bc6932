import type { ApolloServerPlugin } from "@apollo/server";
import type { GatewayContext } from "../context/gateway-context.js";
import { admittedCost } from "../server/query-cost.js";
import type { Caller } from "./budgets.js";
import { writeRateLimitHeaders } from "./rate-limit-headers.js";
import { refusalError } from "./refusal-error.js";
import type { RateLimitDecision, TenantRateLimits } from "./tenant-rate-limits.js";

export interface RateLimitPluginOptions {
  /** Decides on each request and counts it. */
  readonly limits: TenantRateLimits;
  /**
   * The gateway's cost limit for one operation (`QUERY_MAX_COST`). An
   * operation the cost check refuses counts as a request, not its cost.
   */
  readonly maxCost: number;
}

/** Whom the request counts against, or null when no tenant budget applies. */
function callerOf(ctx: GatewayContext): Caller | null {
  // A request that names no tenant (a platform call) has no tenant budget.
  if (!ctx.scope) return null;
  // Global admins act for the platform (admin console, support,
  // provisioning), not as the tenant's traffic: they are not counted
  // against its budget, and a tenant at its limit does not lock them out.
  if (ctx.access.isGlobalAdmin || ctx.principal?.isGlobalAdmin) return null;
  if (ctx.access.userId) return { kind: "user", userId: ctx.access.userId };

  // Not signed in: the address's budgets and the tenant's anonymous pool.
  return { kind: "client", address: ctx.clientAddress };
}

/**
 * Enforces the tenant's rate limits before an operation runs, and tells
 * every tenant-scoped response its budget in RateLimit headers.
 *
 * The check sits in `didResolveOperation`: after parsing and validation,
 * with the cost estimate known, and before any resolver or database work.
 * A refusal is `RATE_LIMITED` with HTTP 429 and `Retry-After`.
 *
 * What counts: every request that names a tenant counts one request, and
 * an operation that will run counts its estimated cost; a signed-in user's
 * against their own budgets and the tenant's, an anonymous caller's against
 * its address's and the tenant's anonymous pool (see chargesFor). An
 * operation the cost check refuses (priced above `QUERY_MAX_COST`, or with
 * variables that do not fit) and a document that fails to parse or
 * validate count one request and no cost: they were received and read,
 * but none of their work ran. A request refused for a spent budget counts
 * nothing (see TenantRateLimits.admit).
 */
export function createRateLimitPlugin(
  options: RateLimitPluginOptions,
): ApolloServerPlugin<GatewayContext> {
  const { limits, maxCost } = options;

  return {
    async requestDidStart({ contextValue }) {
      const caller = callerOf(contextValue);
      const tenant = contextValue.scope?.tenant;
      if (!caller || !tenant) return;

      // Counter stores fail over on their own; anything else that fails
      // here is a bug, logged, and the request goes on unlimited rather
      // than refused: the limiter must not become the outage.
      const admit = (cost: number) =>
        limits.admit({ tenant, caller, cost }).catch((error: unknown) => {
          contextValue.logger.error({ err: error }, "rate limit check failed; request admitted");
          return null;
        });
      // Set before the first await: Apollo runs the hooks of all plugins
      // side by side, so when the cost check refuses the operation, the
      // response may be on its way while this request is still counted.
      let admission: Promise<RateLimitDecision | null> | null = null;

      return {
        async didResolveOperation(requestContext) {
          admission = admit(admittedCost(requestContext, maxCost) ?? 0);
          const refusal = (await admission)?.refusal;
          if (refusal) throw refusalError(refusal);
        },
        async willSendResponse({ response }) {
          // No operation was resolved (parse or validation errors): count
          // the request now, at no cost, to tell its budget.
          admission ??= admit(0);
          const decision = await admission;
          if (!decision) return;
          const refusedForNow =
            decision.refusal?.kind === "exhausted" && response.http.status === 429;

          writeRateLimitHeaders(response.http.headers, decision, refusedForNow);
        },
      };
    },
  };
}
