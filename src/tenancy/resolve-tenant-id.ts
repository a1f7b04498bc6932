import { GatewayError } from "../errors/index.js";
import { tenantFromHost } from "./tenant-from-host.js";
import { isTenantId } from "./tenant-id.js";

/** Everything a request may use to name its tenant, as received. */
export interface TenantSources {
  /** The raw `X-Tenant-ID` header, or `undefined` when the request has none. */
  header: string | undefined;
  /** The raw `Host` header (port included), or `undefined`. */
  host: string | undefined;
  /** The verified token's `tid`; `null` or `undefined` without a token or without the claim. */
  tokenTenantId: string | null | undefined;
  /** Whether the verified token is a global admin's (such tokens never carry `tid`). */
  isGlobalAdmin: boolean;
}

type Source = "header" | "host" | "token";

interface Named {
  source: Source;
  tenantId: string;
}

/**
 * Decides the request's tenant id from its sources, or `null` when none names one.
 *
 * - Header: surrounding spaces and tabs are trimmed, then the value must already be a tenant id.
 *   It is not lowercased: ids are lowercase by definition, and a client sending `Acme` has a bug
 *   we would rather surface than hide. An empty or blank header is malformed, not absent: a
 *   client that sends the header meant to name a tenant, and falling back to another source
 *   (or to platform scope for a global admin) would act somewhere it did not ask for.
 * - Host: `acme.<baseDomain>` only, case-folded (see {@link tenantFromHost}); any other host
 *   names no tenant.
 * - Token: the `tid` claim, already checked by the token verifier.
 *
 * Every source present must name the same tenant. A global admin's token carries no `tid`, so
 * header or host alone decide which tenant such a request acts on.
 *
 * @throws GatewayError `TENANT_NOT_FOUND` for a malformed id in the header or host label (the
 *   message never echoes the value), `TENANT_MISMATCH` when two present sources disagree, and
 *   `UNAUTHENTICATED` when the token part is inconsistent (which a verified token never is).
 */
export function resolveTenantId(sources: TenantSources, baseDomain: string): string | null {
  const named = [
    fromHeader(sources.header),
    fromHost(sources.host, baseDomain),
    fromToken(sources.tokenTenantId, sources.isGlobalAdmin),
  ].filter((entry): entry is Named => entry !== undefined);

  const first = named[0];
  if (first === undefined) return null;

  for (const other of named.slice(1)) {
    if (other.tenantId !== first.tenantId) throw mismatch(first.source, other.source);
  }

  return first.tenantId;
}

function fromHeader(header: string | undefined): Named | undefined {
  if (header === undefined) return undefined;

  // Only HTTP's own optional whitespace; `trim()` would also accept U+00A0 and friends.
  const value = header.replace(/^[ \t]+|[ \t]+$/g, "");
  if (!isTenantId(value)) {
    throw new GatewayError(
      "TENANT_NOT_FOUND",
      "The X-Tenant-ID header is not a valid tenant id (3 to 40 lowercase letters, digits or hyphens).",
      { source: "header" },
    );
  }

  return { source: "header", tenantId: value };
}

function fromHost(host: string | undefined, baseDomain: string): Named | undefined {
  const label = tenantFromHost(host, baseDomain);
  if (label === undefined) return undefined;

  if (!isTenantId(label)) {
    throw new GatewayError(
      "TENANT_NOT_FOUND",
      "The host name does not start with a valid tenant id.",
      { source: "host" },
    );
  }

  return { source: "host", tenantId: label };
}

function fromToken(
  tokenTenantId: string | null | undefined,
  isGlobalAdmin: boolean,
): Named | undefined {
  if (tokenTenantId === null || tokenTenantId === undefined) return undefined;

  // The verifier refuses both cases; checked again so a hand-built principal cannot slip past.
  if (isGlobalAdmin || !isTenantId(tokenTenantId)) {
    throw new GatewayError("UNAUTHENTICATED", "The token's tenant claim is not valid.");
  }

  return { source: "token", tenantId: tokenTenantId };
}

function mismatch(first: Source, second: Source): GatewayError {
  return new GatewayError("TENANT_MISMATCH", mismatchMessage(first, second), {
    sources: [first, second],
  });
}

function mismatchMessage(first: Source, second: Source): string {
  // `first` always precedes `second` in header, host, token order.
  switch (first) {
    case "header":
      return second === "host"
        ? "The X-Tenant-ID header and the host name name different tenants."
        : "Your token belongs to a different tenant than the X-Tenant-ID header names.";
    case "host":
      return "Your token belongs to a different tenant than the host name names.";
    case "token":
      // The token is always last, so it is never the first of a disagreeing pair.
      return "The request names different tenants.";
    default:
      return assertNever(first);
  }
}

function assertNever(value: never): never {
  throw new Error(`Unexpected tenant source: ${String(value)}`);
}
