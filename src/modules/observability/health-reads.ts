import { Prisma, type PrismaClient } from "../../generated/prisma/client.js";
import { SERVER_FAILURE_CODES } from "../../telemetry/server-failures.js";
import type { TenantLastErrorType } from "./observability-types.js";

/** Each tenant's share of answered probes since `since`; tenants never probed are absent. */
export async function readUptime(
  control: PrismaClient,
  tenantIds: readonly string[],
  since: Date,
): Promise<Map<string, number>> {
  const groups = await control.tenantHealthSample.groupBy({
    by: ["tenantId"],
    where: { tenantId: { in: [...tenantIds] }, minute: { gte: since } },
    _sum: { probes: true, failures: true },
  });
  const uptime = new Map<string, number>();
  for (const group of groups) {
    const probes = group._sum.probes ?? 0;
    if (probes > 0) uptime.set(group.tenantId, (probes - (group._sum.failures ?? 0)) / probes);
  }

  return uptime;
}

/**
 * Each tenant's newest server-side failure (see SERVER_FAILURE_CODES),
 * with its cluster's code and message. Client errors (bad input, no token,
 * rate limits) anyone can cause are left out: they say nothing about the
 * tenant's health.
 */
export async function readLastErrors(
  control: PrismaClient,
  tenantIds: readonly string[],
): Promise<Map<string, TenantLastErrorType>> {
  if (tenantIds.length === 0) return new Map();
  const rows = await control.$queryRaw<
    {
      tenantId: string;
      lastSeen: Date;
      lastRequestId: string;
      fingerprint: string;
      code: string;
      message: string;
    }[]
  >(Prisma.sql`
    SELECT DISTINCT ON (share."tenantId")
           share."tenantId", share."lastSeen", share."lastRequestId",
           cluster.fingerprint, cluster.code, cluster.message
      FROM "ErrorClusterTenant" share
      JOIN "ErrorCluster" cluster ON cluster.fingerprint = share.fingerprint
     WHERE share."tenantId" IN (${Prisma.join([...tenantIds])})
       AND cluster.code IN (${Prisma.join([...SERVER_FAILURE_CODES])})
     ORDER BY share."tenantId", share."lastSeen" DESC`);

  return new Map(
    rows.map((row) => [
      row.tenantId,
      {
        code: row.code,
        message: row.message,
        at: row.lastSeen,
        fingerprint: row.fingerprint,
        requestId: row.lastRequestId,
      },
    ]),
  );
}
