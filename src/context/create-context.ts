import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { readBearerToken, type Principal, type TokenVerifier } from "../auth/index.js";
import { GatewayError, unauthenticated } from "../errors/index.js";
import { TenantStatus } from "../generated/prisma/enums.js";
import type { LoaderMode } from "../loaders/index.js";
import { setLogRequestId, type Logger } from "../logging/index.js";
import { ANONYMOUS, type Access } from "../rbac/access.js";
import { resolveTenantId } from "../tenancy/index.js";
import type { TenantRecord } from "../tenancy/tenant-registry.js";
import type { GatewayContext, PlatformServices, TenantScope } from "./gateway-context.js";
import { createLoaders } from "./loaders.js";

export interface ContextDependencies {
  readonly platform: PlatformServices;
  readonly verifier: TokenVerifier;
  readonly logger: Logger;
  readonly baseDomain: string;
  /** `naive` turns batching and caching off (benchmark baseline only). */
  readonly loaderMode: LoaderMode;
}

export interface RequestLike {
  headers: IncomingHttpHeaders;
  /** Express's client address; the socket's peer where there is none. */
  ip?: string;
  socket?: { remoteAddress?: string };
}

export interface ResponseLike {
  setHeader(name: string, value: string): unknown;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,64}$/;

/** A caller-supplied request id is kept when it is sane, else a new one is made. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers["x-request-id"];

  return typeof given === "string" && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}

function single(value: string | string[] | undefined): string | undefined {
  // Node joins repeated custom headers with ", ", which then fails the id
  // format; an array only comes from headers Node does not join.
  return Array.isArray(value) ? value.join(", ") : value;
}

/** Refuses tenants that are not live, except to platform staff. */
function checkStatus(tenant: TenantRecord, principal: Principal | null): void {
  if (principal?.isGlobalAdmin) return;
  switch (tenant.status) {
    case TenantStatus.ACTIVE:
      return;
    case TenantStatus.SUSPENDED:
      throw new GatewayError(
        "TENANT_SUSPENDED",
        "This organization's access is suspended. Contact your administrator.",
      );
    case TenantStatus.PROVISIONING:
      throw new GatewayError("TENANT_NOT_FOUND", "There is no such tenant.");
    default: {
      const unknown: never = tenant.status;
      throw new Error(`unhandled tenant status ${String(unknown)}`);
    }
  }
}

/**
 * Who the caller is inside the tenant. A tenant user's roles come from the
 * tenant's rows, never from the token; a token whose user is not (or no
 * longer) in the tenant is refused.
 */
async function accessOf(principal: Principal | null, scope: TenantScope | null): Promise<Access> {
  if (!principal) return ANONYMOUS;
  if (principal.isGlobalAdmin) {
    return { userId: null, isGlobalAdmin: true, roles: [], permissions: new Set() };
  }
  if (!principal.tenantId) {
    throw unauthenticated("This token belongs to no tenant. Sign in to your organization.");
  }
  if (!scope) return ANONYMOUS;

  // Both reads start together: every request with a token pays for them.
  const [user, { roles, permissions }] = await Promise.all([
    scope.loaders.user.load(principal.userId),
    scope.loaders.userAccess.load(principal.userId),
  ]);
  if (!user) throw unauthenticated("Your account is not part of this organization.");

  return { userId: user.id, isGlobalAdmin: false, roles, permissions: new Set(permissions) };
}

/**
 * Builds the context of one request: request id, principal, tenant,
 * tenant-bound data handle, loaders, cache view, access and a logger that
 * stamps the request and tenant ids on every line. Throws a GatewayError
 * (UNAUTHENTICATED, TENANT_*) that refuses the whole request.
 */
export function createContextFactory(deps: ContextDependencies) {
  return async ({
    req,
    res,
  }: {
    req: RequestLike;
    res?: ResponseLike;
  }): Promise<GatewayContext> => {
    const requestId = requestIdOf(req.headers);
    // Sent back before anything can fail, so every answer carries it.
    res?.setHeader("x-request-id", requestId);
    let logger = deps.logger.child({ requestId });
    setLogRequestId(requestId);

    const token = readBearerToken(single(req.headers.authorization));
    const principal = token ? await deps.verifier.verify(token) : null;

    const tenantId = resolveTenantId(
      {
        header: single(req.headers["x-tenant-id"]),
        host: single(req.headers.host),
        tokenTenantId: principal?.tenantId,
        isGlobalAdmin: principal?.isGlobalAdmin ?? false,
      },
      deps.baseDomain,
    );

    let scope: TenantScope | null = null;
    if (tenantId) {
      const tenant = await deps.platform.registry.get(tenantId);
      if (!tenant) throw new GatewayError("TENANT_NOT_FOUND", "There is no such tenant.");
      checkStatus(tenant, principal);

      const db = deps.platform.database.forTenant(tenant.id);
      // Another deployment sharing the Redis may hold this tenant id's entries.
      const cache = await deps.platform.cacheOwnership.viewFor(tenant.id);
      const loaders = createLoaders(db, {
        cache: deps.loaderMode === "naive" ? null : cache,
        mode: deps.loaderMode,
      });
      scope = { tenant, db, cache, loaders };
      logger = logger.child({ tenantId: tenant.id });
    }

    const access = await accessOf(principal, scope);
    if (principal) logger = logger.child({ userId: principal.userId });

    const clientAddress = req.ip ?? req.socket?.remoteAddress ?? null;

    return {
      requestId,
      clientAddress,
      logger,
      principal,
      access,
      scope,
      platform: deps.platform,
    };
  };
}
