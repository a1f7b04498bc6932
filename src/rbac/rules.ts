import type { GraphQLResolveInfo } from "graphql";
import { rule, type IRule } from "graphql-shield";

import type { GatewayContext } from "../context/gateway-context.js";
import { GatewayError, unauthenticated } from "../errors/index.js";
import { managingRole } from "../modules/organizations/organization-service.js";
import { MembershipRole } from "../generated/prisma/enums.js";
import { featureDisabledMessage } from "../features/feature-flag.js";
import { hasPermission } from "./access.js";

/**
 * A check answers true to allow, false to deny (FORBIDDEN), or a
 * GatewayError to deny with that error (e.g. UNAUTHENTICATED). A check that
 * throws denies: the error is logged with the request id and the client
 * sees FORBIDDEN.
 */
export type Check = (
  parent: unknown,
  args: Record<string, unknown>,
  ctx: GatewayContext,
  info: GraphQLResolveInfo,
) => boolean | GatewayError | Promise<boolean | GatewayError>;

/**
 * How long a rule's answer may be reused within one request. graphql-shield
 * keeps its cache on the request's context, so nothing outlives a request.
 * - `request`: depends on the caller only (shield's "contextual").
 * - `arguments`: depends on the parent's `id` and the arguments too. Checks
 *   with this scope must read nothing else of the parent.
 */
export type RuleScope = "request" | "arguments";

/**
 * The reuse key of an `arguments` rule. Shield's own "strict" key hashes the
 * whole parent object for every field; on the dashboard query that was 2,000
 * hashes of user rows and 40% of the request's CPU.
 */
function argumentsKey(
  parent: unknown,
  args: Record<string, unknown>,
  _ctx: unknown,
  info: GraphQLResolveInfo,
): string {
  const id = parent && typeof parent === "object" ? (parent as { id?: unknown }).id : undefined;

  return `${info.parentType.name}:${typeof id === "string" ? id : ""}:${JSON.stringify(args)}`;
}

/** Makes a shield rule from a check, denying whenever the check throws. */
export function guard(name: string, scope: RuleScope, check: Check): IRule {
  const cache = scope === "request" ? "contextual" : argumentsKey;

  return rule(name, { cache })(async (parent, args, ctx: GatewayContext, info) => {
    try {
      const verdict = await check(parent, args, ctx, info);
      return verdict instanceof GatewayError ? verdict : verdict === true;
    } catch (err) {
      ctx.logger.error(
        { err, rule: name, field: `${info.parentType.name}.${info.fieldName}` },
        "authorization rule failed; denying",
      );
      return false;
    }
  });
}

/**
 * Negates a check. Unlike graphql-shield's `not`, which turns a failing
 * rule into a grant, a check that throws stays a throw here, so `guard`
 * denies it, and a check that answers with an error (UNAUTHENTICATED,
 * TENANT_REQUIRED) keeps denying with it. Only a plain false becomes true.
 */
export function negate(check: Check): Check {
  return async (parent, args, ctx, info) => {
    const verdict = await check(parent, args, ctx, info);
    if (verdict instanceof GatewayError) return verdict;

    return verdict !== true;
  };
}

// ------------------------------------------------------------------ checks

export const hasTenantScope: Check = (_p, _a, ctx) =>
  ctx.scope
    ? true
    : new GatewayError(
        "TENANT_REQUIRED",
        "Name a tenant with the X-Tenant-ID header, a tenant subdomain, or a tenant token.",
      );

export const isSignedIn: Check = (_p, _a, ctx) => (ctx.principal ? true : unauthenticated());

export const isGlobalAdmin: Check = (_p, _a, ctx) => {
  if (!ctx.principal) return unauthenticated();

  return ctx.principal.isGlobalAdmin;
};

/** The caller is a user of the request's tenant (not anonymous, not staff). */
export const isTenantUser: Check = (p, a, ctx, info) => {
  const scoped = hasTenantScope(p, a, ctx, info);
  if (scoped !== true) return scoped;
  if (!ctx.principal) return unauthenticated();

  return ctx.access.userId !== null;
};

/** The caller holds `permission` in the request's tenant. */
export function holdsPermission(permission: string): Check {
  return (p, a, ctx, info) => {
    const scoped = hasTenantScope(p, a, ctx, info);
    if (scoped !== true) return scoped;
    if (!ctx.principal) return unauthenticated();

    return hasPermission(ctx.access, permission);
  };
}

/**
 * The tenant has the feature `key` switched on (see src/features). A field
 * behind a feature that is off answers FEATURE_DISABLED.
 */
export function featureOn(key: string): Check {
  return async (p, a, ctx, info) => {
    const scoped = hasTenantScope(p, a, ctx, info);
    if (scoped !== true || !ctx.scope) return scoped;
    if (await ctx.platform.features.isEnabled(ctx.scope.tenant, key)) return true;

    return new GatewayError("FEATURE_DISABLED", featureDisabledMessage(key), { feature: key });
  };
}

/** The parent object is the caller's own user. */
export const isSelf: Check = (parent, _a, ctx) =>
  ctx.access.userId !== null && (parent as { id?: unknown }).id === ctx.access.userId;

/** The caller owns or administers the organization named by `organizationId`. */
export const managesOrganizationArgument: Check = async (p, args, ctx, info) => {
  const scoped = hasTenantScope(p, args, ctx, info);
  if (scoped !== true) return scoped;
  if (!ctx.principal || !ctx.scope) return unauthenticated();
  const organizationId = args.organizationId;
  if (typeof organizationId !== "string") return false;
  const role = await managingRole(ctx.scope, ctx.access, organizationId);

  return role === MembershipRole.OWNER || role === MembershipRole.ADMIN;
};

/** Allows when any check allows; otherwise the first error, else false. */
export function anyOf(...checks: Check[]): Check {
  return async (parent, args, ctx, info) => {
    let firstError: GatewayError | undefined;
    for (const check of checks) {
      const verdict = await check(parent, args, ctx, info);
      if (verdict === true) return true;
      if (verdict instanceof GatewayError) firstError ??= verdict;
    }
    return firstError ?? false;
  };
}

/** Allows only when every check allows; the first denial decides. */
export function allOf(...checks: Check[]): Check {
  return async (parent, args, ctx, info) => {
    for (const check of checks) {
      const verdict = await check(parent, args, ctx, info);
      if (verdict !== true) return verdict;
    }
    return true;
  };
}
