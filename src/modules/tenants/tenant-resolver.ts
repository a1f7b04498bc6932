import { Arg, Ctx, Int, Mutation, Query, Resolver } from "type-graphql";
import { requireScope, type GatewayContext } from "../../context/gateway-context.js";
import { reloadTenant, restoreTenantConfig, updateTenantConfig } from "./tenant-config-service.js";
import { loadConfigVersions, loadTenantConfig } from "./tenant-config-view.js";
import {
  ConfigDocument,
  TenantConfigType,
  TenantConfigVersionType,
  TenantType,
  UpdateTenantConfigInput,
} from "./tenant-types.js";
import { toTenantView } from "./tenant-view.js";

@Resolver(() => TenantType)
export class TenantResolver {
  @Query(() => TenantType, { description: "The request's tenant; readable without a token." })
  async tenant(@Ctx() ctx: GatewayContext): Promise<TenantType> {
    const { tenant } = requireScope(ctx);

    return toTenantView(tenant, await ctx.platform.features.enabledFor(tenant));
  }

  @Query(() => TenantConfigType, {
    description: "The tenant's configuration documents (config:write or global admin).",
  })
  tenantConfig(@Ctx() ctx: GatewayContext): Promise<TenantConfigType> {
    return loadTenantConfig(ctx, requireScope(ctx));
  }

  @Query(() => [TenantConfigVersionType], {
    description: "The configuration's history, newest first.",
  })
  tenantConfigVersions(
    @Ctx() ctx: GatewayContext,
    @Arg("first", () => Int, { defaultValue: 20 }) first: number,
    @Arg("before", () => Int, { nullable: true }) before: number | null,
  ): Promise<TenantConfigVersionType[]> {
    return loadConfigVersions(ctx, requireScope(ctx), first, before ?? null);
  }

  @Mutation(() => TenantType)
  async updateTenantConfig(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => UpdateTenantConfigInput) input: UpdateTenantConfigInput,
  ): Promise<TenantType> {
    const scope = requireScope(ctx);
    await updateTenantConfig(ctx, scope, input);
    const tenant = await reloadTenant(ctx, scope.tenant.id);

    return toTenantView(tenant, await ctx.platform.features.enabledFor(tenant));
  }

  @Mutation(() => TenantConfigType, {
    description:
      "Brings back an earlier version's documents as a new version. Tenant admins restore settings and branding; global admins any document.",
  })
  async restoreTenantConfig(
    @Ctx() ctx: GatewayContext,
    @Arg("version", () => Int) version: number,
    @Arg("documents", () => [ConfigDocument], { nullable: true })
    documents: ConfigDocument[] | null,
  ): Promise<TenantConfigType> {
    const scope = requireScope(ctx);
    await restoreTenantConfig(ctx, scope, version, documents ?? null);

    return loadTenantConfig(ctx, scope);
  }
}
