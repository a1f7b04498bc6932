/**
 * Per-tenant, per-user and anonymous request and query-cost limits,
 * counted in Redis (shared by every gateway process) or in process memory.
 * This file is the only way in.
 */
export { createRateLimits } from "./create-rate-limits.js";
export type { RateLimitOptions, RateLimits } from "./create-rate-limits.js";
export { WINDOW_SECONDS } from "./budgets.js";
export type { BudgetName } from "./budgets.js";
