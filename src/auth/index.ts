/**
 * Authentication: who is calling, from the bearer token. The only way into this folder.
 */
export { GLOBAL_ADMIN_ROLE } from "./principal.js";
export type { Principal, TokenVerifier } from "./principal.js";
export { readBearerToken } from "./bearer-token.js";
export { createTokenVerifier } from "./token-verifier.js";
export { issueDevelopmentToken } from "./development-token.js";
export type { TokenClaims, DevelopmentTokenOptions } from "./development-token.js";
