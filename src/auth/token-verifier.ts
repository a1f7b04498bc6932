import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import type { JWSAlgorithm, JWTPayload, JWTVerifyOptions, RemoteJWKSet } from "jose";
import type { GatewayConfig } from "../config/index.js";
import { unauthenticated } from "../errors/index.js";
import { principalFromClaims } from "./principal-from-claims.js";
import type { TokenVerifier } from "./principal.js";

/** Asymmetric algorithms accepted from a JWKS. Never HS*: a public key is no shared secret. */
const JWKS_ALGORITHMS: JWSAlgorithm[] = ["RS256", "ES256", "EdDSA"];

/** Clock drift tolerated between the issuer and us, in seconds. */
const CLOCK_TOLERANCE_SECONDS = 5;

/** Longer than any token we issue; refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;

const MESSAGES = {
  invalid: "The token could not be verified.",
  expired: "Your session has expired. Sign in again.",
  notYetValid: "The token is not valid yet. Check the clock of the machine that issued it.",
  issuer: "The token was issued by a service this gateway does not trust.",
  audience: "The token was issued for another service.",
  noExpiry: "The token has no valid expiry time.",
} as const;

/**
 * Creates the verifier for the configured keys.
 *
 * - Without `jwksUrl`: HS256 with `secret` (development and tests).
 * - With `jwksUrl`: the keys published there, RS256, ES256 or EdDSA only; `secret` is unused.
 *
 * `exp` and `sub` are required; `iss` and `aud` are checked when configured.
 */
export function createTokenVerifier(config: GatewayConfig["jwt"]): TokenVerifier {
  const checks = {
    issuer: config.issuer,
    audience: config.audience,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ["exp", "sub"],
  };
  const verifySignature = config.jwksUrl
    ? withKeySet(createRemoteJWKSet(new URL(config.jwksUrl)), checks)
    : withSecret(hmacKey(config.secret), checks);

  return {
    async verify(token) {
      if (token === "" || token.length > MAX_TOKEN_LENGTH) throw unauthenticated(MESSAGES.invalid);

      let payload: JWTPayload;
      try {
        payload = await verifySignature(token);
      } catch (error) {
        throw translate(error, config.jwksUrl);
      }

      return principalFromClaims(payload);
    },
  };
}

type ClaimChecks = Omit<JWTVerifyOptions, "algorithms">;
type VerifySignature = (token: string) => Promise<JWTPayload>;

function withSecret(secret: Uint8Array, checks: ClaimChecks): VerifySignature {
  const options = { ...checks, algorithms: ["HS256"] };

  return async (token) => (await jwtVerify(token, secret, options)).payload;
}

function withKeySet(keySet: RemoteJWKSet, checks: ClaimChecks): VerifySignature {
  const options = { ...checks, algorithms: JWKS_ALGORITHMS };

  return async (token) => (await jwtVerify(token, keySet, options)).payload;
}

function hmacKey(secret: string): Uint8Array {
  if (secret === "") throw new TypeError("createTokenVerifier needs a non-empty JWT secret.");

  return new TextEncoder().encode(secret);
}

type Failure = "invalid" | "expired" | "claim" | "keysUnavailable";

/**
 * What each jose error means here. A `Record` over jose's code union, so a code added by a jose
 * upgrade fails the build until it is placed.
 */
const JOSE_FAILURES: Record<errors.JOSEErrorCode, Failure> = {
  ERR_JOSE_ALG_NOT_ALLOWED: "invalid",
  ERR_JOSE_NOT_SUPPORTED: "invalid",
  ERR_JWS_INVALID: "invalid",
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: "invalid",
  ERR_JWT_INVALID: "invalid",
  ERR_JWKS_NO_MATCHING_KEY: "invalid",
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: "invalid",
  ERR_JWE_DECRYPTION_FAILED: "invalid",
  ERR_JWE_INVALID: "invalid",
  ERR_JWT_EXPIRED: "expired",
  ERR_JWT_CLAIM_VALIDATION_FAILED: "claim",
  // The key server failed us (unreachable, slow, non-200, not a key set, a broken key): not
  // the caller's fault, so not UNAUTHENTICATED, which would make clients drop a good session.
  ERR_JOSE_GENERIC: "keysUnavailable",
  ERR_JWKS_TIMEOUT: "keysUnavailable",
  ERR_JWKS_INVALID: "keysUnavailable",
  ERR_JWK_INVALID: "keysUnavailable",
};

/**
 * Turns what jose threw into a {@link GatewayError} `UNAUTHENTICATED` when the token is at
 * fault. When the key server is (only possible with a JWKS), it returns a plain `Error` that
 * the error formatter masks as `INTERNAL_SERVER_ERROR` and logs with its cause.
 */
function translate(error: unknown, jwksUrl: string | undefined): Error {
  if (!(error instanceof errors.JOSEError)) {
    // `fetch` rejects with its own TypeError when the key server cannot be reached.
    return jwksUrl ? keysUnavailable(jwksUrl, error) : unauthenticated(MESSAGES.invalid);
  }

  const failure: Failure = Object.hasOwn(JOSE_FAILURES, error.code)
    ? JOSE_FAILURES[error.code as errors.JOSEErrorCode]
    : "invalid";
  switch (failure) {
    case "invalid":
      return unauthenticated(MESSAGES.invalid);
    case "expired":
      return unauthenticated(MESSAGES.expired);
    case "claim":
      return unauthenticated(claimMessage(error as errors.JWTClaimValidationFailed));
    case "keysUnavailable":
      return jwksUrl ? keysUnavailable(jwksUrl, error) : unauthenticated(MESSAGES.invalid);
    default:
      return assertNever(failure);
  }
}

function claimMessage(error: errors.JWTClaimValidationFailed): string {
  switch (error.claim) {
    case "iss":
      return MESSAGES.issuer;
    case "aud":
      return MESSAGES.audience;
    case "nbf":
      return MESSAGES.notYetValid;
    case "exp":
      return MESSAGES.noExpiry;
    case "sub":
      return "The token does not name a user.";
    default:
      return MESSAGES.invalid;
  }
}

function keysUnavailable(jwksUrl: string, cause: unknown): Error {
  return new Error(`The signing keys at JWKS_URL (${jwksUrl}) could not be loaded.`, { cause });
}

function assertNever(value: never): never {
  throw new Error(`Unexpected verification failure: ${String(value)}`);
}
