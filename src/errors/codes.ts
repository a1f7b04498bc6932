/**
 * The contract's error codes: the only values `extensions.code` ever takes.
 * Each maps to the HTTP status used when the error stops a whole request.
 */
export const ERROR_CODES = {
  UNAUTHENTICATED: {
    status: 401,
    description: "No valid token where one is needed, or a token that fails verification.",
  },
  FORBIDDEN: { status: 403, description: "The principal is known but no rule allows the action." },
  TENANT_REQUIRED: {
    status: 400,
    description: "The operation needs a tenant and the request names none.",
  },
  TENANT_NOT_FOUND: {
    status: 404,
    description: "The named tenant does not exist, or its id is malformed.",
  },
  TENANT_MISMATCH: { status: 403, description: "Header, host and token name different tenants." },
  TENANT_SUSPENDED: { status: 403, description: "The tenant exists but is suspended." },
  BAD_USER_INPUT: {
    status: 400,
    description: "An argument or input field is invalid; the message names it.",
  },
  NOT_FOUND: { status: 404, description: "No such record in this tenant." },
  RATE_LIMITED: { status: 429, description: "Too many requests; retry after the time given." },
  QUOTA_EXCEEDED: { status: 413, description: "The tenant's quota would be exceeded." },
  FEATURE_DISABLED: { status: 403, description: "The feature is off for this tenant." },
  INTERNAL_SERVER_ERROR: {
    status: 500,
    description: "Something failed inside the gateway; the request id finds it in the logs.",
  },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}
