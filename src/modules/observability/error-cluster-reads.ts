import type { PrismaClient } from "../../generated/prisma/client.js";
import type { ErrorClusterType } from "./observability-types.js";

export interface ClusterFilter {
  /** At most this many clusters, newest `lastSeen` first. */
  readonly first: number;
  /** Only clusters this tenant met. */
  readonly tenantId: string | null;
  /** Only clusters of this contract code. */
  readonly code: string | null;
}

/** The error clusters that match, each with the tenants that met it, most recent first. */
export async function listErrorClusters(
  control: PrismaClient,
  filter: ClusterFilter,
): Promise<ErrorClusterType[]> {
  const clusters = await control.errorCluster.findMany({
    where: {
      ...(filter.code ? { code: filter.code } : {}),
      ...(filter.tenantId ? { tenants: { some: { tenantId: filter.tenantId } } } : {}),
    },
    orderBy: [{ lastSeen: "desc" }, { fingerprint: "asc" }],
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
