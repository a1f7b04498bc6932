import { ERROR_CODES, type ErrorCode } from "../errors/index.js";

/**
 * Whether an error is the platform's fault rather than the client's: a
 * code answered with a 5xx status (today INTERNAL_SERVER_ERROR only).
 * UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, NOT_FOUND, RATE_LIMITED,
 * QUOTA_EXCEEDED, FEATURE_DISABLED and TENANT_* are the client's: anyone
 * can cause them, so they say nothing about a tenant's health.
 */
export function isServerFailure(code: ErrorCode): boolean {
  return ERROR_CODES[code].status >= 500;
}

/** The contract codes that are server-side failures (see {@link isServerFailure}). */
export const SERVER_FAILURE_CODES: readonly ErrorCode[] = Object.freeze(
  (Object.keys(ERROR_CODES) as ErrorCode[]).filter(isServerFailure),
);
