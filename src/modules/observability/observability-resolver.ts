import { Arg, Ctx, ID, Int, Query, Resolver } from "type-graphql";
import { actorOf, recordPlatformAudit } from "../../audit/index.js";
import type { GatewayContext } from "../../context/gateway-context.js";
import { badInput, isErrorCode } from "../../errors/index.js";
import { isTenantId } from "../../tenancy/index.js";
import { listErrorClusters } from "./error-cluster-reads.js";
import {
  ErrorClusterOrder,
  ErrorClusterType,
  TenantTrafficSeriesType,
} from "./observability-types.js";
import { readTrafficSeries } from "./traffic-reads.js";

/** Most clusters one call returns. */
export const MAX_CLUSTERS = 100;
/** Longest span of traffic one call returns: a week. */
export const MAX_TRAFFIC_HOURS = 168;
/** Most tenants one traffic call names. */
export const MAX_TRAFFIC_TENANTS = 500;

function requireTenantId(field: string, id: string): string {
  if (!isTenantId(id)) throw badInput(field, `${field} must be a tenant id, got "${id}".`);

  return id;
}

/** Error clusters and traffic across tenants, for the admin console (global admin only). */
@Resolver()
export class ObservabilityResolver {
  @Query(() => [ErrorClusterType], {
    description:
      "Global admin only. Error clusters, most recently seen first, or the most frequent first with `orderBy: MOST_FREQUENT`.",
  })
  async adminErrorClusters(
    @Ctx() ctx: GatewayContext,
    @Arg("first", () => Int, { defaultValue: 20, description: "1 to 100." }) first: number,
    @Arg("tenantId", () => ID, { nullable: true, description: "Only clusters this tenant met." })
    tenantId?: string | null,
    @Arg("code", () => String, { nullable: true, description: "Only clusters of this code." })
    code?: string | null,
    @Arg("orderBy", () => ErrorClusterOrder, { defaultValue: ErrorClusterOrder.MOST_RECENT })
    orderBy: ErrorClusterOrder = ErrorClusterOrder.MOST_RECENT,
    @Arg("seenWithinHours", () => Int, {
      nullable: true,
      description: `Only clusters seen in the last this many hours (1 to ${MAX_TRAFFIC_HOURS}).`,
    })
    seenWithinHours?: number | null,
  ): Promise<ErrorClusterType[]> {
    if (!Number.isInteger(first) || first < 1 || first > MAX_CLUSTERS) {
      throw badInput("first", `first must be from 1 to ${MAX_CLUSTERS}, got ${first}.`);
    }
    if (
      seenWithinHours != null &&
      (!Number.isInteger(seenWithinHours) ||
        seenWithinHours < 1 ||
        seenWithinHours > MAX_TRAFFIC_HOURS)
    ) {
      throw badInput(
        "seenWithinHours",
        `seenWithinHours must be from 1 to ${MAX_TRAFFIC_HOURS}, got ${seenWithinHours}.`,
      );
    }
    if (code != null && !isErrorCode(code)) {
      throw badInput("code", `code must be one of the contract's error codes, got "${code}".`);
    }
    const filter = {
      first,
      tenantId: tenantId == null ? null : requireTenantId("tenantId", tenantId),
      code: code ?? null,
      orderBy,
      seenWithinHours: seenWithinHours ?? null,
    };
    await recordPlatformAudit(ctx.platform.database.control, {
      actorId: actorOf(ctx.principal),
      action: "error-clusters.list",
      detail: { ...filter },
    });

    return listErrorClusters(ctx.platform.database.control, {
      ...filter,
      seenSince:
        filter.seenWithinHours === null
          ? null
          : new Date(Date.now() - filter.seenWithinHours * 3_600_000),
    });
  }

  @Query(() => [TenantTrafficSeriesType], {
    description:
      "Global admin only. Requests, errors and p95 latency per five-minute window over the last `hours`, one series per tenant: the tenants named, or every tenant with traffic in that span. Windows without requests are left out.",
  })
  async adminTraffic(
    @Ctx() ctx: GatewayContext,
    @Arg("hours", () => Int, { defaultValue: 24, description: "1 to 168." }) hours: number,
    @Arg("tenantIds", () => [ID], { nullable: true }) tenantIds?: string[] | null,
  ): Promise<TenantTrafficSeriesType[]> {
    if (!Number.isInteger(hours) || hours < 1 || hours > MAX_TRAFFIC_HOURS) {
      throw badInput("hours", `hours must be from 1 to ${MAX_TRAFFIC_HOURS}, got ${hours}.`);
    }
    if (tenantIds && tenantIds.length > MAX_TRAFFIC_TENANTS) {
      throw badInput("tenantIds", `tenantIds may name at most ${MAX_TRAFFIC_TENANTS} tenants.`);
    }
    const named = tenantIds
      ? [...new Set(tenantIds.map((id) => requireTenantId("tenantIds", id)))]
      : null;
    await recordPlatformAudit(ctx.platform.database.control, {
      actorId: actorOf(ctx.principal),
      action: "traffic.read",
      detail: { hours, tenantIds: named },
    });

    return readTrafficSeries(ctx.platform.database.control, named, hours, Date.now());
  }
}
