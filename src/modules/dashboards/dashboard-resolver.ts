import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { requireScope, type GatewayContext } from "../../context/gateway-context.js";
import { modulesOf } from "../../tenant-config/effective-config.js";
import { UserType } from "../identity/identity-types.js";
import { loadUserOrFail } from "../identity/identity-resolver.js";
import * as dashboards from "./dashboard-service.js";
import {
  CreateDashboardInput,
  DashboardType,
  UpdateDashboardInput,
  type DashboardRecord,
} from "./dashboard-types.js";

@Resolver(() => DashboardType)
export class DashboardResolver {
  @Query(() => [DashboardType])
  async dashboards(@Ctx() ctx: GatewayContext) {
    const scope = requireScope(ctx);
    const rows = await dashboards.listDashboards(scope);
    for (const row of rows) scope.loaders.dashboard.prime(row.id, row);

    return rows;
  }

  @Query(() => DashboardType, { nullable: true })
  async dashboard(@Ctx() ctx: GatewayContext, @Arg("id", () => ID) id: string) {
    return requireScope(ctx).loaders.dashboard.load(id);
  }

  @Mutation(() => DashboardType)
  async createDashboard(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => CreateDashboardInput) input: CreateDashboardInput,
  ) {
    return dashboards.createDashboard(requireScope(ctx), ctx, input);
  }

  @Mutation(() => DashboardType)
  async updateDashboard(
    @Ctx() ctx: GatewayContext,
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateDashboardInput) input: UpdateDashboardInput,
  ) {
    return dashboards.updateDashboard(requireScope(ctx), ctx, id, input);
  }

  /**
   * Only modules the plan includes show: after a downgrade, a dashboard
   * keeps the others stored (an upgrade brings them back) but cannot use them.
   */
  @FieldResolver(() => [String])
  modules(@Root() dashboard: DashboardRecord, @Ctx() ctx: GatewayContext): string[] {
    const included = new Set(modulesOf(requireScope(ctx).tenant));

    return dashboard.modules.filter((module) => included.has(module));
  }

  @FieldResolver(() => UserType)
  async owner(@Root() dashboard: DashboardRecord, @Ctx() ctx: GatewayContext) {
    return loadUserOrFail(ctx, dashboard.ownerId);
  }
}
