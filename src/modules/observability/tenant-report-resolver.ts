import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { GatewayContext } from "../../context/gateway-context.js";
import { TenantSummaryType } from "../platform/platform-types.js";
import { reachabilityOf, summaryHealth } from "../platform/tenant-admin-service.js";
import { adminViewsOf } from "./admin-views.js";
import {
  BillingStateType,
  TenantHealthType,
  TenantUsageReportType,
} from "./observability-types.js";
import { billingStateOf, healthReportOf, usageReportOf } from "./tenant-reports.js";

/** The admin views of each tenant summary: health, usage and billing (global admin only). */
@Resolver(() => TenantSummaryType)
export class TenantReportResolver {
  @FieldResolver(() => TenantHealthType, {
    description:
      "Database reachability, the last hour's requests, errors and p95 latency, the last error and 24-hour uptime.",
  })
  async healthReport(
    @Root() summary: TenantSummaryType,
    @Ctx() ctx: GatewayContext,
  ): Promise<TenantHealthType> {
    const views = adminViewsOf(ctx);
    const [lastHour, uptime24h, lastError, reachable, health] = await Promise.all([
      views.lastHour.load(summary.id),
      views.uptime24h.load(summary.id),
      views.lastError.load(summary.id),
      reachabilityOf(ctx, summary.id),
      summaryHealth(ctx, summary.record),
    ]);

    return healthReportOf({ health, reachable, lastHour, uptime24h, lastError });
  }

  @FieldResolver(() => TenantUsageReportType, {
    description: "This month's requests, errors and query cost, its files and its database.",
  })
  async usageReport(
    @Root() summary: TenantSummaryType,
    @Ctx() ctx: GatewayContext,
  ): Promise<TenantUsageReportType> {
    const views = adminViewsOf(ctx);
    const [usage, storageBytes, footprint] = await Promise.all([
      views.usage.load(summary.id),
      views.storageBytes.load(summary.id),
      views.footprint.load(summary.record),
    ]);

    return usageReportOf(views.period, usage, storageBytes, footprint);
  }

  @FieldResolver(() => BillingStateType, {
    description: "Its plan, and this month's usage against what the plan includes.",
  })
  async billingState(
    @Root() summary: TenantSummaryType,
    @Ctx() ctx: GatewayContext,
  ): Promise<BillingStateType> {
    const views = adminViewsOf(ctx);
    const [usage, storageBytes] = await Promise.all([
      views.usage.load(summary.id),
      views.storageBytes.load(summary.id),
    ]);

    return billingStateOf(summary.record, views.period, usage, storageBytes);
  }
}
