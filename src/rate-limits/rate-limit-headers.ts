import { WINDOW_SECONDS } from "./budgets.js";
import type { RateLimitDecision } from "./tenant-rate-limits.js";

/** The part of a header map this module writes to (Apollo's HeaderMap). */
export interface HeaderWriter {
  set(name: string, value: string): unknown;
}

/**
 * Writes the RateLimit header fields of draft-ietf-httpapi-ratelimit-headers-06,
 * the form express-rate-limit sends as `standardHeaders: "draft-6"` and most
 * clients read: `RateLimit-Limit` and `RateLimit-Remaining` in the budget's
 * units, `RateLimit-Reset` in seconds from now (never a date: no clock skew),
 * and `RateLimit-Policy` as `600;w=60`. Later drafts fold these into one
 * `RateLimit` field whose syntax was still changing; the separate fields are
 * what clients expect today.
 *
 * A request draws on several budgets, but the fields describe one: the budget
 * closest to exhaustion (the refusing one on a refusal), since that is the
 * one a client must slow down for. Request budgets count requests and cost
 * budgets estimated objects; the draft's quota units may be either, and a
 * refusal's `extensions.reason` names the budget.
 *
 * A refusal that waiting can end also gets `Retry-After`, in seconds.
 */
export function writeRateLimitHeaders(
  headers: HeaderWriter,
  decision: RateLimitDecision,
  refusedForNow: boolean,
): void {
  const { shown } = decision;

  headers.set("ratelimit-limit", String(shown.limit));
  headers.set("ratelimit-remaining", String(shown.remaining));
  headers.set("ratelimit-reset", String(shown.resetSeconds));
  headers.set("ratelimit-policy", `${shown.limit};w=${WINDOW_SECONDS}`);
  if (refusedForNow) headers.set("retry-after", String(shown.resetSeconds));
}
