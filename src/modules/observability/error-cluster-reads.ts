import type { PrismaClient } from "../../generated/prisma/client.js";
import { ErrorClusterOrder, type ErrorClusterType } from "./observability-types.js";

export interface ClusterFilter {
  /** At most this many clusters. */
  readonly first: number;
  readonly orderBy: ErrorClusterOrder;
  /** Only clusters seen at or after this time. */
  readonly seenSince: Date | null;
  /** Only clusters this tenant met. */
  readonly tenantId: string | null;
  /** Only clusters of this contract code. */
  readonly code: string | null;
}

/** The error clusters that match, each with the tenants that met it, in the order asked. */
export async function listErrorClusters(
  control: PrismaClient,
  filter: ClusterFilter,
): Promise<ErrorClusterType[]> {
  const clusters = await control.errorCluster.findMany({
    where: {
      ...(filter.code ? { code: filter.code } : {}),
      ...(filter.tenantId ? { tenants: { some: { tenantId: filter.tenantId } } } : {}),
      ...(filter.seenSince ? { lastSeen: { gte: filter.seenSince } } : {}),
    },
    orderBy:
      filter.orderBy === ErrorClusterOrder.MOST_FREQUENT
        ? [{ count: "desc" }, { lastSeen: "desc" }, { fingerprint: "asc" }]
        : [{ lastSeen: "desc" }, { fingerprint: "asc" }],
    take: filter.first,
    include: {
      tenants: { select: { tenantId: true }, orderBy: [{ lastSeen: "desc" }, { tenantId: "asc" }] },
    },
  });

  return clusters.map(({ tenants, count, ...cluster }) => ({
    ...cluster,
    count: Number(count),
    tenants: tenants.map((share) => share.tenantId),
    tenantCount: tenants.length,
  }));
}
