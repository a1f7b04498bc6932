export { ERROR_CODES, isErrorCode } from "./codes.js";
export type { ErrorCode } from "./codes.js";
export { GatewayError, unauthenticated, forbidden, notFound, badInput } from "./gateway-error.js";
export { contractCodeOf, createErrorFormatter, markLogged, unwrap } from "./format-error.js";
