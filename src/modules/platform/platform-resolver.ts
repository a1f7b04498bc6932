import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { actorOf } from "../../audit/index.js";
import type { GatewayContext } from "../../context/gateway-context.js";
import { TenantStatus } from "../../generated/prisma/enums.js";
import { BUILT_IN_ROLES, TENANT_ADMIN_ROLE } from "../../rbac/permissions.js";
import type { UserRecord } from "../identity/identity-types.js";
import { reloadTenant } from "../tenants/tenant-config-service.js";
import { toTenantView } from "../tenants/tenant-view.js";
import { ProvisionResultType, ProvisionTenantInput, TenantSummaryType } from "./platform-types.js";
import { provisionTenant } from "./provisioning.js";
import { listTenantSummaries, setTenantStatus } from "./tenant-admin-service.js";

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
    const outcome = await provisionTenant(
      ctx.platform.database,
      input,
      actorOf(ctx.principal) ?? "unknown",
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
    return setTenantStatus(ctx, id, TenantStatus.SUSPENDED);
  }

  @Mutation(() => TenantSummaryType, { description: "Global admin only." })
  async resumeTenant(@Ctx() ctx: GatewayContext, @Arg("id", () => ID) id: string) {
    return setTenantStatus(ctx, id, TenantStatus.ACTIVE);
  }
}
