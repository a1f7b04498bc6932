import { Arg, Ctx, Mutation, Query, Resolver } from "type-graphql";
import { requireScope, type GatewayContext } from "../../context/gateway-context.js";
import { reloadTenant, updateTenantConfig } from "./tenant-config-service.js";
import { TenantType, UpdateTenantConfigInput } from "./tenant-types.js";
import { toTenantView } from "./tenant-view.js";

@Resolver(() => TenantType)
export class TenantResolver {
  @Query(() => TenantType, { description: "The request's tenant; readable without a token." })
  tenant(@Ctx() ctx: GatewayContext): TenantType {
    return toTenantView(requireScope(ctx).tenant);
  }

  @Mutation(() => TenantType)
  async updateTenantConfig(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => UpdateTenantConfigInput) input: UpdateTenantConfigInput,
  ): Promise<TenantType> {
    const scope = requireScope(ctx);
    await updateTenantConfig(ctx, scope, input);

    return toTenantView(await reloadTenant(ctx, scope.tenant.id));
  }
}
