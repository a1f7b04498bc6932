import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import type { GatewayContext } from "../../context/gateway-context.js";
import { auditFailures } from "../platform/audit-failures.js";
import { flagNamed, flagView, setFeatureFlag, setTenantFeature } from "./feature-service.js";
import { FeatureFlagInput, FeatureFlagType } from "./feature-types.js";

/** Feature flags: global admins only (see the rule tree). */
@Resolver(() => FeatureFlagType)
export class FeatureResolver {
  @Query(() => [FeatureFlagType], { description: "Every feature flag, with its overrides." })
  async featureFlags(@Ctx() ctx: GatewayContext): Promise<FeatureFlagType[]> {
    const flags = await ctx.platform.features.flags();

    return Promise.all(flags.map((flag) => flagView(ctx, flag)));
  }

  @Mutation(() => FeatureFlagType)
  async setFeatureFlag(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => FeatureFlagInput) input: FeatureFlagInput,
  ): Promise<FeatureFlagType> {
    const flag = await setFeatureFlag(ctx, input);

    return flagView(ctx, flag);
  }

  @Mutation(() => FeatureFlagType, {
    description: "Forces a flag on or off for one tenant; `enabled: null` removes the override.",
  })
  async setTenantFeature(
    @Ctx() ctx: GatewayContext,
    @Arg("tenantId", () => ID) tenantId: string,
    @Arg("key", () => String) key: string,
    @Arg("enabled", () => Boolean, { nullable: true }) enabled: boolean | null,
  ): Promise<FeatureFlagType> {
    // The tenant acted on may not be the one the request names: a refusal
    // is audited and logged as being about the tenant acted on.
    await auditFailures(ctx, "feature.tenant", { tenantId, key }, () =>
      setTenantFeature(ctx, tenantId, key, enabled ?? null),
    );

    return flagView(ctx, await flagNamed(ctx, key));
  }
}
