import type { JWTPayload } from "jose";
import { unauthenticated } from "../errors/index.js";
import { isTenantId } from "../tenancy/index.js";
import { GLOBAL_ADMIN_ROLE, type Principal } from "./principal.js";

/** Longest `sub` accepted; a user id, not a place to carry data. */
const MAX_SUBJECT_LENGTH = 255;

/**
 * Checks the claims of a token whose signature, expiry, issuer and audience already passed,
 * and builds its {@link Principal}.
 *
 * @throws GatewayError `UNAUTHENTICATED` for a missing or malformed `sub`, `tid` or `roles`.
 */
export function principalFromClaims(payload: JWTPayload): Principal {
  const { sub, tid, roles } = payload;
  if (typeof sub !== "string" || sub.trim() === "" || sub.length > MAX_SUBJECT_LENGTH) {
    throw unauthenticated("The token does not name a user.");
  }
  // `null` is refused too: a present claim that names nothing is a broken issuer, not staff.
  if (tid !== undefined && (typeof tid !== "string" || !isTenantId(tid))) {
    throw unauthenticated("The token names a tenant id that is not valid.");
  }
  if (roles !== undefined && !isStringArray(roles)) {
    throw unauthenticated("The token's roles must be a list of names.");
  }

  const platformRoles = roles ?? [];
  const tenantId = tid ?? null;
  // Platform staff belong to no tenant, so a global admin token never carries `tid`. A token
  // with both is ambiguous (a tenant user with a platform role, or staff pinned to one tenant?)
  // and either reading would grant something nobody issued on purpose, so it is refused.
  if (tenantId !== null && platformRoles.includes(GLOBAL_ADMIN_ROLE)) {
    throw unauthenticated("A global admin token must not name a tenant.");
  }

  return {
    userId: sub,
    tenantId,
    platformRoles: [...platformRoles],
    isGlobalAdmin: platformRoles.includes(GLOBAL_ADMIN_ROLE),
  };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}
