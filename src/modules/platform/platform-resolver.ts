import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { actorOf, recordPlatformAudit } from "../../audit/index.js";
import { GatewayError } from "../../errors/index.js";
import type { GatewayContext } from "../../context/gateway-context.js";
import { TenantStatus } from "../../generated/prisma/enums.js";
import { BUILT_IN_ROLES, TENANT_ADMIN_ROLE } from "../../rbac/permissions.js";
import type { UserRecord } from "../identity/identity-types.js";
import { reloadTenant } from "../tenants/tenant-config-service.js";
import { toTenantView } from "../tenants/tenant-view.js";
import { ProvisionResultType, ProvisionTenantInput, TenantSummaryType } from "./platform-types.js";
import { provisionTenant } from "../../lifecycle/provision.js";
import { listTenantSummaries, setTenantStatus } from "./tenant-admin-service.js";

/**
 * Runs a platform action; when it fails, a `<action>.failed` row with the
 * error's code goes to the platform audit log before the error goes on, so
 * refused and broken attempts are on the record as well as successes.
 */
async function auditFailures<T>(
  ctx: GatewayContext,
  action: string,
  tenantId: string,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = error instanceof GatewayError ? error.code : "INTERNAL_SERVER_ERROR";
    await recordPlatformAudit(ctx.platform.database.control, {
      actorId: actorOf(ctx.principal),
      action: `${action}.failed`,
      // The id as given may be malformed; it is only recorded as detail.
      tenantId: null,
      detail: { requestId: ctx.requestId, tenantId: tenantId.slice(0, 64), code },
    }).catch((err) => ctx.logger.error({ err }, "platform audit write failed"));
    throw error;
  }
}

@Resolver()
export class PlatformResolver {
  @Query(() => [TenantSummaryType], { description: "Global admin only." })
  async adminTenants(@Ctx() ctx: GatewayContext) {
    return listTenantSummaries(ctx);
  }

  @Mutation(() => ProvisionResultType, { description: "Global admin only; idempotent." })
  async provisionTenant(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => ProvisionTenantInput) input: ProvisionTenantInput,
  ) {
    const outcome = await auditFailures(ctx, "tenant.provision", input.id, () =>
      provisionTenant(ctx.platform.lifecycle, input, actorOf(ctx.principal) ?? "unknown"),
    );
    ctx.platform.registry.invalidate(outcome.tenantId);
    const tenant = await reloadTenant(ctx, outcome.tenantId);

    // The console usually calls this with no tenant named, so the new
    // admin's access is handed over here rather than loaded in a scope.
    const adminUser: UserRecord = {
      ...outcome.adminUser,
      knownAccess: {
        roles: [TENANT_ADMIN_ROLE],
        permissions: [...(BUILT_IN_ROLES[TENANT_ADMIN_ROLE] ?? [])].sort(),
        organizationIds: [],
      },
    };

    return { tenant: toTenantView(tenant), adminUser };
  }

  @Mutation(() => TenantSummaryType, { description: "Global admin only." })
  async suspendTenant(@Ctx() ctx: GatewayContext, @Arg("id", () => ID) id: string) {
    return auditFailures(ctx, "tenant.suspend", id, () =>
      setTenantStatus(ctx, id, TenantStatus.SUSPENDED),
    );
  }

  @Mutation(() => TenantSummaryType, { description: "Global admin only." })
  async resumeTenant(@Ctx() ctx: GatewayContext, @Arg("id", () => ID) id: string) {
    return auditFailures(ctx, "tenant.resume", id, () =>
      setTenantStatus(ctx, id, TenantStatus.ACTIVE),
    );
  }
}
