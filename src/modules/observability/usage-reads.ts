import type { PrismaClient } from "../../generated/prisma/client.js";

/** What billing counts for a tenant in one month. */
export interface PeriodUsage {
  readonly requests: number;
  readonly errors: number;
  readonly queryCost: number;
}

export const NO_USAGE: PeriodUsage = { requests: 0, errors: 0, queryCost: 0 };

/** Each tenant's counted usage in `period`; tenants with none are absent. */
export async function readPeriodUsage(
  control: PrismaClient,
  tenantIds: readonly string[],
  period: string,
): Promise<Map<string, PeriodUsage>> {
  const rows = await control.tenantUsagePeriod.findMany({
    where: { tenantId: { in: [...tenantIds] }, period },
  });

  return new Map(
    rows.map((row) => [
      row.tenantId,
      {
        requests: Number(row.requests),
        errors: Number(row.errors),
        queryCost: Number(row.queryCost),
      },
    ]),
  );
}

/** Bytes of each tenant's stored files, from the file ledger; tenants with none are absent. */
export async function readStorageBytes(
  control: PrismaClient,
  tenantIds: readonly string[],
): Promise<Map<string, number>> {
  const groups = await control.storedFile.groupBy({
    by: ["tenantId"],
    where: { tenantId: { in: [...tenantIds] } },
    _sum: { bytes: true },
  });

  return new Map(groups.map((group) => [group.tenantId, Number(group._sum.bytes ?? 0n)]));
}
