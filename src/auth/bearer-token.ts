import { unauthenticated } from "../errors/index.js";

/**
 * `Bearer <token68>` (RFC 6750). The scheme is case-insensitive (RFC 9110); the credentials are
 * one token68 word, which every JWT is.
 */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Reads `Authorization: Bearer …`.
 *
 * Returns `undefined` when the header is absent, the token otherwise.
 *
 * @throws GatewayError `UNAUTHENTICATED` when the header is present but is not a bearer token
 *   (another scheme such as `Basic`, an empty header, `Bearer` with nothing after it). Treating
 *   those as "no token" would quietly serve an anonymous request to a client that meant to sign in.
 */
export function readBearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;

  const match = BEARER.exec(authorization.trim());
  if (match?.[1] === undefined) {
    throw unauthenticated("Send the token as 'Authorization: Bearer <token>'.");
  }

  return match[1];
}
