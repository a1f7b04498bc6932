import { GraphQLJSON } from "graphql-scalars";
import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { GatewayContext } from "../../context/gateway-context.js";
import { TenantSummaryType } from "./platform-types.js";
import { summaryHealth, summaryUsage } from "./tenant-admin-service.js";

/**
 * The summary fields that cost database work, resolved only when a query
 * selects them: a console listing hundreds of tenants without `usage` does
 * not count every tenant's rows.
 */
@Resolver(() => TenantSummaryType)
export class TenantSummaryResolver {
  @FieldResolver(() => String, {
    description: "ok, suspended, provisioning, moving or unreachable",
  })
  async health(@Root() summary: TenantSummaryType, @Ctx() ctx: GatewayContext): Promise<string> {
    return summaryHealth(ctx, summary.record);
  }

  @FieldResolver(() => GraphQLJSON, { nullable: true })
  async usage(
    @Root() summary: TenantSummaryType,
    @Ctx() ctx: GatewayContext,
  ): Promise<Record<string, unknown>> {
    return summaryUsage(ctx, summary.record);
  }
}
