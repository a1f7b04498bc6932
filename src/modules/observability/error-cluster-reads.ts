import type { PrismaClient } from "../../generated/prisma/client.js";
import { ErrorClusterOrder, type ErrorClusterType } from "./observability-types.js";

export interface ClusterFilter {
  /** At most this many clusters. */
  readonly first: number;
  readonly orderBy: ErrorClusterOrder;
  /** Only clusters seen at or after this time (by the tenant, when one is named). */
  readonly seenSince: Date | null;
  /** Only clusters this tenant met, with its share of them. */
  readonly tenantId: string | null;
  /** Only clusters of this contract code. */
  readonly code: string | null;
}

const TENANTS_OF_CLUSTER = {
  select: { tenantId: true },
  orderBy: [{ lastSeen: "desc" as const }, { tenantId: "asc" as const }],
};

/**
 * One tenant's clusters as that tenant met them: count, firstSeen and
 * lastSeen of its share (ErrorClusterTenant), ordered and filtered by
 * them, with the share's latest request id as the sample. The cluster's
 * tenants are all those that met it.
 */

/** The same order for whole clusters and for one tenant's shares (both hold count and lastSeen). */
function orderOf(order: ErrorClusterOrder) {
  return order === ErrorClusterOrder.MOST_FREQUENT
    ? [{ count: "desc" as const }, { lastSeen: "desc" as const }, { fingerprint: "asc" as const }]
    : [{ lastSeen: "desc" as const }, { fingerprint: "asc" as const }];
}

async function listTenantClusters(
  control: PrismaClient,
  tenantId: string,
  filter: ClusterFilter,
): Promise<ErrorClusterType[]> {
  const shares = await control.errorClusterTenant.findMany({
    where: {
      tenantId,
      ...(filter.code ? { cluster: { code: filter.code } } : {}),
      ...(filter.seenSince ? { lastSeen: { gte: filter.seenSince } } : {}),
    },
    orderBy: orderOf(filter.orderBy),
    take: filter.first,
    include: { cluster: { include: { tenants: TENANTS_OF_CLUSTER } } },
  });

  return shares.map(({ cluster, count, firstSeen, lastSeen, lastRequestId }) => ({
    fingerprint: cluster.fingerprint,
    code: cluster.code,
    operation: cluster.operation,
    path: cluster.path,
    message: cluster.message,
    count: Number(count),
    firstSeen,
    lastSeen,
    tenants: cluster.tenants.map((share) => share.tenantId),
    tenantCount: cluster.tenants.length,
    sampleRequestIds: [lastRequestId],
  }));
}

/**
 * The error clusters that match, each with the tenants that met it, in the
 * order asked. Filtered by a tenant, each cluster shows that tenant's share.
 */
export async function listErrorClusters(
  control: PrismaClient,
  filter: ClusterFilter,
): Promise<ErrorClusterType[]> {
  if (filter.tenantId) return listTenantClusters(control, filter.tenantId, filter);

  const clusters = await control.errorCluster.findMany({
    where: {
      ...(filter.code ? { code: filter.code } : {}),
      ...(filter.seenSince ? { lastSeen: { gte: filter.seenSince } } : {}),
    },
    orderBy: orderOf(filter.orderBy),
    take: filter.first,
    include: { tenants: TENANTS_OF_CLUSTER },
  });

  return clusters.map(({ tenants, count, ...cluster }) => ({
    ...cluster,
    count: Number(count),
    tenants: tenants.map((share) => share.tenantId),
    tenantCount: tenants.length,
  }));
}
