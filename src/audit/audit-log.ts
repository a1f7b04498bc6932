import type { Prisma } from "../generated/prisma/client.js";
import type { TenantTransaction } from "../data/index.js";
import { newId } from "../modules/common/ids.js";

export interface AuditEntry {
  /** Who acted: a tenant user id, or `platform:<sub>` for staff. */
  actorId: string | null;
  /** What happened, written `area.verb`, e.g. `user.create`. */
  action: string;
  /** The id of what was acted on. */
  target?: string;
  /** Details that help a reader; never secrets. */
  detail?: Record<string, unknown>;
}

/** Writes a tenant audit row inside the caller's tenant-bound transaction. */
export async function recordTenantAudit(
  tx: TenantTransaction,
  tenantId: string,
  entry: AuditEntry,
): Promise<void> {
  await tx.auditLog.create({
    data: {
      tenantId,
      id: newId(),
      actorId: entry.actorId,
      action: entry.action,
      target: entry.target ?? null,
      detail: (entry.detail ?? {}) as object,
    },
  });
}

/**
 * Writes a platform audit row: every global admin action lands here.
 * `control` is the control client or one of its transactions.
 */
export async function recordPlatformAudit(
  control: Prisma.TransactionClient,
  entry: AuditEntry & { tenantId?: string | null },
): Promise<void> {
  await control.platformAuditLog.create({
    data: {
      id: newId(),
      actorId: entry.actorId ?? "unknown",
      action: entry.action,
      tenantId: entry.tenantId ?? null,
      detail: (entry.detail ?? {}) as object,
    },
  });
}

/** How an actor is written in audit rows. */
export function actorOf(
  principal: { userId: string; isGlobalAdmin: boolean } | null,
): string | null {
  if (!principal) return null;

  return principal.isGlobalAdmin ? `platform:${principal.userId}` : principal.userId;
}
