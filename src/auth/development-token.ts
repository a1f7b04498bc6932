import { SignJWT } from "jose";
import { isTenantId } from "../tenancy/index.js";
import { GLOBAL_ADMIN_ROLE } from "./principal.js";

/** What a development token says. */
export interface TokenClaims {
  /** The user id. */
  sub: string;
  /** The tenant id; omit for platform staff. */
  tid?: string;
  /** Platform roles, e.g. `["global_admin"]`. */
  roles?: string[];
  /** Lifetime in jose's time-span syntax (`"8h"`, `"30m"`, `"2 days"`). Default `"8h"`. */
  expiresIn?: string;
}

/** Where the token claims to come from and be meant for; match the gateway's settings. */
export interface DevelopmentTokenOptions {
  /** `iss`; omitted by default. */
  issuer?: string;
  /** `aud`; omitted by default. */
  audience?: string;
}

/**
 * Signs an HS256 token the gateway accepts when it runs without `JWKS_URL`. For development,
 * tests and the `npm run token` script; production tokens come from the identity provider.
 *
 * @throws TypeError when the claims are ones the verifier would refuse, so a mistake shows here
 *   rather than as a puzzling `UNAUTHENTICATED` later.
 */
export async function issueDevelopmentToken(
  secret: string,
  claims: TokenClaims,
  options: DevelopmentTokenOptions = {},
): Promise<string> {
  if (secret === "") throw new TypeError("A development token needs a non-empty secret.");
  if (claims.sub.trim() === "") throw new TypeError("A development token needs a user id (sub).");
  if (claims.tid !== undefined && !isTenantId(claims.tid)) {
    throw new TypeError(`"${claims.tid}" is not a valid tenant id.`);
  }
  if (claims.tid !== undefined && claims.roles?.includes(GLOBAL_ADMIN_ROLE)) {
    throw new TypeError("A global admin token must not name a tenant.");
  }

  const payload = {
    ...(claims.tid === undefined ? {} : { tid: claims.tid }),
    ...(claims.roles === undefined ? {} : { roles: claims.roles }),
  };
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? "8h");
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);

  return jwt.sign(new TextEncoder().encode(secret));
}
